/**
 * Case 6: ccpipe against ccusage and against the read-and-parse floor, each a separate process over the
 * same generated corpus, in alternating order so contention on a shared machine falls on both sides of
 * every pair. Also: peak RSS at two corpus sizes, and a rerun with nothing new.
 *
 * @module
 */
import { dirname } from "node:path";
import type { CaseResult } from "./_report.ts";
import { mib, round } from "./_report.ts";
import { defaultPrepareThreads } from "../src/cli/context.ts";

/** Targets of issue 10. */
export const TARGETS = {
  /** ccpipe run (Stages 0–3 into a fresh DuckDB file) ÷ ccusage daily, median of the pairs' ratios. */
  versusCcusage: 2.0,
  /** ccpipe run --sink none (Stages 0–3 staged) ÷ the read-and-parse floor. */
  versusFloor: 1.3,
  /** Peak RSS of a ccpipe run over the large corpus. */
  peakRssBytes: 250 * 1024 * 1024,
  /** Peak RSS over the large corpus ÷ peak RSS over the small one. */
  rssGrowth: 1.15,
  /** Pipeline time (summary `durationMs`) of a rerun with nothing new. */
  rerunMs: 300,
};

/** The ccusage release compared against (20.0.26 is broken on npm). */
export const CCUSAGE = "ccusage@20.0.24";
const TIME = "/usr/bin/time";
const DENO = "deno";
const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const FLOOR = new URL("./_floor.ts", import.meta.url).pathname;
// As the ccpipe tasks run it (deno.json): a small young generation keeps peak RSS ~70 MiB lower.
const CCPIPE_FLAGS = [
  "--v8-flags=--max-semi-space-size=4",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
];

/** One timed process. */
export interface Timed {
  /** Wall time from spawn to exit, in seconds. */
  seconds: number;
  /** Peak RSS of the process tree's largest member (GNU time's `%M`), or null without /usr/bin/time. */
  peakRss: number | null;
  /** User + system CPU seconds of the process and its children (GNU time's `%U + %S`), or null. */
  cpuSeconds: number | null;
  stdout: string;
  /** Why it failed, or null. */
  failure: string | null;
}

let timeAvailable: boolean | undefined;

/**
 * Runs a command to its end, timing it and (through GNU time, when present) taking its peak RSS.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param env Extra environment.
 * @returns Its wall time, peak RSS, stdout and failure reason.
 */
