/**
 * The pending-prompt queue: the typed prompts waiting for Stage 4 (no Gemini key yet, or a per-day quota
 * stop), one NDJSON line each, committed with the rest of the state (`state/pending.<n>.ndjson`).
 *
 * With a warehouse the queue holds no prompt text, so no secret: each line is a {@linkcode PendingRef},
 * the prompt's `uuid` and its `event_date` (the partition BigQuery prunes by), and a run with a key reads
 * the rows back from the warehouse, which is the source of truth (the state commits only after the rows
 * loaded, and a warehouse behind its state is rebuilt together with it). With `--sink none` there is no
 * warehouse: the queue keeps whole `messages` rows, as the staged files under `runs/` (the output of that
 * mode) hold the same text anyway. Queues of whole rows written by earlier versions are read as they are
 * and rewritten as references by the first run with a warehouse.
 *
 * @module
 */
import type { MessageRow } from "../schema/mod.ts";
import { NdjsonWriter, readNdjson } from "../pipeline/staging.ts";
import { splitLines } from "../io/line_splitter.ts";

/** What identifies a waiting prompt in the warehouse. */
export interface PendingRef {
  uuid: string;
  /** The `messages` partition holding the row (null for a row without timestamp). */
  event_date: string | null;
}

/** One line of the queue: a reference, or a whole row (`--sink none`, or a queue from earlier versions). */
export type PendingEntry = PendingRef | MessageRow;

/** Whether `entry` is a whole `messages` row rather than a reference. */
export function isWholeRow(entry: PendingEntry): entry is MessageRow {
  return "kind" in entry;
}

/** The reference of a waiting prompt. */
export function pendingRefOf(entry: PendingEntry): PendingRef {
  return { uuid: entry.uuid, event_date: entry.event_date ?? null };
}

/**
 * Reads the queue's entries in order.
 *
 * @param path The queue file.
 * @returns Each line, parsed.
 */
export function readPendingQueue(path: string): AsyncGenerator<PendingEntry> {
  return readNdjson<PendingEntry>(path);
}

/**
 * Tells whether the queue holds any whole row (prompt text), i.e. is not yet in the reference form.
 *
 * @param path The queue file, or null for no queue.
 * @returns `true` when some line is a whole row.
 */
export async function queueHoldsText(path: string | null): Promise<boolean> {
  if (path === null) return false;
  for await (const entry of readPendingQueue(path)) if (isWholeRow(entry)) return true;
  return false;
}

/** Options of {@linkcode writePendingQueue}. */
export interface WriteQueueOptions {
  /** Write references only (a warehouse holds the rows), or keep whole rows as they come (`--sink none`). */
  refs: boolean;
}

/**
 * Writes a new queue at `target` from the entries of `sources`, in order, private to the user.
 *
 * @param target The file to create (truncated when it exists).
 * @param sources Queue-format files (missing ones are skipped), e.g. the previous queue and this run's prompts.
 * @param options Whether whole rows become references.
 * @returns The number of entries written.
 */
export async function writePendingQueue(
  target: string,
  sources: (string | null)[],
  options: WriteQueueOptions,
): Promise<number> {
  await using writer = await NdjsonWriter.create(target);
  for (const source of sources) {
    if (source === null) continue;
    if (!options.refs) {
      // Entries stay as they are: copied line by line, not parsed (with `--sink none` they are whole rows,
      // ~1 KB each, and parsing and writing them again took ~0.1 s per 10,000 prompts).
      const file = await Deno.open(source, { read: true });
      // The readable closes the file when it ends.
      for await (const line of splitLines(file.readable)) {
        if (line.bytes.length > 0) writer.writeLine(line.bytes);
      }
      continue;
    }
    for await (const entry of readPendingQueue(source)) await writer.write(pendingRefOf(entry));
  }
  return (await writer.close("messages")).rows;
}

/** Options of {@linkcode resolvePendingQueue}. */
export interface ResolveOptions {
  /** Reads the rows of a batch of references from the warehouse (absent ones are left out), or null without one. */
  read: ((refs: PendingRef[]) => Promise<MessageRow[]>) | null;
  /** References per read. @default {5000} */
  batchSize?: number;
  /** Told each reference the warehouse does not hold (read) or that cannot be read without one (no read). */
  onUnresolved: (ref: PendingRef) => void | Promise<void>;
}

/**
 * Yields the waiting prompts of a queue as whole `messages` rows: whole rows as they are, references read
 * back from the warehouse in batches (queue order within each batch).
 *
 * @param path The queue file, or null for none.
 * @param options The warehouse read and where unresolved references go.
 * @returns The rows.
 */
export async function* resolvePendingQueue(
  path: string | null,
  options: ResolveOptions,
): AsyncGenerator<MessageRow> {
  if (path === null) return;
  const batchSize = options.batchSize ?? 5000;
  let batch: PendingRef[] = [];
  const resolve = async function* (refs: PendingRef[]): AsyncGenerator<MessageRow> {
    if (options.read === null) {
      for (const ref of refs) await options.onUnresolved(ref);
      return;
    }
    const rows = new Map((await options.read(refs)).map((row) => [row.uuid, row]));
    for (const ref of refs) {
      const row = rows.get(ref.uuid);
      if (row) yield row;
      else await options.onUnresolved(ref);
    }
  };
  for await (const entry of readPendingQueue(path)) {
    if (isWholeRow(entry)) {
      yield entry;
      continue;
    }
    batch.push(pendingRefOf(entry));
    if (batch.length >= batchSize) {
      yield* resolve(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield* resolve(batch);
}
