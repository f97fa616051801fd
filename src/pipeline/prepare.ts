/**
 * The stateless part of Stages 1–3, per file: reads a transcript (Stage 1), checks each record
 * (Stage 2 without its seen-set) and builds and serialises its `messages` row (Stage 3 without the turn
 * counters). Nothing here depends on another file, so files can be prepared on several threads
 * (src/pipeline/prepare_pool.ts); the normalise phase then merges the prepared files in order, deciding
 * duplicates, turns, usage and sessions on one thread.
 *
 * A chunk carries its message records column by column (flat arrays of strings and numbers, no object
 * per record): posting a hundred thousand small objects between threads cost more than preparing them.
 * A row is serialised whole with `"turn":null`; the merge writes the record's turn over that `null`.
 *
 * @module
 */
import type { MachineColumns } from "../io/machine.ts";
import type { FileSystem } from "../io/file_system.ts";
import type { MessageRow, RejectRow, SourceFile, Watermark } from "../schema/mod.ts";
import { checkRecord, type SessionMeta } from "../stages/clean.ts";
import { extract } from "../stages/extract.ts";
import { messageRowOf, type SessionFactsOf } from "../stages/identify.ts";
import type { Inventory } from "../stages/inventory.ts";
import type { UsageLine, UsageWhere } from "../stages/usage.ts";
import { guardAndNote } from "./row_guard.ts";

/** What the merge needs of a Stage 1 event other than a conversation record with a valid envelope. */
export type PreparedEvent =
  /** A record with a uuid whose envelope fails the schema. */
  | { k: "invalid"; line: number; reject: Omit<RejectRow, "run_id"> }
  /** A record without uuid. */
  | { k: "no_uuid"; line: number; type: string; meta: SessionMeta | null }
  /** A record, counted only (a run stopping before Stage 2). */
  | { k: "record"; line: number }
  /** A line Stage 1 rejected. */
  | { k: "reject"; line: number; reject: Omit<RejectRow, "run_id"> }
  /** The file read to its end. */
  | { k: "file_done"; watermark: Watermark; bytesRead: number; linesRead: number; blankLines: number };

/** A {@linkcode PreparedEvent} placed before the message record of index `at` in its chunk. */
export type PreparedItem = PreparedEvent & { at: number };

/** Extras of one message record, by its index in the chunk. */
export interface MessageExtra {
  index: number;
  /** The row itself, for typed prompts (Stage 4 and the pending list take rows). */
  prompt?: MessageRow;
  /** Notes of the row guard, when it changed a value. */
  notes?: string[];
}

/** Part of one file, prepared. A file gives one chunk or more, the last one marked. */
export interface PreparedChunk {
  /** The file's index in the run's list. */
  fileIndex: number;
  path: string;
  /** Input bytes read for this chunk. */
  bytesRead: number;
  last: boolean;
  /** The chunk's conversation records with a valid envelope, in order, column by column. */
  messages: number;
  /** {@linkcode STRING_FIELDS} of each message record. */
  strings: (string | null)[];
  /** {@linkcode INT_FIELDS} of each message record. */
  ints: Int32Array;
  /** {@linkcode USAGE_FIELDS} of each usage line (records point at theirs). */
  usage: (string | number | boolean | null)[];
  extras: MessageExtra[];
  /** Each message record's text, when the run learns vocabulary from them. */
  texts: (string | null)[] | null;
  /** Other events, each placed before the message record of index `at`. */
  items: PreparedItem[];
  /**
   * The message records' `messages` rows, serialised (NDJSON, UTF-8, each with `"turn":null`); a view
   * the next chunk of the file reuses unless prepared with `ownBytes`.
   */
  bytes: Uint8Array;
}

/** Strings of a message record, in the order of {@linkcode PreparedChunk.strings}. */
export const STRING_FIELDS = [
  "uuid",
  "session_id",
  "project",
  "project_id",
  "timestamp",
  "event_date",
  "kind",
  "type",
  "git_branch",
  "cc_version",
] as const;
/** Integers of a message record: its line, where its row ends in the bytes, where its turn's `null`
 * starts, its tool uses and its usage line (-1: none). */
