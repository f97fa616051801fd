/**
 * The normalise phase: Stage 1's events through Stages 2–3 into table rows (`messages` and `rejects` as
 * they come, then `usage` and `sessions`), counting every line and record for the reconciliation.
 *
 * @module
 */
import { faultPoint } from "../fault_point.ts";
import type { ExtractEvent, MessageRow, RejectRow, SessionRow, UsageRow, Watermark } from "../schema/mod.ts";
import { cleanRecord, type CleanStats, createCleanStats } from "../stages/clean.ts";
import { SessionAccumulator, toMessageRow } from "../stages/identify.ts";
import type { Inventory } from "../stages/inventory.ts";
import { UsageAccumulator } from "../stages/usage.ts";
import type { FingerprintSet } from "../state/fingerprint_set.ts";

/** One row of the load package, tagged with its table. */
export type PackageRow =
  | { table: "messages"; row: MessageRow }
  | { table: "rejects"; row: RejectRow }
  | { table: "usage"; row: UsageRow }
  | { table: "sessions"; row: SessionRow };

/** What the normalise phase counted, filled as its rows are consumed. */
export interface RunCounts {
  lines: number;
  blank: number;
  bytesRead: number;
  records: number;
  rejects: number;
  /** Lines that yielded two events (a stub and the record glued after it). */
  glued: number;
  /** Typed prompts of this run (carried-over ones not included). */
  prompts: number;
  usageRows: number;
  sessions: number;
  kinds: Record<string, number>;
  clean: CleanStats;
  /** The watermarks after this run: the previous ones, updated per file read. */
  watermarks: Map<string, Watermark>;
}

/** Options of {@linkcode normalise}. */
export interface NormaliseOptions {
  runId: string;
  /** Last stage to run: below 2 only counts, below 3 yields no messages. */
  untilStage: number;
  /** The dedupe set and turn counters, updated in place (committed only after the load). */
  seen: FingerprintSet;
  turns: Map<string, number>;
  watermarks: ReadonlyMap<string, Watermark>;
  /** Status of typed prompts: `pending` when Stage 4 runs, else `skipped_no_llm`. */
  promptStatus: "pending" | "skipped_no_llm";
  timeZone?: string;
  /** Told about every event, for the manifest. */
  inventory: Inventory;
  /** Sees every message row (Stage 4's prefilter learns the user's vocabulary from them). */
  onMessage?: (row: MessageRow) => void;
}

/** Returns zeroed counts starting from `watermarks`. */
export function createRunCounts(watermarks: ReadonlyMap<string, Watermark>): RunCounts {
  return {
    lines: 0,
    blank: 0,
    bytesRead: 0,
    records: 0,
    rejects: 0,
    glued: 0,
    prompts: 0,
    usageRows: 0,
    sessions: 0,
    kinds: {},
    clean: createCleanStats(),
    watermarks: new Map(watermarks),
  };
}

/**
 * Turns Stage 1's events into table rows, counting into `counts`.
 *
 * @param events Stage 1's output (`extract()`).
 * @param options Run id, state to update, prompt status and the inventory.
 * @param counts Filled as rows are consumed; complete when the generator ends.
 * @returns `messages` and `rejects` rows in input order, then `usage` and `sessions` rows.
 */
export async function* normalise(
  events: AsyncIterable<ExtractEvent>,
  options: NormaliseOptions,
  counts: RunCounts,
): AsyncGenerator<PackageRow> {
  const { runId, untilStage, inventory } = options;
  // A line that yields two events (a stub and the record glued after it) is one line: count it once.
  let last: { file: string; line: number } | null = null;
  const sameLineAsLast = (file: string, line: number) => last?.file === file && last.line === line;
  let filesDone = 0;
  const usage = new UsageAccumulator(runId);
  const sessions = new SessionAccumulator(runId);
  const cleanOptions = { seen: options.seen, usage, stats: counts.clean, timeZone: options.timeZone };
  // Stage 2 and 3 run per record in this one loop: a generator per stage cost a promise per record each.
  for await (const event of events) {
    inventory.observe(event);
    if (event.kind === "record") {
      counts.records++;
      if (sameLineAsLast(event.record.file, event.record.line)) counts.glued++;
      last = { file: event.record.file, line: event.record.line };
      // Stages 0–1 still read every byte: the manifest and the rejects come from that pass.
      if (untilStage < 2) continue;
      const cleaned = cleanRecord(event.record, cleanOptions);
      if (cleaned === null) continue;
      if (cleaned.kind === "reject") {
        yield { table: "rejects", row: { ...cleaned.reject, run_id: runId } };
      } else if (cleaned.kind === "session_meta") {
        sessions.observeMeta(cleaned.meta);
      } else if (untilStage >= 3) {
        const row = toMessageRow(cleaned.record, {
          runId,
          turns: options.turns,
          promptStatus: options.promptStatus,
          timeZone: options.timeZone,
        });
        sessions.observeMessage(row);
        counts.kinds[row.kind] = (counts.kinds[row.kind] ?? 0) + 1;
        if (row.kind === "human_prompt") counts.prompts++;
        options.onMessage?.(row);
        yield { table: "messages", row };
      }
    } else if (event.kind === "reject") {
      counts.rejects++;
      if (sameLineAsLast(event.reject.source_file, event.reject.line_number)) counts.glued++;
      last = { file: event.reject.source_file, line: event.reject.line_number };
      yield { table: "rejects", row: { ...event.reject, run_id: runId } };
    } else {
      counts.lines += event.linesRead;
      counts.blank += event.blankLines;
      counts.bytesRead += event.bytesRead;
      counts.watermarks.set(event.watermark.path, event.watermark);
      if (++filesDone === 1) faultPoint("extract");
    }
  }
  if (untilStage < 2) return;
  counts.usageRows = usage.size;
  for (const row of usage.rows()) yield { table: "usage", row };
  if (untilStage >= 3) {
    counts.sessions = sessions.size;
    for (const row of sessions.rows()) yield { table: "sessions", row };
  }
}
