/**
 * The benchmark harness (`deno task bench`): measures ccpipe's headline claims in one run against the
 * Gemini and BigQuery mocks, prints them beside their targets, writes `bench/results.json`, and exits
 * non-zero when a target is missed. See bench/README.md for what each case measures.
 *
 * Flags: `--cases 1,2,3,4,5,6,7` (default all), `--no-write` (do not write results.json).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { apiCallsCase, fixtureTruth, generatedTruth } from "./_api_calls.ts";
import { ensureCorpus } from "./_corpus.ts";
import { measureMemory, memoryRows } from "./_memory.ts";
import type { MemoryReport } from "./_memory_child.ts";
import { serveMocks } from "./_mock_server.ts";
import { rateLimitedCase } from "./_rate_limited.ts";
import { allPassed, type CaseResult, formatTable } from "./_report.ts";
import { speedupCase } from "./_speedup.ts";
import { throughputCase } from "./_throughput.ts";
import { gigabyteCase, versusCase } from "./_versus.ts";

const FIXTURE = new URL("../fixtures/claude_code_100/projects", import.meta.url).pathname;
const FIXTURE_EXPECTED = new URL("../fixtures/claude_code_100/expected.json", import.meta.url).pathname;
const RESULTS = new URL("./results.json", import.meta.url).pathname;
/** Fixed Gemini mock latency of the headline speedup (a real 15-item Flash-Lite answer takes longer). */
const SPEEDUP_LATENCY_MS = 250;
const MEMORY_SIZES = [1_000, 10_000, 100_000];
const MEMORY_LATENCY_MS = 2;
const THROUGHPUT_MESSAGES = 100_000;
/** About 11 MB: the small corpus of case 6's memory-growth ratio. */
const SMALL_MESSAGES = 10_000;
/** About 1.1 GB (case 7). */
const GIGABYTE_MESSAGES = 1_000_000;

function machine(): Record<string, unknown> {
  let cpu = "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  const memory = Deno.systemMemoryInfo();
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(memory.total / 1024 ** 3 * 10) / 10,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
  };
}

function log(line: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: "string", default: "1,2,3,4,5,6,7" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const cases = new Set(values.cases!.split(",").map((c) => c.trim()));
  const started = performance.now();
  const results: CaseResult[] = [];
  const work = await Deno.makeTempDir({ prefix: "ccpipe_bench_" });
  try {
    {
      await using mocks = await serveMocks();
      if (cases.has("1")) {
        log(`case 1: speedup at ${SPEEDUP_LATENCY_MS} ms (1, 5, 10, 20 workers), then at 100 ms (1, 5)`);
        results.push(...await speedupCase(mocks, { latencyMs: SPEEDUP_LATENCY_MS, iterations: 3 }));
        results.push(
          ...await speedupCase(mocks, { latencyMs: 100, iterations: 2, workers: [1, 5], withTarget: false }),
        );
      }
      if (cases.has("2")) {
        log("case 2: rate-limited throughput");
        results.push(...await rateLimitedCase(mocks));
      }
      if (cases.has("3")) {
        log("case 3: API calls on the fixture and on 10k messages");
        const truth100 = await fixtureTruth(FIXTURE_EXPECTED);
        results.push(...await apiCallsCase(mocks, "claude_code_100", FIXTURE, `${work}/calls100`, truth100));
        const corpus = await ensureCorpus(10_000);
        const truth10k = await generatedTruth(corpus.misspellings);
        results.push(
          ...await apiCallsCase(mocks, "generated 10k", corpus.projects, `${work}/calls10k`, truth10k),
        );
      }
    }
    if (cases.has("4")) {
      const reports: [number, MemoryReport][] = [];
      for (const size of MEMORY_SIZES) {
        const corpus = await ensureCorpus(size);
        log(`case 4: memory at ${size} messages (${corpus.generated ? "generated" : "reused"} corpus)`);
        reports.push([size, await measureMemory(corpus.projects, MEMORY_LATENCY_MS)]);
      }
      results.push(...memoryRows(reports, MEMORY_LATENCY_MS));
    }
    if (cases.has("5")) {
      const corpus = await ensureCorpus(THROUGHPUT_MESSAGES);
      log(`case 5: Stages 0–3 throughput on ${(corpus.stats.bytes / 1e6).toFixed(1)} MB`);
      const rows = await throughputCase(corpus.projects, `${work}/throughput`);
      if (corpus.stats.bytes < 100e6) {
        for (const row of rows) row.how += ` (corpus under 100 MB: ${corpus.stats.bytes} bytes)`;
      }
      results.push(...rows);
    }
    if (cases.has("6")) {
      const large = await ensureCorpus(THROUGHPUT_MESSAGES);
      const small = await ensureCorpus(SMALL_MESSAGES);
      log(`case 6: ccpipe vs ccusage and the floor on ${(large.stats.bytes / 1e6).toFixed(1)} MB`);
      results.push(
        ...await versusCase({ large: large.projects, small: small.projects, workDir: `${work}/versus`, log }),
      );
    }
    if (cases.has("7")) {
      const corpus = await ensureCorpus(GIGABYTE_MESSAGES);
      log(
        `case 7: ccpipe run on ${(corpus.stats.bytes / 1e6).toFixed(0)} MB (${
          corpus.generated ? "generated" : "reused"
        })`,
      );
      results.push(await gigabyteCase(corpus.projects, work));
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(formatTable(results));
  const passed = allPassed(results);
  const missed = results.filter((r) => r.pass === false).map((r) => r.name);
  console.log(
    `\n${passed ? "All targets met" : `Targets missed: ${missed.join("; ")}`} (${seconds.toFixed(0)} s)`,
  );
  if (!values["no-write"]) {
    const report = {
      date: new Date().toISOString(),
      machine: machine(),
      seconds: Math.round(seconds),
      passed,
      missed,
      results,
    };
    await Deno.writeTextFile(RESULTS, JSON.stringify(report, null, 2) + "\n");
    log(`wrote ${RESULTS}`);
  }
  return passed ? 0 : 1;
}

// MSW and the SDKs' keep-alive sockets can keep the process alive: end explicitly.
Deno.exit(await main());