export const INT_FIELDS = ["line", "end", "hole", "tools", "usage"] as const;
/** A usage line's values, in {@linkcode UsageLine}'s order. */
export const USAGE_FIELDS = [
  "messageId",
  "requestId",
  "model",
  "sidechain",
  "uuid",
  "input",
  "output",
  "cacheCreation",
  "cacheRead",
  "cache5m",
  "cache1h",
  "webSearch",
  "webFetch",
  "serviceTier",
  "speed",
] as const satisfies readonly (keyof UsageLine)[];

/** Options of {@linkcode prepareFile}. */
export interface PrepareOptions {
  runId: string;
  /** Last stage to run: below 2 only counts, below 3 builds no rows. */
  untilStage: number;
  promptStatus: "pending" | "skipped_no_llm";
  timeZone?: string;
  machine: MachineColumns;
  /** Send each message row's text along (Stage 4 learns the user's vocabulary from it). */
  withText: boolean;
  /**
   * Give each chunk bytes of its own, to transfer to another thread; else its bytes are a view that the
   * file's next chunk reuses (take what you need before asking for it). @default {false}
   */
  ownBytes?: boolean;
}

const TURN = '"turn":null,';
const TURN_BYTES = new TextEncoder().encode('"turn":');
const COLON = 58;
const LETTER_N = 110;

/** Serialised rows per chunk before a file's next chunk starts: bounds a huge file's memory. */
const CHUNK_BYTES = 4 << 20;

/**
 * Prepares one file, from its watermark on.
 *
 * @param file The file.
 * @param fileIndex Its index in the run's list.
 * @param watermark Its watermark from the last run, if any.
 * @param fs Where it is read from.
 * @param options Run id, stages, prompt status, machine.
 * @param inventory Told about every Stage 1 event.
 * @param signal Stops between chunks of the file.
 * @returns Its chunks, in order, the last one marked.
 */
export async function* prepareFile(
  file: SourceFile,
  fileIndex: number,
  watermark: Watermark | undefined,
  fs: FileSystem,
  options: PrepareOptions,
  inventory: Inventory,
  signal?: AbortSignal,
): AsyncGenerator<PreparedChunk> {
  const { untilStage } = options;
  let bytesRead = 0;
  const progress = {
    fileStarted() {},
    bytesRead: (_: string, n: number) => void (bytesRead += n),
    fileDone() {},
  };
  const chunk = new ChunkBuilder(fileIndex, file.path, options.withText, options.ownBytes === true);
  const take = (last: boolean) => {
    const out = chunk.take(bytesRead, last);
    bytesRead = 0;
    return out;
  };
  const watermarks = new Map(watermark ? [[file.path, watermark]] : []);
  try {
    for await (const event of extract([file], { fs, watermarks, progress, signal })) {
      inventory.observe(event);
      if (event.kind === "reject") {
        chunk.item({ k: "reject", line: event.reject.line_number, reject: event.reject });
      } else if (event.kind === "file_done") {
        const { watermark, bytesRead, linesRead, blankLines } = event;
        chunk.item({ k: "file_done", watermark, bytesRead, linesRead, blankLines });
      } else if (untilStage < 2) chunk.item({ k: "record", line: event.record.line });
      else {
        const raw = event.record;
        const checked = checkRecord(raw);
        if (checked.kind === "invalid") chunk.item({ k: "invalid", line: raw.line, reject: checked.reject });
        else if (checked.kind === "no_uuid") {
          chunk.item({ k: "no_uuid", line: raw.line, type: checked.type, meta: checked.meta });
        } else chunk.message(raw.line, messageRowOf(checked.record, options, null), checked.usage, options);
      }
      if (chunk.byteLength >= CHUNK_BYTES) yield take(false);
    }
    yield take(true);
  } finally {
    chunk.release();
  }
}

/** A buffer for serialised rows, kept between files so each file does not grow its own again. */
let spareBuffer: Uint8Array | null = null;

