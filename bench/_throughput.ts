/**
 * Case 5: Stages 0–3 throughput on a large generated corpus, staging only and with the DuckDB sink.
 *
 * @module
 */
import { openDuckDbSink } from "../src/sinks/duckdb.ts";
import type { CaseResult } from "./_report.ts";
import { round } from "./_report.ts";
import { runBenchPipeline } from "./_pipeline.ts";
import { defaultPrepareThreads } from "../src/cli/context.ts";

/**
 * Runs Stages 0–3 twice over `projects`: with no sink, then into a fresh DuckDB file.
 *
 * @param projects The corpus's projects folder.
 * @param workDir A scratch folder.
 * @returns One row per sink setting (information only: the issue sets no target).
 */
export async function throughputCase(projects: string, workDir: string): Promise<CaseResult[]> {
  const rows: CaseResult[] = [];
  // As `ccpipe run` would on this machine.
  const threads = defaultPrepareThreads((name) => Deno.env.get(name));
  for (const sink of ["none", "duckdb"] as const) {
    const dataDir = `${workDir}/${sink}`;
    const started = performance.now();
    const summary = await runBenchPipeline({
      sources: [projects],
      dataDir,
      untilStage: 3,
      prepareThreads: threads,
      openSink: sink === "none" ? null : () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    });
    const seconds = (performance.now() - started) / 1000;
    const records = summary.reconciliation.records.parsed;
    const mb = summary.bytesRead / 1e6;
    rows.push({
      name: `5 stages 0–3, sink ${sink}`,
      measured: `${Math.round(records / seconds).toLocaleString("en-US")} records/s, ${
        (mb / seconds).toFixed(1)
      } MB/s`,
      target: "info",
      pass: null,
      how: `${mb.toFixed(1)} MB, ${records} records, ${summary.files} files in ${seconds.toFixed(1)} s ` +
        `(untilStage 3, ${threads} prepare threads, ${
          sink === "none" ? "openSink null: staged NDJSON only" : "loaded into a fresh DuckDB file"
        })`,
      details: {
        sink,
        prepareThreads: threads,
        seconds: round(seconds),
        records,
        bytes: summary.bytesRead,
        files: summary.files,
      },
    });
  }
  return rows;
}
