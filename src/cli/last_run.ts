/**
 * What the CLI remembers about the previous run of a data dir (`<data-dir>/last_run.json`): when it
 * finished, and the time zone rows were loaded with. It words "nothing new since …", warns when
 * `--timezone` changes, and lets `doctor` say when runs have stopped.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic_write.ts";
import { dataDirLayout } from "../state/data_dir.ts";
import type { RunSummary } from "../pipeline/run_pipeline.ts";

/** The remembered run. */
export interface LastRun {
  schema_version: 1;
  run_id: string;
  status: RunSummary["status"];
  /** When it finished (ISO 8601). */
  finished_at: string;
  /** The zone of `event_date` in the rows loaded so far, or null before any row was loaded. */
  time_zone: string | null;
}

/** Path of the file under a data dir. */
export function lastRunPath(dataDir: string): string {
  return dataDirLayout(dataDir).lastRun;
}

/**
 * Reads the last run of `dataDir`; null when there is none or the file cannot be used (it only
 * informs messages, so it never fails a command).
 */
export async function readLastRun(dataDir: string): Promise<LastRun | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(lastRunPath(dataDir)));
    if (typeof value?.finished_at !== "string" || Number.isNaN(Date.parse(value.finished_at))) return null;
    return value as LastRun;
  } catch {
    return null;
  }
}

/** Statuses after which the run's input is recorded (its state was committed). */
const COMMITTED: ReadonlySet<RunSummary["status"]> = new Set([
  "completed",
  "nothing_new",
  "staged",
  "stopped_daily_quota",
]);

/**
 * Records a finished run when it committed (a dry run or a run stopped before Stage 3 is not one).
 *
 * @param dataDir The data dir.
 * @param summary The run's summary.
 * @param options The zone the run used, the previous record, and the finish time in ms.
 */
export async function recordRun(
  dataDir: string,
  summary: RunSummary,
  options: { timeZone: string; previous: LastRun | null; now: number },
): Promise<void> {
  if (!COMMITTED.has(summary.status)) return;
  const loadedRows = summary.status !== "nothing_new";
  const record: LastRun = {
    schema_version: 1,
    run_id: summary.runId,
    status: summary.status,
    finished_at: new Date(options.now).toISOString(),
    time_zone: loadedRows ? options.timeZone : options.previous?.time_zone ?? null,
  };
  await writeFileAtomic(lastRunPath(dataDir), JSON.stringify(record, null, 2));
}