/** Builds one {@linkcode PreparedChunk}. */
class ChunkBuilder {
  #fileIndex: number;
  #path: string;
  #withText: boolean;
  #strings: (string | null)[] = [];
  #ints: number[] = [];
  #usage: (string | number | boolean | null)[] = [];
  #extras: MessageExtra[] = [];
  #texts: (string | null)[] = [];
  #items: PreparedItem[] = [];
  #count = 0;
  #buffer: Uint8Array;
  #length = 0;
  #encoder = new TextEncoder();
  /** The last usage line added, to skip its repeats (a response's usage is on each of its lines). */
  #lastUsage: UsageLine | null = null;

  #ownBytes: boolean;

  constructor(fileIndex: number, path: string, withText: boolean, ownBytes: boolean) {
    this.#ownBytes = ownBytes;
    this.#fileIndex = fileIndex;
    this.#path = path;
    this.#withText = withText;
    // Taken, not shared: a second file prepared at the same time on this thread allocates its own.
    this.#buffer = spareBuffer ?? new Uint8Array(CHUNK_BYTES + (1 << 20));
    spareBuffer = null;
  }

  /** Gives the buffer back for the next file. */
  release(): void {
    spareBuffer = this.#buffer;
  }

  get byteLength(): number {
    return this.#length;
  }

  item(event: PreparedEvent): void {
    this.#items.push({ ...event, at: this.#count });
  }

  message(line: number, row: MessageRow, usage: UsageLine | null, options: PrepareOptions): void {
    const index = this.#count++;
    let end = 0, hole = 0;
    if (options.untilStage >= 3) {
      const notes = guardAndNote("messages", row as unknown as Record<string, unknown>);
      const extra: MessageExtra = { index };
      if (notes.length > 0) extra.notes = notes;
      if (row.kind === "human_prompt") extra.prompt = row;
      if (extra.notes || extra.prompt) this.#extras.push(extra);
      ({ end, hole } = this.#row(row));
    }
    // In STRING_FIELDS' order (written out: a loop of computed keys cost more than the rest of this).
    this.#strings.push(
      row.uuid,
      row.session_id,
      row.project,
      row.project_id,
      row.timestamp,
      row.event_date,
      row.kind,
      row.type,
      row.git_branch,
      row.cc_version,
    );
    this.#ints.push(line, end, hole, row.tool_names.length, this.#addUsage(usage));
    if (this.#withText) this.#texts.push(row.text);
  }

  take(bytesRead: number, last: boolean): PreparedChunk {
    const chunk: PreparedChunk = {
      fileIndex: this.#fileIndex,
      path: this.#path,
      bytesRead,
      last,
      messages: this.#count,
      strings: this.#strings,
      ints: Int32Array.from(this.#ints),
      usage: this.#usage,
      extras: this.#extras,
      texts: this.#withText ? this.#texts : null,
      items: this.#items,
      bytes: this.#ownBytes ? this.#buffer.slice(0, this.#length) : this.#buffer.subarray(0, this.#length),
    };
    this.#strings = [];
    this.#ints = [];
    this.#usage = [];
    this.#extras = [];
    this.#texts = [];
    this.#items = [];
    this.#count = 0;
    this.#length = 0;
    this.#lastUsage = null;
    return chunk;
  }

  /** Adds a usage line, returning its index, or the previous one's when it only repeats it. */
  #addUsage(usage: UsageLine | null): number {
    if (usage === null) return -1;
    const last = this.#lastUsage;
    // The accumulator would skip a repeat anyway: same response, same key, no larger counts.
    if (
      last !== null && last.messageId === usage.messageId && last.requestId === usage.requestId &&
      last.sidechain === usage.sidechain && last.input === usage.input && last.output === usage.output &&
      last.cacheCreation === usage.cacheCreation && last.cacheRead === usage.cacheRead
    ) return -1;
    this.#lastUsage = usage;
    const index = this.#usage.length / USAGE_FIELDS.length;
    this.#usage.push(
      usage.messageId,
      usage.requestId,
      usage.model,
      usage.sidechain,
      usage.uuid,
      usage.input,
      usage.output,
      usage.cacheCreation,
      usage.cacheRead,
      usage.cache5m,
      usage.cache1h,
      usage.webSearch,
      usage.webFetch,
      usage.serviceTier,
      usage.speed,
    );
    return index;
  }

