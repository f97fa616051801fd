/**
 * Stage 1: stream transcript lines into raw records and rejects, reading only what was appended since
 * the last run.
 *
 * @module
 */
import type { FileSystem } from "../io/file_system.ts";
import { LineSplitter } from "../io/line_splitter.ts";
import type { Progress } from "../ports.ts";
import type { ExtractEvent, RawRecord, SourceFile, Watermark } from "../schema/records.ts";
import type { RejectRow } from "../schema/tables.ts";
import { HEAD_HASH_BYTES, headHash } from "../state/watermarks.ts";
import { cutCodePoints, cutUtf8 } from "../io/safe_json.ts";
import { fingerprintHex } from "../ids.ts";

/** Options for {@linkcode extract}. */
export interface ExtractOptions {
  /** Where the files are read from. */
  fs: FileSystem;
  /**
   * Watermarks from the previous run, keyed by path. A file whose bytes before its watermark are
   * unchanged is read from there; any other file is read from the start.
   *
   * @default {new Map()}
   */
  watermarks?: ReadonlyMap<string, Watermark>;
  /**
   * Told when each file starts and ends and as bytes arrive.
   *
   * @default {silentProgress}
   */
  progress?: Progress;
  /** Stops the stage between chunks; the generator then throws `signal.reason`. */
  signal?: AbortSignal;
}

/** A reject without its run id, as Stage 1 yields it. */
export type ExtractReject = Omit<RejectRow, "run_id">;

const PREFIX_BYTES = 200;
const MAX_ERROR_LENGTH = 200;
const OPEN_BRACE = 123;
const QUOTE = 34;

/**
 * Reads each file's new complete lines and yields a `record` per JSON object, a `reject` per line that
 * is not one, and a `file_done` per file carrying its new watermark and line counts.
 *
 * Lines are streamed as bytes, so neither a huge line nor a huge file is held whole beyond the line
 * being parsed. Blank lines are only counted. A line that is not a JSON object is checked for a complete
 * record glued after a truncated stub (an unclean shutdown followed by an append): when the text from
 * some `{"` to the end of the line parses as an object, the stub becomes a reject and the remainder a
 * record on the same line number. A last fragment without `"\n"` is left for a later run (the writer
 * may still be appending), and the watermark stops before it. Record types are never filtered.
 *
 * Counting: `file_done.linesRead` counts complete lines (blank and rejected ones included) and
 * `bytesRead` the bytes of those lines, so both sum across runs to the file's totals. A glued line
 * yields two events (a reject and a record, or two records when the first object was whole), so
 * `linesRead = records + rejects + blankLines - glued lines`; a glued record is the one whose
 * `offset` is after the start of its line, on the same `line` as the event before it.
 *
 * @param files The files to read, e.g. from `discover()`.
 * @param options File system, previous watermarks, progress and abort signal.
 * @returns The events, file by file, in line order.
 * @throws {InputError} When a file cannot be read (from `options.fs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoFileSystem } from "../io/file_system.ts";
 * import { writeTree } from "../testing/write_tree.ts";
 * import { discover } from "./discover.ts";
 * import { extract } from "./extract.ts";
 *
 * await using tree = await writeTree({ "p/s.jsonl": '{"type":"user"}\n{"type":"ass\n{"type":"x"' });
 * const fs = denoFileSystem();
 * const kinds = [];
 * for await (const event of extract(await discover([tree.path], { fs }), { fs })) kinds.push(event.kind);
 * assert.deepEqual(kinds, ["record", "reject", "file_done"]);
 * ```
 */
