/**
 * Case 4: memory of the whole pipeline at several corpus sizes, each size in its own process (so one
 * size cannot warm another), with both mocks served by a further process.
 *
 * @module
 */
import type { MemoryReport } from "./_memory_child.ts";
import type { CaseResult } from "./_report.ts";
import { mib, round } from "./_report.ts";
import { serveMocks } from "./_mock_server.ts";

/** Target: JS heap after the run may grow by at most this much from the smallest to the largest size. */
export const HEAP_GROWTH_TARGET = 6 * 1024 * 1024;
/** Target: peak RSS at the largest size over peak RSS at the smallest. */
export const RSS_RATIO_TARGET = 2;

// "deno" from PATH, not Deno.execPath(): `--allow-run=deno` grants the PATH name (here /usr/bin/deno
// links to another file, which the permission would not cover).
const DENO = "deno";
const CHILD_FLAGS = [
  "--v8-flags=--expose-gc",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  "--allow-net=127.0.0.1",
];

/**
 * Runs the memory child once over a corpus against fresh mocks.
 *
 * @param projects The corpus's projects folder.
 * @param latencyMs Fixed Gemini mock latency.
 * @returns The child's report.
 * @throws {Error} When the child fails.
 */
export async function measureMemory(projects: string, latencyMs: number): Promise<MemoryReport> {
  await using mocks = await serveMocks({ latency: { kind: "fixed", ms: latencyMs } });
  const child = new URL("./_memory_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command(DENO, {
    args: ["run", ...CHILD_FLAGS, child, projects, mocks.url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(
      `The memory child failed (${out.code}): ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!) as MemoryReport;
}

/**
 * Builds the memory rows from one report per size (smallest first).
 *
 * @param reports Size in messages → report, smallest first.
 * @param latencyMs The Gemini mock latency used.
 * @returns One row per size, then the two target rows.
 */
export function memoryRows(reports: [number, MemoryReport][], latencyMs: number): CaseResult[] {
  const rows: CaseResult[] = reports.map(([messages, r]) => ({
    name: `4 memory ${messages} messages`,
    measured: `peak RSS ${mib(r.peakRss)}, heap after ${mib(r.heapAfter)} (peak ${mib(r.heapPeak)})`,
    target: "info",
    pass: null,
    how: `Stages 0–4 + DuckDB, then BigQuery sink (same cache); ${(r.bytesRead / 1e6).toFixed(1)} MB, ` +
      `${r.records} records, ${r.geminiCalls} Gemini calls, ${r.seconds.toFixed(1)} s`,
    details: { messages, ...r },
  }));
  const [small, smallReport] = reports[0]!;
  const [large, largeReport] = reports.at(-1)!;
  const growth = largeReport.heapAfter - smallReport.heapAfter;
  const ratio = largeReport.peakRss / smallReport.peakRss;
  const how = `one child process per size (deno --v8-flags=--expose-gc), mocks in another process, ` +
    `Gemini latency ${latencyMs} ms`;
  rows.push({
    name: `4 heap growth ${small}→${large}`,
    measured: `${growth >= 0 ? "+" : ""}${mib(growth)}`,
    target: "≤ 6 MiB",
    pass: growth <= HEAP_GROWTH_TARGET,
    how: `heapUsed after the run after gc() twice; ${how}`,
    details: { growthBytes: growth },
  }, {
    name: `4 peak RSS ${large} / ${small}`,
    measured: `${ratio.toFixed(2)}× (${mib(largeReport.peakRss)} / ${mib(smallReport.peakRss)})`,
    target: `≤ ${RSS_RATIO_TARGET}×`,
    pass: ratio <= RSS_RATIO_TARGET,
    how: `peak RSS = getrusage ru_maxrss (VmHWM) at the end; ${how}`,
    details: { ratio: round(ratio, 3) },
  });
  return rows;
}