  /** Appends one row (stamped with the machine already), returning where it ends and where its turn's `null` is. */
  #row(row: MessageRow): { end: number; hole: number } {
    const json = JSON.stringify(row);
    const start = this.#length;
    const end = this.#put(`${json}\n`);
    // Quotes inside values are escaped, so the first `"turn":null,` is the key itself; a UTF-8 offset is
    // never below the UTF-16 one, and equal when nothing before it is past ASCII.
    let hole = start + json.indexOf(TURN) + TURN.length - 5;
    while (
      hole < end &&
      (this.#buffer[hole - 1] !== COLON || this.#buffer[hole] !== LETTER_N || !this.#turnAt(hole))
    ) hole++;
    return { end, hole };
  }

  /** Whether `"turn":` ends just before `at`. */
  #turnAt(at: number): boolean {
    for (let i = 0; i < 7; i++) if (this.#buffer[at - 7 + i] !== TURN_BYTES[i]) return false;
    return true;
  }

  #put(text: string): number {
    // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
    const need = this.#length + text.length * 3;
    if (need > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(need, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#length += this.#encoder.encodeInto(text, this.#buffer.subarray(this.#length)).written;
    return this.#length;
  }
}

/**
 * Reads a chunk's message records one at a time, without an object per record: its properties are
 * the record's session facts (for the session accumulator) and usage place (for the usage accumulator).
 */
export class MessageCursor implements SessionFactsOf, UsageWhere {
  #chunk: PreparedChunk;
  #s = 0;
  #i = 0;

  constructor(chunk: PreparedChunk) {
    this.#chunk = chunk;
  }

  /** Moves to message record `index`. */
  at(index: number): this {
    this.#s = index * STRING_FIELDS.length;
    this.#i = index * INT_FIELDS.length;
    return this;
  }

  get uuid(): string {
    return this.#chunk.strings[this.#s]!;
  }
  get session_id(): string {
    return this.#chunk.strings[this.#s + 1]!;
  }
  get project(): string | null {
    return this.#chunk.strings[this.#s + 2]!;
  }
  get project_id(): string {
    return this.#chunk.strings[this.#s + 3]!;
  }
  get timestamp(): string | null {
    return this.#chunk.strings[this.#s + 4]!;
  }
  get event_date(): string | null {
    return this.#chunk.strings[this.#s + 5]!;
  }
  get kind(): MessageRow["kind"] {
    return this.#chunk.strings[this.#s + 6] as MessageRow["kind"];
  }
  get type(): string {
    return this.#chunk.strings[this.#s + 7]!;
  }
  get git_branch(): string | null {
    return this.#chunk.strings[this.#s + 8]!;
  }
  get cc_version(): string | null {
    return this.#chunk.strings[this.#s + 9]!;
  }
  get line(): number {
    return this.#chunk.ints[this.#i]!;
  }
  /** Where the record's row ends in the chunk's bytes. */
  get end(): number {
    return this.#chunk.ints[this.#i + 1]!;
  }
  /** Where the row's turn (`null`) starts. */
  get hole(): number {
    return this.#chunk.ints[this.#i + 2]!;
  }
  get toolCount(): number {
    return this.#chunk.ints[this.#i + 3]!;
  }

  /** The record's usage line, or null (none, or a repeat of the line before it). */
  usage(): UsageLine | null {
    const index = this.#chunk.ints[this.#i + 4]!;
    if (index < 0) return null;
    const v = this.#chunk.usage;
    const at = index * USAGE_FIELDS.length;
    return {
      messageId: v[at] as string,
      requestId: v[at + 1] as string | null,
      model: v[at + 2] as string,
      sidechain: v[at + 3] as boolean,
      uuid: v[at + 4] as string,
      input: v[at + 5] as number,
      output: v[at + 6] as number,
      cacheCreation: v[at + 7] as number,
      cacheRead: v[at + 8] as number,
      cache5m: v[at + 9] as number | null,
      cache1h: v[at + 10] as number | null,
      webSearch: v[at + 11] as number | null,
      webFetch: v[at + 12] as number | null,
      serviceTier: v[at + 13] as string | null,
      speed: v[at + 14] as string | null,
    };
  }
}
