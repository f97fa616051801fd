/**
 * A byte-level line splitter for JSON Lines of any length, tracking the byte offset of every line.
 *
 * @module
 */

const LF = 10;
const CR = 13;

/** One line of a byte stream. */
export interface Line {
  /**
   * The line's bytes, without the `"\n"` and without a `"\r"` before it. This may be a view into a
   * source chunk: copy it if the source reuses its buffers and you keep it past the next iteration.
   */
  bytes: Uint8Array;
  /** Byte offset of the line's first byte in the stream (counting from `startOffset`). */
  offset: number;
  /** Byte offset just after the line's `"\n"` (or after the fragment when not terminated). */
  end: number;
  /** 1-based line number (counting from `startLine`). */
  line: number;
  /** `false` only for a last fragment with no `"\n"` after it. */
  terminated: boolean;
}

/** Options for {@linkcode splitLines}. */
export interface SplitLinesOptions {
  /**
   * Byte offset of the source's first byte, so offsets stay absolute when reading resumes mid-file.
   *
   * @default {0}
   */
  startOffset?: number;
  /**
   * Line number of the source's first line.
   *
   * @default {1}
   */
  startLine?: number;
}

/**
 * Splits a stream of byte chunks into lines on `"\n"` (stripping a `"\r"` before it), with no length cap.
 *
 * Splitting happens on bytes, so a multibyte character cut across chunks is never damaged. A line that
 * spans many chunks is collected as a list of slices and copied once, so the cost stays linear in its
 * length. A last fragment without `"\n"` is yielded with `terminated: false` (a writer may still be
 * appending to it); its trailing `"\r"`, if any, is kept because the `"\n"` may follow later.
 *
 * @param source The byte chunks, e.g. from a file read.
 * @param options Where the source starts in its file.
 * @returns The lines, in order.
 * @throws {RangeError} When `startOffset` is negative or `startLine` is below 1.
 *
 * @example Split JSON Lines arriving in arbitrary chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitLines } from "./line_splitter.ts";
 *
 * const bytes = new TextEncoder().encode('{"a":1}\r\n{"b":"é"}\n{"c"');
 * async function* chunks() {
 *   for (let i = 0; i < bytes.length; i += 5) yield bytes.subarray(i, i + 5);
 * }
 * const lines = [];
 * for await (const line of splitLines(chunks())) {
 *   lines.push([line.line, line.offset, new TextDecoder().decode(line.bytes), line.terminated]);
 * }
 * assert.deepEqual(lines, [
 *   [1, 0, '{"a":1}', true],
 *   [2, 9, '{"b":"é"}', true],
 *   [3, 20, '{"c"', false],
 * ]);
 * ```
 */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  options: SplitLinesOptions = {},
): AsyncGenerator<Line> {
  const splitter = new LineSplitter(options);
  for await (const chunk of source) yield* splitter.push(chunk);
  const last = splitter.end();
  if (last) yield last;
}

/**
 * The synchronous core of {@linkcode splitLines}: push chunks, get their complete lines back with no
 * promise per line (for hot loops that read chunks themselves).
 *
 * @example Lines from chunks pushed one at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter } from "./line_splitter.ts";
 *
 * const splitter = new LineSplitter();
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.deepEqual([...splitter.push(new TextEncoder().encode("a\nb"))].map((l) => text(l.bytes)), ["a"]);
 * assert.deepEqual([...splitter.push(new TextEncoder().encode("c\n"))].map((l) => text(l.bytes)), ["bc"]);
 * assert.equal(splitter.end(), undefined);
 * ```
 */
export class LineSplitter {
  #offset: number; // offset of the first byte of the line being collected
  #lineNumber: number;
  // Slices of a line that spans chunks: concatenated once, when its "\n" arrives.
  #pending: Uint8Array[] = [];
  #pendingLength = 0;

  /**
   * Creates a splitter.
   *
   * @param options Where the source starts in its file.
   * @throws {RangeError} When `startOffset` is negative or `startLine` is below 1.
   */
  constructor(options: SplitLinesOptions = {}) {
    const { startOffset = 0, startLine = 1 } = options;
    if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new RangeError(
        `Cannot split lines as 'startOffset' must be a non-negative integer: current value is ${startOffset}`,
      );
    }
    if (!Number.isSafeInteger(startLine) || startLine < 1) {
      throw new RangeError(
        `Cannot split lines as 'startLine' must be a positive integer: current value is ${startLine}`,
      );
    }
    this.#offset = startOffset;
    this.#lineNumber = startLine;
  }

  /**
   * Takes the next chunk and yields the lines it completes. Consume them before pushing again.
   *
   * @param chunk The next bytes of the source.
   * @returns The complete lines, in order.
   */
  *push(chunk: Uint8Array): Generator<Line> {
    let newline = chunk.indexOf(LF);
    if (newline === -1) {
      if (chunk.length > 0) {
        this.#pending.push(chunk);
        this.#pendingLength += chunk.length;
      }
      return;
    }
    let start = 0;
    if (this.#pendingLength > 0) {
      this.#pending.push(chunk.subarray(0, newline));
      const raw = concat(this.#pending, this.#pendingLength + newline);
      this.#pending = [];
      this.#pendingLength = 0;
      const end = this.#offset + raw.length + 1;
      yield { bytes: stripCr(raw), offset: this.#offset, end, line: this.#lineNumber++, terminated: true };
      this.#offset = end;
      start = newline + 1;
      newline = chunk.indexOf(LF, start);
    }
    while (newline !== -1) {
      const end = this.#offset + (newline - start) + 1;
      yield {
        bytes: stripCr(chunk.subarray(start, newline)),
        offset: this.#offset,
        end,
        line: this.#lineNumber++,
        terminated: true,
      };
      this.#offset = end;
      start = newline + 1;
      newline = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingLength += chunk.length - start;
    }
  }

  /**
   * Ends the source: returns the last fragment without `"\n"` (`terminated: false`), if any.
   *
   * @returns The fragment, or undefined.
   */
  end(): Line | undefined {
    if (this.#pendingLength === 0) return undefined;
    const line = {
      bytes: concat(this.#pending, this.#pendingLength),
      offset: this.#offset,
      end: this.#offset + this.#pendingLength,
      line: this.#lineNumber,
      terminated: false,
    };
    this.#pending = [];
    this.#pendingLength = 0;
    return line;
  }
}

function stripCr(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
