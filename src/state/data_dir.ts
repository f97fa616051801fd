/**
 * The data dir's layout, in one place: every path ccpipe writes under `--data-dir` is spelled here, and
 * so are the dir's privacy (0700, files 0600, whatever the umask) and its housekeeping (old run folders
 * and temp files left by a killed process).
 *
 * @module
 */
import { join } from "node:path";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../io/atomic_write.ts";

export { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE };

/** Where each part of a data dir lives. */
export interface DataDirLayout {
  root: string;
  /** The DuckDB database. */
  database: string;
  /** The optional config file. */
  config: string;
  /** The run lock (an OS lock on this file). */
  lock: string;
  /** What the CLI remembers of the last run (when it finished, its time zone). */
  lastRun: string;
  /** Output of scheduled runs (cron). */
  scheduleLog: string;
  /** Stage 4's answer cache. */
  geminiCache: string;
  /** One folder per run: manifest, summary, staged tables. */
  runs: string;
  /** Watermarks, the dedupe set, turn counters, pending prompts, BigQuery job budgets. */
  state: string;
  /** The folder of one run. */
  runDir(runId: string): string;
}

/**
 * The layout of the data dir at `root`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataDirLayout } from "./data_dir.ts";
 *
 * assert.equal(dataDirLayout("/d").runDir("r1"), "/d/runs/r1");
 * assert.equal(dataDirLayout("/d").database, "/d/ccpipe.duckdb");
 * ```
 */
export function dataDirLayout(root: string): DataDirLayout {
  const runs = join(root, "runs");
  return {
    root,
    database: join(root, "ccpipe.duckdb"),
    config: join(root, "config.json"),
    lock: join(root, ".lock"),
    lastRun: join(root, "last_run.json"),
    scheduleLog: join(root, "schedule.log"),
    geminiCache: join(root, "cache", "gemini"),
    runs,
    state: join(root, "state"),
    runDir: (runId) => join(runs, runId),
  };
}

/**
 * Creates `dir` (and its parents) and sets it to {@linkcode PRIVATE_DIR_MODE}, whatever the umask.
 *
 * @param dir The folder.
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await Deno.chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes the data dir private: the root 0700 and the files directly in it (the database, its WAL, the
 * config) 0600. Files ccpipe writes itself are created 0600; DuckDB creates its own with the umask.
 *
 * @param layout The data dir.
 */
export async function makeDataDirPrivate(layout: DataDirLayout): Promise<void> {
  await makePrivateDir(layout.root);
  for await (const entry of Deno.readDir(layout.root)) {
    const path = join(layout.root, entry.name);
    if (entry.isFile) await Deno.chmod(path, PRIVATE_FILE_MODE);
    else if (entry.isDirectory) await Deno.chmod(path, PRIVATE_DIR_MODE);
  }
}

/** Options of {@linkcode pruneDataDir}. */
export interface PruneOptions {
  /** Run folders kept, newest first (run ids sort by start time). @default {30} */
  keepRuns?: number;
  /** A `*.tmp` file older than this is an orphan of a killed write. @default {3_600_000} */
  tempAgeMs?: number;
  /** The current time in ms. */
  now: number;
  /** A run folder that must stay (the current run). */
  keep?: string;
}

/**
 * Removes run folders beyond the newest `keepRuns` and orphaned `*.tmp` files (from writes killed before
 * their rename) under `runs/`, `state/` and the cache. Call it while holding the run lock.
 *
 * @param layout The data dir.
 * @param options How much to keep.
 * @returns How many run folders and temp files were removed.
 */
export async function pruneDataDir(
  layout: DataDirLayout,
  options: PruneOptions,
): Promise<{ runs: number; temps: number }> {
  const { keepRuns = 30, tempAgeMs = 3_600_000, now } = options;
  const runIds = (await list(layout.runs)).filter((e) => e.isDirectory).map((e) => e.name).sort();
  let runs = 0;
  for (const id of runIds.slice(0, Math.max(0, runIds.length - keepRuns))) {
    if (id === options.keep) continue;
    await Deno.remove(layout.runDir(id), { recursive: true }).catch(() => {});
    runs++;
  }
  let temps = 0;
  for (const dir of [layout.state, layout.geminiCache, layout.root]) {
    temps += await removeTemps(dir, now - tempAgeMs, dir === layout.geminiCache ? 1 : 0);
  }
  return { runs, temps };
}

async function removeTemps(dir: string, before: number, depth: number): Promise<number> {
  let removed = 0;
  for (const entry of await list(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && depth > 0) removed += await removeTemps(path, before, depth - 1);
    if (!entry.isFile || !entry.name.endsWith(".tmp")) continue;
    const info = await Deno.stat(path).catch(() => null);
    if (info && (info.mtime?.getTime() ?? 0) < before) {
      await Deno.remove(path).catch(() => {});
      removed++;
    }
  }
  return removed;
}

async function list(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return entries;
}
