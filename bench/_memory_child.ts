/**
 * Child process of the memory case: runs the whole pipeline once over one corpus and prints one JSON
 * line with its memory. Stages 0–4 with the Gemini mock and the DuckDB sink, then the same input again
 * in a fresh data dir with the same correction cache and the BigQuery sink. Both mocks are served by
 * another process (`_mock_server.ts`), so nothing of theirs is counted here.
 *
 * Run by `_memory.ts` as `deno run --v8-flags=--expose-gc ... bench/_memory_child.ts <projects> <mock url> [all|duckdb|bigquery|stage3]`.
 *
 * @module
 */
import process from "node:process";
import { fakeAuthClient } from "../mocks/bigquery.ts";
import { openDuckDbSink } from "../src/sinks/duckdb.ts";
import { parseBigQueryConfig } from "../src/sinks/bigquery_config.ts";
import { createBigQueryClient, createBigQuerySink } from "../src/sinks/bigquery.ts";
import { runBenchPipeline } from "./_pipeline.ts";

/** What the child reports. */
export interface MemoryReport {
  /** Peak resident set size of the process (`ru_maxrss`, the VmHWM high-water mark), in bytes. */
  peakRss: number;
  /** JS heap used after imports, before the run (after a forced GC), in bytes. */
  heapBefore: number;
  /** JS heap used after both runs (after a forced GC), in bytes. */
  heapAfter: number;
  /** Largest JS heap used seen by a 50 ms sampler during the runs, in bytes. */
  heapPeak: number;
  /** RSS after both runs, in bytes. */
  rssAfter: number;
  /** External memory (ArrayBuffers etc.) after both runs, in bytes. */
  externalAfter: number;
  bytesRead: number;
  records: number;
  prompts: number;
  geminiCalls: number;
  duckdbRows: Record<string, number> | null;
  bigqueryRows: Record<string, number> | null;
  seconds: number;
}

/**
 * Peak RSS of this process in bytes: getrusage's `ru_maxrss`, which Linux fills from the same
 * high-water mark as VmHWM in /proc/self/status (Deno only lets `--allow-all` read /proc/self).
 */
function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass can leave weakly held and finalizable objects for the second.
  gc?.();
  gc?.();
}

/** Which parts run: everything, or one part alone (to find what grows). */
export type MemoryMode = "all" | "duckdb" | "bigquery" | "stage3";

async function main(projects: string, mockUrl: string, mode: MemoryMode): Promise<void> {
  collect();
  const heapBefore = Deno.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, Deno.memoryUsage().heapUsed);
  }, 50);
  const work = await Deno.makeTempDir({ prefix: "ccpipe_bench_mem_" });
  const started = performance.now();
  try {
    const cacheDir = `${work}/cache`;
    const duck = mode === "bigquery" ? null : await runBenchPipeline({
      sources: [projects],
      dataDir: `${work}/duckdb`,
      cacheDir,
      endpoint: mode === "stage3" ? undefined : mockUrl,
      untilStage: mode === "stage3" ? 3 : 4,
      openSink: mode === "stage3" ? null : () => openDuckDbSink(`${work}/duckdb/ccpipe.duckdb`),
    });
    const config = parseBigQueryConfig({
      project: "test-project",
      dataset: "ccpipe_bench",
      endpoint: mockUrl,
      jobPollIntervalMs: 5,
    });
    const bq = mode === "duckdb" || mode === "stage3" ? null : await runBenchPipeline({
      sources: [projects],
      dataDir: `${work}/bigquery`,
      cacheDir,
      endpoint: mockUrl,
      openSink: (runId) =>
        Promise.resolve(createBigQuerySink({
          config,
          runId,
          stateDir: `${work}/bigquery/state`,
          client: createBigQueryClient(config, { authClient: fakeAuthClient() }),
        })),
    });
    clearInterval(sampler);
    collect();
    const usage = Deno.memoryUsage();
    const report: MemoryReport = {
      peakRss: peakRssBytes(),
      heapBefore,
      heapAfter: usage.heapUsed,
      heapPeak,
      rssAfter: usage.rss,
      externalAfter: usage.external,
      bytesRead: (duck ?? bq)!.bytesRead,
      records: (duck ?? bq)!.reconciliation.records.parsed,
      prompts: (duck ?? bq)!.reconciliation.prompts.total,
      geminiCalls: (duck?.stage4?.calls ?? 0) + (bq?.stage4?.calls ?? 0),
      duckdbRows: duck?.tableCounts ?? null,
      bigqueryRows: bq?.tableCounts ?? null,
      seconds: (performance.now() - started) / 1000,
    };
    console.log(JSON.stringify(report));
  } finally {
    clearInterval(sampler);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [projects, mockUrl, mode = "all"] = Deno.args;
  if (!projects || !mockUrl) {
    throw new TypeError("Cannot run the memory child as it needs <projects> <mock url>");
  }
  await main(projects, mockUrl, mode as MemoryMode);
  // The SDKs' keep-alive sockets can hold the process open.
  Deno.exit(0);
}
