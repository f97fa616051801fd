/**
 * A run's load package: one NDJSON file per table under `runs/<run_id>/`, written as rows stream by,
 * so no table is ever held in memory (dlt's load-package idea).
 *
 * @module
 */
import type { TableName } from "../schema/mod.ts";
import type { MachineColumns } from "../io/machine.ts";
import type { StagedTable } from "../sinks/sink.ts";
import { splitLines } from "../io/line_splitter.ts";
import { PRIVATE_FILE_MODE } from "../io/atomic_write.ts";

const FLUSH_BYTES = 1 << 20;
/** The write buffer's size: a flush's worth and room for the row that passes it. */
const BUFFER_BYTES = FLUSH_BYTES + (64 << 10);

/** Appends JSON rows to an NDJSON file with a write buffer. */
export class NdjsonWriter implements AsyncDisposable {
  readonly path: string;
  #file: Deno.FsFile;
  #encoder = new TextEncoder();
  /** Rows encoded and not written yet (bytes, not strings: no row is held twice); allocated at the first row. */
  #buffer = new Uint8Array(0);
  #used = 0;
  #rows = 0;
  #bytes = 0;
  #maxRowBytes = 0;
  #closed = false;
  #stamp?: MachineColumns;

  private constructor(path: string, file: Deno.FsFile, stamp?: MachineColumns) {
    this.path = path;
    this.#file = file;
    this.#stamp = stamp;
  }

  /**
   * Creates (truncating) the file at `path`, private to the user.
   *
   * @param path The NDJSON file.
   * @param stamp Columns set on every row written: the machine (and user) a table's rows come from.
   */
  static async create(path: string, stamp?: MachineColumns): Promise<NdjsonWriter> {
    const file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: true,
      mode: PRIVATE_FILE_MODE,
    });
    return new NdjsonWriter(path, file, stamp);
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends one row. */
  write(row: unknown): Promise<void> {
    const line = `${JSON.stringify(this.#stamp ? { ...row as object, ...this.#stamp } : row)}\n`;
    // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
    this.#reserve(line.length * 3);
    const written = this.#encoder.encodeInto(line, this.#buffer.subarray(this.#used)).written;
    this.#rowAdded(written);
    return Promise.resolve();
  }

  /**
   * Appends one row serialised already (UTF-8 JSON, without its "\n", stamped by whoever built it).
   *
   * @param bytes The row.
   */
  writeLine(bytes: Uint8Array): void {
    this.#reserve(bytes.length + 1);
    this.#buffer.set(bytes, this.#used);
    this.#buffer[this.#used + bytes.length] = 10;
    this.#rowAdded(bytes.length + 1);
  }

  /**
   * Appends rows serialised already (UTF-8 NDJSON, each line ending in "\n", stamped by whoever built
   * them), after the rows buffered before them.
   *
   * @param bytes The rows.
   * @param rows How many rows they are.
   * @param maxRowBytes The longest one's size in bytes.
   */
  writeBlock(bytes: Uint8Array, rows: number, maxRowBytes: number): Promise<void> {
    this.#flushBuffer();
    this.#writeAll(bytes);
    this.#rows += rows;
    if (maxRowBytes > this.#maxRowBytes) this.#maxRowBytes = maxRowBytes;
    return Promise.resolve();
  }

  /** Writes buffered rows to the file. */
  flush(): Promise<void> {
    this.#flushBuffer();
    return Promise.resolve();
  }

  /** Makes room for `need` more bytes in the buffer, writing out what it holds when it must. */
  #reserve(need: number): void {
    if (this.#used + need <= this.#buffer.length) return;
    this.#flushBuffer();
    if (need > this.#buffer.length) this.#buffer = new Uint8Array(Math.max(need, BUFFER_BYTES));
  }

  /** Counts a row of `length` bytes (its "\n" included) just put in the buffer. */
  #rowAdded(length: number): void {
    this.#used += length;
    this.#rows++;
    if (length - 1 > this.#maxRowBytes) this.#maxRowBytes = length - 1;
    if (this.#used >= FLUSH_BYTES) this.#flushBuffer();
  }

  #flushBuffer(): void {
    if (this.#used === 0) return;
    this.#writeAll(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
    // A buffer grown for one huge row is not kept for the rows after it.
    if (this.#buffer.length > BUFFER_BYTES) this.#buffer = new Uint8Array(0);
  }

  #writeAll(bytes: Uint8Array): void {
    // Synchronous, like the reads (src/io/file_system.ts): a 1 MiB write to the page cache is quicker
    // than the event-loop hop an async write costs.
    let written = 0;
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
    this.#bytes += bytes.length;
  }

  /** Flushes and closes; returns what was staged. */
  close(table: TableName): Promise<StagedTable> {
    if (!this.#closed) {
      this.#flushBuffer();
      this.#file.close();
      this.#closed = true;
    }
    return Promise.resolve({
      table,
      path: this.path,
      rows: this.#rows,
      bytes: this.#bytes,
      maxRowBytes: this.#maxRowBytes,
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#file.close();
    }
    return Promise.resolve();
  }
}

/**
 * Reads the rows of an NDJSON file one at a time.
 *
 * @param path The file.
 * @returns The parsed rows in file order.
 */
export async function* readNdjson<T = unknown>(path: string): AsyncGenerator<T> {
  // The readable closes the file when it ends or when the consumer stops early.
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoder();
  for await (const line of splitLines(file.readable)) {
    if (line.bytes.length === 0) continue;
    yield JSON.parse(decoder.decode(line.bytes)) as T;
  }
}
