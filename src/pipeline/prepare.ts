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
  /** Each message record's uuid and timestamp. */
  strings: (string | null)[];
  /** {@linkcode INT_FIELDS} of each message record; `*Ref` fields index {@linkcode PreparedChunk.dict}. */
  ints: Int32Array;
  /** The values that repeat from record to record (sessions, projects, days, kinds...), each once. */
  dict: (string | null)[];
  /** Each usage line's message id and request id (records point at their line). */
  usageStrings: (string | null)[];
  /** {@linkcode USAGE_NUMBERS} of each usage line; NaN for null. */
  usageNumbers: Float64Array;
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

/** Integers of a message record: its line, where its row ends in the bytes, where its turn's `null`
 * starts, its tool uses, its usage line (-1: none), then its values kept in the chunk's dictionary. */
export const INT_FIELDS = [
  "line",
  "end",
  "hole",
  "tools",
  "usage",
  "sessionRef",
  "projectRef",
  "projectIdRef",
  "eventDateRef",
  "kindRef",
  "typeRef",
  "gitBranchRef",
  "ccVersionRef",
] as const;
/** Numbers of a usage line: its counts, then its dictionary values and whether it is a sidechain's. */
export const USAGE_NUMBERS = [
  "input",
  "output",
  "cacheCreation",
  "cacheRead",
  "cache5m",
  "cache1h",
  "webSearch",
  "webFetch",
  "modelRef",
  "serviceTierRef",
  "speedRef",
  "sidechain",
] as const;

/** The position of each name in a list of fields. */
function positions<T extends string>(names: readonly T[]): Record<T, number> {
  return Object.fromEntries(names.map((name, i) => [name, i])) as Record<T, number>;
}
const INT = positions(INT_FIELDS);
const USAGE = positions(USAGE_NUMBERS);

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
  /** Serialised rows per chunk before the file's next chunk starts. @default {4 MiB} */
  chunkBytes?: number;
}