export async function* extract(
  files: Iterable<SourceFile> | AsyncIterable<SourceFile>,
  options: ExtractOptions,
): AsyncGenerator<ExtractEvent> {
  const { fs, watermarks, progress, signal } = options;
  const decoder = new TextDecoder(); // one decoder for every line: non-fatal, so bad UTF-8 becomes U+FFFD
  if (Array.isArray(files) && progress?.readPlanned) {
    // An estimate: a file whose head changed since its watermark is read again from the start.
    const after = (f: SourceFile) => f.size - (watermarks?.get(f.path)?.offset ?? 0);
    progress.readPlanned(files.length, files.reduce((sum, f) => sum + Math.max(0, after(f)), 0));
  }
  for await (const file of files) {
    signal?.throwIfAborted();
    // A file deleted since discover() (Claude Code's cleanup, a moved session) is skipped, not fatal.
    let vanished = false;
    const start: ResumePoint = await resumePoint(fs, file, watermarks?.get(file.path)).catch((error) => {
      if (!isVanished(error)) throw error;
      vanished = true;
      return { offset: 0, lines: 0 };
    });
    progress?.fileStarted(file.path, Math.max(0, file.size - start.offset));

    let consumedTo = start.offset; // just after the last complete line
    let seenTo = start.offset; // just after the last byte read, pending fragment included
    let linesRead = 0;
    let blankLines = 0;
    // A file whose watermark is at its size (as discover() saw it) has nothing new: not opened again, which
    // is most of a rerun over a thousand unchanged transcripts. Bytes appended since are read next run.
    const unchanged = start.offset > 0 && start.offset === file.size;
    const read = vanished || unchanged
      ? (async function* () {})()
      : untilVanished(fs.read(file.path, { offset: start.offset, signal }), () => {
        vanished = true;
      });
    // Lines are split synchronously per chunk: a promise per line cost more than the splitting. The
    // last fragment without "\n" is never taken (parsed once a later run sees its "\n").
    const splitter = new LineSplitter({ startOffset: start.offset, startLine: start.lines + 1 });
    // The last bytes read, to hash the head of the next watermark without reading them again.
    const tail = new TailBytes(HEAD_HASH_BYTES, start.offset);
    for await (const chunk of read) {
      tail.push(chunk);
      seenTo += chunk.length;
      progress?.bytesRead(file.path, chunk.length);
      for (const line of splitter.push(chunk)) {
        linesRead++;
        consumedTo = line.end;
        const bytes = line.bytes;
        if (isBlank(bytes)) {
          blankLines++;
          continue;
        }
        const text = decoder.decode(bytes);
        let value: unknown;
        let error: string | undefined;
        try {
          value = JSON.parse(text);
          if (!isObject(value)) error = `Expected a JSON object but got ${describe(value)}`;
        } catch (cause) {
          error = shortMessage(cause);
        }
        if (error === undefined) {
          yield { kind: "record", record: toRecord(file.path, line.line, line.offset, bytes.length, value) };
          continue;
        }
        const glued = findGluedRecord(bytes, text);
        if (glued === undefined) {
          yield {
            kind: "reject",
            reject: toReject(file.path, line.line, line.offset, bytes, error, decoder),
          };
          continue;
        }
        const stub = bytes.subarray(0, glued.index);
        const head = parseObject(decoder.decode(stub));
        if (typeof head === "string") {
          const stubError = `Truncated record followed by a complete one: ${head}`;
          yield {
            kind: "reject",
            reject: toReject(file.path, line.line, line.offset, stub, stubError, decoder),
          };
        } else {
          // Two whole objects with the "\n" between them lost: nothing is truncated, keep both.
          yield { kind: "record", record: toRecord(file.path, line.line, line.offset, stub.length, head) };
        }
        yield {
          kind: "record",
          record: toRecord(
            file.path,
            line.line,
            line.offset + glued.index,
            bytes.length - glued.index,
            glued.value,
          ),
        };
      }
    }
    if (vanished) {
      progress?.fileDone(file.path);
      continue;
    }
    const watermark: Watermark = {
      path: file.path,
      size: Math.max(file.size, seenTo),
      mtimeMs: file.mtimeMs,
      offset: consumedTo,
      lines: start.lines + linesRead,
      headHash: consumedTo === start.offset && start.headHash !== undefined
        ? start.headHash
        : await headHash(tail.before(consumedTo) ?? await readBefore(fs, file.path, consumedTo)),
    };
    progress?.fileDone(file.path);
    yield { kind: "file_done", watermark, bytesRead: consumedTo - start.offset, linesRead, blankLines };
  }
}

interface ResumePoint {
  offset: number;
  lines: number;
  /** The hash of the bytes before `offset`, when already known. */
  headHash?: string;
}

/** Where to start reading `file`: its watermark when the bytes before it are unchanged, else 0. */
async function resumePoint(
  fs: FileSystem,
  file: SourceFile,
  mark: Watermark | undefined,
): Promise<ResumePoint> {
  if (mark === undefined || mark.offset === 0 || file.size < mark.offset) return { offset: 0, lines: 0 };
  const hash = await hashBefore(fs, file.path, mark.offset);
  if (hash !== mark.headHash) return { offset: 0, lines: 0 }; // replaced: same path, other bytes
  return { offset: mark.offset, lines: mark.lines, headHash: hash };
}

async function hashBefore(fs: FileSystem, path: string, offset: number): Promise<string> {
  return await headHash(await readBefore(fs, path, offset));
}

/** The up to {@linkcode HEAD_HASH_BYTES} bytes of a file before `offset`: what its head hash covers. */
async function readBefore(fs: FileSystem, path: string, offset: number): Promise<Uint8Array> {
  const from = Math.max(0, offset - HEAD_HASH_BYTES);
  return offset === 0 ? new Uint8Array() : await fs.readRange(path, from, offset - from);
}

/** The last bytes of a stream read from `start`, kept to hash the bytes before a later offset. */
class TailBytes {
  #keep: number;
  #chunks: Uint8Array[] = [];
  /** File offset of the first kept byte. */
  #from: number;
  #to: number;

