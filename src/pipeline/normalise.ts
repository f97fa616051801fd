/**
 * The normalise phase: files prepared (src/pipeline/prepare.ts, on one thread or several) merged in
 * file order into table rows — `messages` and `rejects` as they come, then `usage` and `sessions` —
 * deciding what needs the whole run's state on this one thread: duplicates, turns, usage per API
 * response and sessions. Every line and record is counted for the reconciliation.
 *
 * @module
 */
import { faultPoint } from "../fault_point.ts";
import type { MessageRow, RejectRow, SessionRow, UsageRow, Watermark } from "../schema/mod.ts";
import { admitRecord, type CleanStats, createCleanStats } from "../stages/clean.ts";
import { advanceTurn, SessionAccumulator } from "../stages/identify.ts";
import { UsageAccumulator } from "../stages/usage.ts";
import type { FingerprintSet } from "../state/fingerprint_set.ts";
import { MessageCursor, type PreparedChunk } from "./prepare.ts";
import { countNotes } from "./row_guard.ts";

/** `messages` rows already serialised (NDJSON, UTF-8), in input order. */
export interface RowBlock {
  /** The rows: a view the next block reuses (write or copy them before taking the next package row). */
  bytes: Uint8Array;
  rows: number;
  /** The longest row's size in bytes. */
  maxRowBytes: number;
  /** Values the row guard replaced in these rows, per `messages.column`. */
  sanitised: Record<string, number>;
}

/** One row of the load package, tagged with its table. */
export type PackageRow =
  | { table: "messages"; row: MessageRow }
  /** Rows of `messages`, serialised. */
  | { table: "messages"; block: RowBlock }
  /** A typed prompt whose row is in a block already: for Stage 4 and the pending list only. */
  | { table: "prompt"; row: MessageRow }
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
  /** Sees every message row's kind, text and project (Stage 4's prefilter learns the user's vocabulary). */
  onMessage?: (row: Pick<MessageRow, "kind" | "text" | "project">) => void;
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
 * Merges prepared files into table rows, counting into `counts`.
 *
 * @param chunks The prepared files' chunks, in file order (a file's chunks in order).
 * @param options Run id, stage, and the state to update.
 * @param counts Filled as rows are consumed; complete when the generator ends.
 * @returns `messages` (blocks of serialised rows, and each typed prompt's row) and `rejects` rows in
 * input order, then `usage` and `sessions` rows.
 */
export async function* normalise(
  chunks: AsyncIterable<PreparedChunk>,
  options: NormaliseOptions,
  counts: RunCounts,
): AsyncGenerator<PackageRow> {
  const { runId, untilStage } = options;
  // A line that yields two items (a stub and the record glued after it) is one line: count it once.
  let lastFile = -1, lastLine = -1;
  let filesDone = 0;
  const usage = new UsageAccumulator(runId);
  const sessions = new SessionAccumulator(runId);
  const state = { seen: options.seen, usage, stats: counts.clean };
  let out = new Uint8Array(0);
  for await (const chunk of chunks) {
    const { items, bytes } = chunk;
    const cursor = new MessageCursor(chunk);
    // The rows that survive, each with its turn written over its `null`.
    const needed = bytes.length + chunk.messages * 16;
    if (out.length < needed) out = new Uint8Array(needed);
    const block: RowBlock = { bytes: out, rows: 0, maxRowBytes: 0, sanitised: {} };
    let length = 0, from = 0, extra = 0, message = 0;
    const prompts: MessageRow[] = [];
    const count = (line: number, reject: boolean) => {
      if (reject) counts.rejects++;
      else counts.records++;
      if (lastFile === chunk.fileIndex && lastLine === line) counts.glued++;
      lastFile = chunk.fileIndex;
      lastLine = line;
    };
    // Rows before a reject go out before it, so the package keeps input order.
    const flushBlock = function* (): Generator<PackageRow> {
      if (block.rows === 0) return;
      yield { table: "messages", block: { ...block, bytes: out.subarray(0, length) } };
      for (const row of prompts) yield { table: "prompt", row };
      prompts.length = 0;
      block.rows = 0;
      block.maxRowBytes = 0;
      block.sanitised = {};
      length = 0;
    };
    for (let next = 0; next <= items.length; next++) {
      const item = items[next];
      for (const upTo = item?.at ?? chunk.messages; message < upTo; message++) {
        const m = cursor.at(message);
        const start = from;
        from = m.end;
        count(m.line, false);
        const usageLine = m.usage();
        if (!admitRecord({ k: "message", uuid: m.uuid, usage: usageLine, where: m }, state)) continue;
        if (untilStage < 3) continue;
        const isPrompt = m.kind === "human_prompt";
        const turn = advanceTurn(options.turns, m.session_id, isPrompt);
        sessions.observeMessage(m, m.toolCount);
        counts.kinds[m.kind] = (counts.kinds[m.kind] ?? 0) + 1;
        if (isPrompt) counts.prompts++;
        options.onMessage?.({ kind: m.kind, text: chunk.texts?.[message] ?? null, project: m.project });
        const rowStart = length;
        out.set(bytes.subarray(start, m.hole), length);
        length += m.hole - start;
        // The turn (or null again) over the row's "null".
        length = writeAscii(out, length, String(turn));
        out.set(bytes.subarray(m.hole + 4, m.end), length);
        length += m.end - m.hole - 4;
        block.rows++;
        if (length - rowStart > block.maxRowBytes) block.maxRowBytes = length - rowStart;
        while (extra < chunk.extras.length && chunk.extras[extra]!.index < message) extra++;
        const extras = chunk.extras[extra];
        if (extras?.index === message) {
          if (extras.notes) countNotes(block.sanitised, "messages", extras.notes);
          if (extras.prompt) {
            extras.prompt.turn = turn;
            prompts.push(extras.prompt);
          }
        }
      }
      if (item === undefined) break;
      if (item.k === "file_done") {
        counts.lines += item.linesRead;
        counts.blank += item.blankLines;
        counts.bytesRead += item.bytesRead;
        counts.watermarks.set(item.watermark.path, item.watermark);
        if (++filesDone === 1) faultPoint("extract");
        continue;
      }
      count(item.line, item.k === "reject");
      if (item.k === "invalid" || item.k === "no_uuid") admitRecord(item, state);
      if (item.k === "no_uuid" && item.meta) sessions.observeMeta(item.meta);
      if (item.k === "invalid" || item.k === "reject") {
        yield* flushBlock();
        yield { table: "rejects", row: { ...item.reject, run_id: runId } };
      }
    }
    yield* flushBlock();
  }
  if (untilStage < 2) return;
  counts.usageRows = usage.size;
  for (const row of usage.rows()) yield { table: "usage", row };
  if (untilStage >= 3) {
    counts.sessions = sessions.size;
    for (const row of sessions.rows()) yield { table: "sessions", row };
  }
}

/** Writes ASCII text at `at`, returning the end. */
function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}