const TURN = '"turn":null,';
const TURN_BYTES = new TextEncoder().encode(TURN);

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
  const { untilStage, chunkBytes = CHUNK_BYTES } = options;
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
      if (chunk.byteLength >= chunkBytes) yield take(false);
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
  #dict = new Map<string | null, number>();
  #usageStrings: (string | null)[] = [];
  #usageNumbers: number[] = [];
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
    this.#strings.push(row.uuid, row.timestamp);
    // In INT_FIELDS' order.
    this.#ints.push(
      line,
      end,
      hole,
      row.tool_names.length,
      this.#addUsage(usage),
      this.#ref(row.session_id),
      this.#ref(row.project),
      this.#ref(row.project_id),
      this.#ref(row.event_date),
      this.#ref(row.kind),
      this.#ref(row.type),
      this.#ref(row.git_branch),
      this.#ref(row.cc_version),
    );
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
      dict: [...this.#dict.keys()],
      usageStrings: this.#usageStrings,
      usageNumbers: Float64Array.from(this.#usageNumbers),
      extras: this.#extras,
      texts: this.#withText ? this.#texts : null,
      items: this.#items,
      bytes: this.#ownBytes ? this.#buffer.slice(0, this.#length) : this.#buffer.subarray(0, this.#length),
    };
    this.#strings = [];
    this.#ints = [];
    this.#dict = new Map();
    this.#usageStrings = [];
    this.#usageNumbers = [];
    this.#extras = [];
    this.#texts = [];
    this.#items = [];
    this.#count = 0;
    this.#length = 0;
    this.#lastUsage = null;
    return chunk;
  }

  /** The index of `value` in the chunk's dictionary, added on first sight. */
  #ref(value: string | null): number {
    let ref = this.#dict.get(value);
    if (ref === undefined) this.#dict.set(value, ref = this.#dict.size);
    return ref;
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
    const index = this.#usageStrings.length / 2;
    this.#usageStrings.push(usage.messageId, usage.requestId);
    const orNaN = (value: number | null) => value ?? NaN;
    // In USAGE_NUMBERS' order.
    this.#usageNumbers.push(
      usage.input,
      usage.output,
      usage.cacheCreation,
      usage.cacheRead,
      orNaN(usage.cache5m),
      orNaN(usage.cache1h),
      orNaN(usage.webSearch),
      orNaN(usage.webFetch),
      this.#ref(usage.model),
      this.#ref(usage.serviceTier),
      this.#ref(usage.speed),
      usage.sidechain ? 1 : 0,
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
    let at = start + json.indexOf(TURN);
    while (at < end && !this.#turnAt(at)) at++;
    return { end, hole: at + '"turn":'.length };
  }

  /** Whether `"turn":null,` starts at `at`. */
  #turnAt(at: number): boolean {
    for (let i = 0; i < TURN_BYTES.length; i++) if (this.#buffer[at + i] !== TURN_BYTES[i]) return false;
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
  #strings: (string | null)[];
  #ints: Int32Array;
  #dict: (string | null)[];
  #chunk: PreparedChunk;
  #s = 0;
  #i = 0;

  constructor(chunk: PreparedChunk) {
    this.#chunk = chunk;
    this.#strings = chunk.strings;
    this.#ints = chunk.ints;
    this.#dict = chunk.dict;
  }

  /** Moves to message record `index`. */
  at(index: number): this {
    this.#s = index * 2;
    this.#i = index * INT_FIELDS.length;
    return this;
  }

  get uuid(): string {
    return this.#strings[this.#s]!;
  }
  get timestamp(): string | null {
    return this.#strings[this.#s + 1]!;
  }
  get line(): number {
    return this.#ints[this.#i + INT.line]!;
  }
  /** Where the record's row ends in the chunk's bytes. */
  get end(): number {
    return this.#ints[this.#i + INT.end]!;
  }
  /** Where the row's turn (`null`) starts. */
  get hole(): number {
    return this.#ints[this.#i + INT.hole]!;
  }
  get toolCount(): number {
    return this.#ints[this.#i + INT.tools]!;
  }
  get session_id(): string {
    return this.#dict[this.#ints[this.#i + INT.sessionRef]!]!;
  }
  get project(): string | null {
    return this.#dict[this.#ints[this.#i + INT.projectRef]!]!;
  }
  get project_id(): string {
    return this.#dict[this.#ints[this.#i + INT.projectIdRef]!]!;
  }
  get event_date(): string | null {
    return this.#dict[this.#ints[this.#i + INT.eventDateRef]!]!;
  }
  get kind(): MessageRow["kind"] {
    return this.#dict[this.#ints[this.#i + INT.kindRef]!] as MessageRow["kind"];
  }
  get type(): string {
    return this.#dict[this.#ints[this.#i + INT.typeRef]!]!;
  }
  get git_branch(): string | null {
    return this.#dict[this.#ints[this.#i + INT.gitBranchRef]!]!;
  }
  get cc_version(): string | null {
    return this.#dict[this.#ints[this.#i + INT.ccVersionRef]!]!;
  }

  /** The record's usage line, or null (none, or a repeat of the line before it). */
  usage(): UsageLine | null {
    const index = this.#ints[this.#i + INT.usage]!;
    if (index < 0) return null;
    const strings = this.#chunk.usageStrings, n = this.#chunk.usageNumbers;
    const at = index * USAGE_NUMBERS.length;
    const orNull = (value: number) => Number.isNaN(value) ? null : value;
    return {
      messageId: strings[index * 2]!,
      requestId: strings[index * 2 + 1]!,
      model: this.#dict[n[at + USAGE.modelRef]!]!,
      sidechain: n[at + USAGE.sidechain] === 1,
      uuid: this.uuid,
      input: n[at + USAGE.input]!,
      output: n[at + USAGE.output]!,
      cacheCreation: n[at + USAGE.cacheCreation]!,
      cacheRead: n[at + USAGE.cacheRead]!,
      cache5m: orNull(n[at + USAGE.cache5m]!),
      cache1h: orNull(n[at + USAGE.cache1h]!),
      webSearch: orNull(n[at + USAGE.webSearch]!),
      webFetch: orNull(n[at + USAGE.webFetch]!),
      serviceTier: this.#dict[n[at + USAGE.serviceTierRef]!]!,
      speed: this.#dict[n[at + USAGE.speedRef]!]!,
    };
  }
}