export async function timed(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Timed> {
  timeAvailable ??= await Deno.stat(TIME).then(() => true, () => false);
  const rssFile = timeAvailable ? await Deno.makeTempFile({ prefix: "ccpipe_bench_rss_" }) : null;
  try {
    const started = performance.now();
    const out = await new Deno.Command(rssFile ? TIME : command, {
      args: rssFile ? ["-f", "%M %U %S", "-o", rssFile, command, ...args] : args,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output().catch((error: Error) => error);
    const seconds = (performance.now() - started) / 1000;
    if (out instanceof Error) {
      return { seconds, peakRss: null, cpuSeconds: null, stdout: "", failure: out.message };
    }
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr).trim();
    // GNU time writes "Command exited with non-zero status" first when the command fails.
    const usage = rssFile ? /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(await Deno.readTextFile(rssFile)) : null;
    return {
      seconds,
      peakRss: usage ? Number(usage[1]) * 1024 : null,
      cpuSeconds: usage ? Number(usage[2]) + Number(usage[3]) : null,
      stdout,
      failure: out.success ? null : `exit ${out.code}: ${stderr.split("\n").at(-1)?.slice(0, 200) ?? ""}`,
    };
  } finally {
    if (rssFile) await Deno.remove(rssFile).catch(() => {});
  }
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `ccusage daily --json --offline` over the corpus (CLAUDE_CONFIG_DIR = the folder holding projects/). */
export async function runCcusage(projects: string): Promise<Timed> {
  const run = await timed("npx", ["-y", CCUSAGE, "daily", "--json", "--offline"], {
    CLAUDE_CONFIG_DIR: dirname(projects),
  });
  if (run.failure) return run;
  try {
    const days = (JSON.parse(run.stdout) as { daily?: unknown[] }).daily;
    if (!Array.isArray(days) || days.length === 0) return { ...run, failure: "its JSON held no days" };
  } catch {
    return { ...run, failure: `it printed no JSON: ${run.stdout.slice(0, 120)}` };
  }
  return run;
}

/** `ccpipe run` over the corpus into `dataDir`, parsing its `--json` summary. */
export async function runCcpipe(
  projects: string,
  dataDir: string,
  sink: "duckdb" | "none",
): Promise<Timed & { durationMs: number; status: string }> {
  const args = sink === "none" ? ["--sink", "none", "--until-stage", "3"] : ["--no-llm"];
  const run = await timed(DENO, [
    "run",
    ...CCPIPE_FLAGS,
    MAIN,
    "run",
    "--source",
    projects,
    "--data-dir",
    dataDir,
    "--json",
    ...args,
  ]);
  if (run.failure) throw new Error(`ccpipe run failed (${sink}): ${run.failure}`);
  const summary = JSON.parse(run.stdout) as { durationMs: number; status: string };
  return { ...run, durationMs: summary.durationMs, status: summary.status };
}

/** The floor script over the corpus. */
export async function runFloor(projects: string): Promise<Timed> {
  const run = await timed(DENO, ["run", "--allow-read", FLOOR, projects]);
  if (run.failure) throw new Error(`The floor script failed: ${run.failure}`);
  return run;
}

/** Options of {@linkcode versusCase}. */
export interface VersusOptions {
  /** The ~110 MB corpus's projects folder. */
  large: string;
  /** The ~10 MB corpus's projects folder. */
  small: string;
  /** A scratch folder. */
  workDir: string;
  /** Alternating pairs. @default 3 */
  pairs?: number;
  log?: (line: string) => void;
}

/**
 * Runs case 6: ccusage, ccpipe into DuckDB, the floor and ccpipe staged only, in turn, `pairs` times;
 * then reruns over the last DuckDB data dir, and ccpipe into DuckDB over the small corpus.
 *
 * @param options Corpora, scratch folder, pairs.
 * @returns The rows.
 */
export async function versusCase(options: VersusOptions): Promise<CaseResult[]> {
  const { large, small, workDir, pairs = 3, log = () => {} } = options;
  const mb = await folderBytes(large) / 1e6;
  let dirs = 0;
  const fresh = () => `${workDir}/run${dirs++}`;
  // Warm-up, not counted: npx fetches ccusage once, Deno compiles ccpipe once.
  log("case 6: warm-up (npx fetch, Deno compile)");
  let ccusageFailure = (await runCcusage(large)).failure;
  await runCcpipe(large, fresh(), "none");
  const ccusage: Timed[] = [], duck: Timed[] = [], floor: Timed[] = [], none: Timed[] = [];
  let lastDuckDir = "";
  for (let i = 0; i < pairs; i++) {
    log(`case 6: pair ${i + 1} of ${pairs}`);
    if (!ccusageFailure) {
      const c = await runCcusage(large);
      ccusageFailure = c.failure;
      ccusage.push(c);
    }
    lastDuckDir = fresh();
    duck.push(await runCcpipe(large, lastDuckDir, "duckdb"));
    floor.push(await runFloor(large));
    none.push(await runCcpipe(large, fresh(), "none"));
  }
  log("case 6: reruns with nothing new, then the small corpus");
  const reruns = [];
  for (let i = 0; i < 3; i++) reruns.push(await runCcpipe(large, lastDuckDir, "duckdb"));
  const smallRuns = [];
  for (let i = 0; i < pairs; i++) smallRuns.push(await runCcpipe(small, fresh(), "duckdb"));

  const secs = (runs: Timed[]) => runs.map((r) => r.seconds.toFixed(2)).join(", ");
  // CPU time moves less than wall time when other processes share the cores: reported beside it.
  const cpu = (runs: Timed[]) => {
    const known = runs.map((r) => r.cpuSeconds).filter((c): c is number => c !== null);
    return known.length ? `${median(known).toFixed(2)} s CPU` : "CPU unknown";
  };
  const rows: CaseResult[] = [];
  // ccpipe's default for this machine (CCPIPE_THREADS, when set, reaches the runs too).
  const threads = defaultPrepareThreads((name) => Deno.env.get(name));
  const duckMedian = median(duck.map((r) => r.seconds));
  if (ccusageFailure || ccusage.length === 0) {
    rows.push({
      name: "6 ccpipe run vs ccusage, 110 MB",
      measured: `ccusage could not run: ${ccusageFailure ?? "no runs"}`,
      target: `≤ ${TARGETS.versusCcusage}×`,
      pass: false,
      how: `ccpipe run --no-llm ${duckMedian.toFixed(2)} s (median of ${duck.length}); ` +
        `npx -y ${CCUSAGE} daily --json --offline did not run, so the target is not counted as met`,
      details: { ccpipeSeconds: duck.map((r) => round(r.seconds, 3)), ccusageFailure },
    });
  } else {
    const ratios = duck.map((r, i) => r.seconds / ccusage[i]!.seconds);
    const ratio = median(ratios);
    rows.push({
      name: "6 ccpipe run vs ccusage, 110 MB",
      measured: `${ratio.toFixed(2)}× (${duckMedian.toFixed(2)} s vs ${
        median(ccusage.map((r) => r.seconds)).toFixed(2)
      } s)`,
      target: `≤ ${TARGETS.versusCcusage}×`,
      pass: ratio <= TARGETS.versusCcusage,
      how: `${mb.toFixed(1)} MB; ccpipe run --no-llm into a fresh DuckDB file, ${threads} prepare threads ` +
        `[${secs(duck)}; ${cpu(duck)}] ` +
        `vs npx -y ${CCUSAGE} daily --json --offline [${secs(ccusage)}; ${cpu(ccusage)}]; alternating, ` +
        `median of ${ratios.length} pair ratios; each a separate process (start-up included)`,
      details: {
        prepareThreads: threads,
        ratio: round(ratio, 3),
        ratios: ratios.map((r) => round(r, 3)),
        ccpipeSeconds: duck.map((r) => round(r.seconds, 3)),
        ccusageSeconds: ccusage.map((r) => round(r.seconds, 3)),
        ccusagePeakRss: ccusage.map((r) => r.peakRss),
        ccpipeCpuSeconds: duck.map((r) => r.cpuSeconds),
        ccusageCpuSeconds: ccusage.map((r) => r.cpuSeconds),
      },
    });
  }
  const floorRatios = none.map((r, i) => r.seconds / floor[i]!.seconds);
  const floorRatio = median(floorRatios);
  rows.push({
    name: "6 sink none vs read-and-parse floor",
    measured: `${floorRatio.toFixed(2)}× (${median(none.map((r) => r.seconds)).toFixed(2)} s vs ${
      median(floor.map((r) => r.seconds)).toFixed(2)
    } s)`,
    target: `≤ ${TARGETS.versusFloor}×`,
    pass: floorRatio <= TARGETS.versusFloor,
    how:
      `ccpipe run --sink none --until-stage 3 [${secs(none)}; ${cpu(none)}] vs bench/_floor.ts (read every ` +
      `file, JSON.parse every line) [${secs(floor)}; ${
        cpu(floor)
      }]; alternating with the pairs above, median ` +
      `of pair ratios`,
    details: {
      ratio: round(floorRatio, 3),
      noneSeconds: none.map((r) => round(r.seconds, 3)),
      floorSeconds: floor.map((r) => round(r.seconds, 3)),
      noneCpuSeconds: none.map((r) => r.cpuSeconds),
      floorCpuSeconds: floor.map((r) => r.cpuSeconds),
    },
  });
  const rssOf = (runs: Timed[]) => {
    const known = runs.map((r) => r.peakRss).filter((r): r is number => r !== null);
    return known.length ? median(known) : null;
  };
  const largeRss = rssOf(duck), smallRss = rssOf(smallRuns), noneRss = rssOf(none);
  rows.push({
    name: "6 peak RSS ccpipe run, 110 MB",
    measured: largeRss === null ? "unknown (no /usr/bin/time)" : mib(largeRss),
    target: "≤ 250 MiB",
    pass: largeRss === null ? false : largeRss <= TARGETS.peakRssBytes,
    how: `GNU time %M of ccpipe run --no-llm (DuckDB), median of ${duck.length}; ` +
      `--sink none: ${noneRss === null ? "unknown" : mib(noneRss)}; ccusage: ${
        rssOf(ccusage) === null ? "unknown" : mib(rssOf(ccusage)!)
      }`,
    details: { duckdb: largeRss, none: noneRss, ccusage: rssOf(ccusage) },
  });
  const growth = largeRss !== null && smallRss !== null ? largeRss / smallRss : null;
  rows.push({
    name: "6 peak RSS 110 MB / 10 MB",
    measured: growth === null ? "unknown" : `${growth.toFixed(2)}× (${mib(largeRss!)} / ${mib(smallRss!)})`,
    target: `≤ ${TARGETS.rssGrowth}×`,
    pass: growth !== null && growth <= TARGETS.rssGrowth,
    how: `ccpipe run --no-llm into a fresh DuckDB file; small corpus ${
      (await folderBytes(small) / 1e6).toFixed(1)
    } MB, median of ${smallRuns.length} runs [${secs(smallRuns)}]`,
    details: { ratio: growth === null ? null : round(growth, 3), small: smallRss, large: largeRss },
  });
  const rerunMs = median(reruns.map((r) => r.durationMs));
  const files = await countFiles(large);
  rows.push({
    name: `6 rerun, nothing new, ${files} files`,
    measured: `${(rerunMs / 1000).toFixed(3)} s pipeline, ${
      median(reruns.map((r) => r.seconds)).toFixed(2)
    } s wall`,
    target: `≤ ${TARGETS.rerunMs / 1000} s`,
    pass: rerunMs <= TARGETS.rerunMs && reruns.every((r) => r.status === "nothing_new"),
    how: `ccpipe run --no-llm again over the last DuckDB data dir, 3 times; summary durationMs ` +
      `[${reruns.map((r) => r.durationMs).join(", ")} ms]; statuses ${[
        ...new Set(reruns.map((r) => r.status)),
      ]}`,
    details: { durationMs: reruns.map((r) => r.durationMs), seconds: reruns.map((r) => round(r.seconds, 3)) },
  });
  return rows;
}

/**
 * Case 7: one ccpipe run into DuckDB over a ~1 GB corpus, for its time and peak RSS (no target).
 *
 * @param projects The corpus's projects folder.
 * @param workDir A scratch folder.
 * @returns One row.
 */
export async function gigabyteCase(projects: string, workDir: string): Promise<CaseResult> {
  const bytes = await folderBytes(projects);
  const run = await runCcpipe(projects, `${workDir}/gigabyte`, "duckdb");
  return {
    name: "7 ccpipe run, 1 GB",
    measured: `${run.seconds.toFixed(1)} s (${run.cpuSeconds?.toFixed(1) ?? "?"} s CPU), peak RSS ${
      run.peakRss === null ? "unknown" : mib(run.peakRss)
    }`,
    target: "info",
    pass: null,
    how: `${(bytes / 1e6).toFixed(0)} MB, ${await countFiles(projects)} files; ccpipe run --no-llm into a ` +
      `fresh DuckDB file, one run; status ${run.status}`,
    details: {
      seconds: round(run.seconds, 3),
      cpuSeconds: run.cpuSeconds,
      peakRss: run.peakRss,
      bytes,
      durationMs: run.durationMs,
    },
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory ? await folderBytes(path) : (await Deno.stat(path)).size;
  }
  return total;
}

async function countFiles(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) total += await countFiles(`${dir}/${entry.name}`);
    else if (entry.name.endsWith(".jsonl")) total++;
  }
  return total;
}