  constructor(keep: number, start: number) {
    this.#keep = keep;
    this.#from = start;
    this.#to = start;
  }

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#to += chunk.length;
    // Drop whole chunks that the window no longer reaches (the newest one always stays).
    while (this.#chunks.length > 1 && this.#to - this.#from - this.#chunks[0]!.length >= 2 * this.#keep) {
      this.#from += this.#chunks.shift()!.length;
    }
  }

  /** The `keep` bytes before `offset` (fewer at the start of the file), or null when not all were kept. */
  before(offset: number): Uint8Array | null {
    const from = Math.max(0, offset - this.#keep);
    if (from < this.#from || offset > this.#to) return null;
    const out = new Uint8Array(offset - from);
    let at = this.#from;
    for (const chunk of this.#chunks) {
      const lo = Math.max(from, at), hi = Math.min(offset, at + chunk.length);
      if (hi > lo) out.set(chunk.subarray(lo - at, hi - at), lo - from);
      at += chunk.length;
    }
    return out;
  }
}

/** Whether `error` says a file does not exist (any more). */
function isVanished(error: unknown): boolean {
  return (error as { cause?: { name?: string } } | null)?.cause?.name === "NotFound";
}

/** The chunks of `source`, ending quietly (and calling `onVanished`) when its file turns out to be gone. */
async function* untilVanished(
  source: AsyncIterable<Uint8Array>,
  onVanished: () => void,
): AsyncGenerator<Uint8Array> {
  let first = true;
  try {
    for await (const chunk of source) {
      first = false;
      yield chunk;
    }
  } catch (error) {
    if (!first || !isVanished(error)) throw error;
    onVanished();
  }
}

/**
 * Finds the complete object glued after a stub: the last `{"` from which the rest of the line parses
 * as an object. Returns its byte index in the line.
 */
function findGluedRecord(
  bytes: Uint8Array,
  text: string,
): { index: number; value: Record<string, unknown> } | undefined {
  // Candidates are walked in the decoded text (slices are cheap) and, in step, in the bytes: "{" and
  // '"' are ASCII, which UTF-8 decoding never merges or splits, so the n-th "{\"" from the end is the
  // same in both. Scanning backwards, a candidate inside the glued record fails right where its own
  // object closes, so each failed attempt costs about that inner object. The budget, charged with the
  // failure position JSON.parse reports, bounds the worst case: a long stub with nothing glued after it.
  let budget = 8 * bytes.length + (1 << 20);
  let at = text.lastIndexOf('{"');
  let byteAt = lastIndexOfPair(bytes, bytes.length);
  while (at > 0 && byteAt > 0 && budget > 0) {
    const candidate = text.slice(at);
    try {
      const value: unknown = JSON.parse(candidate);
      if (isObject(value)) return { index: byteAt, value };
      budget -= candidate.length;
    } catch (error) {
      const position = /at position (\d+)/.exec(error instanceof Error ? error.message : "");
      budget -= position ? Number(position[1]) + 1 : candidate.length;
    }
    at = text.lastIndexOf('{"', at - 1);
    byteAt = lastIndexOfPair(bytes, byteAt);
  }
  return undefined;
}

/** The index of the last `{"` starting before `before`, or -1. */
function lastIndexOfPair(bytes: Uint8Array, before: number): number {
  if (before <= 0) return -1; // lastIndexOf() would read a negative start as counted from the end
  let at = bytes.lastIndexOf(OPEN_BRACE, before - 1);
  while (at !== -1 && bytes[at + 1] !== QUOTE) at = at === 0 ? -1 : bytes.lastIndexOf(OPEN_BRACE, at - 1);
  return at;
}

function toRecord(file: string, line: number, offset: number, bytes: number, value: unknown): RawRecord {
  const object = value as Record<string, unknown>;
  const type = typeof object.type === "string" ? object.type : "(none)";
  return { file, line, offset, bytes, type, value: object };
}

function toReject(
  file: string,
  line: number,
  offset: number,
  bytes: Uint8Array,
  error: string,
  decoder: TextDecoder,
): ExtractReject {
  return {
    // By content and offset, not path: a moved or copied transcript does not add its rejects again.
    reject_key: `${fingerprintHex(decoder.decode(bytes))}:${offset}`,
    source_file: file,
    line_number: line,
    byte_offset: offset,
    error: truncate(error),
    prefix: decoder.decode(cutUtf8(bytes, PREFIX_BYTES)),
    line_bytes: bytes.length,
  };
}

/** The parsed object, or the reason the text is not one. */
function parseObject(text: string): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : `Expected a JSON object but got ${describe(value)}`;
  } catch (error) {
    return shortMessage(error);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** JSON.parse's message, cut short: V8 quotes a snippet of the input, never let it grow. */
function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 quotes the offending UTF-16 unit: half an emoji is a lone surrogate, which no warehouse takes.
  return truncate(message).toWellFormed();
}

function truncate(message: string): string {
  // By code point: half an emoji would be a lone surrogate, which no warehouse takes.
  return message.length <= MAX_ERROR_LENGTH ? message : `${cutCodePoints(message, MAX_ERROR_LENGTH - 1)}…`;
}

/** Empty or only whitespace; checks byte by byte only when the first byte is whitespace (rare). */
function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13 && b !== 11 && b !== 12) return false;
  }
  return true;
}
