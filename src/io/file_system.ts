/**
 * The file-system port Stages 0–1 read through, and its Deno implementation.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import type { SourceFile } from "../schema/records.ts";

/** What Stages 0–1 need from a file system: find transcripts, stat them and stream their bytes. */
export interface FileSystem {
  /** Yields every `*.jsonl` file under `root`, recursively (subagent folders too), with absolute paths. */
  walk(root: string): AsyncIterable<SourceFile>;
  /** Size and modification time of a file. */
  stat(path: string): Promise<{ size: number; mtimeMs: number }>;
  /** Streams a file's bytes from `offset` to its end, one chunk at a time; never reads the whole file. */
  read(path: string, options?: { offset?: number; signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
}

/** Options for {@linkcode denoFileSystem}. */
export interface DenoFileSystemOptions {
  /**
   * Size of each chunk `read()` yields, in bytes. Each chunk is a fresh buffer, so line views into it
   * stay valid after the next read.
   *
   * @default {524288}
   */
  chunkSize?: number;
}

const DEFAULT_CHUNK_SIZE = 512 * 1024;
const PROBE_SIZE = 64 * 1024;

/**
 * Creates the {@linkcode FileSystem} backed by `Deno.*`.
 *
 * Errors a person can act on (a path that does not exist, is not a directory, or cannot be read)
 * become an {@linkcode InputError} whose message is one sentence naming the path.
 *
 * @param options Chunk size for reads.
 * @returns A file system reading the local disk.
 * @throws {RangeError} When `chunkSize` is not a positive integer.
 *
 * @example Walk a tree and read a transcript
 * ```ts ignore
 * const fs = denoFileSystem();
 * for await (const file of fs.walk("/home/me/.claude/projects")) {
 *   for await (const chunk of fs.read(file.path)) console.log(chunk.length);
 * }
 * ```
 */
export function denoFileSystem(options: DenoFileSystemOptions = {}): FileSystem {
  const { chunkSize = DEFAULT_CHUNK_SIZE } = options;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(
      `Cannot create file system as 'chunkSize' must be a positive integer: current value is ${chunkSize}`,
    );
  }
  return {
    walk(root) {
      return walk(resolve(root));
    },
    stat(path) {
      try {
        const info = Deno.statSync(path);
        return Promise.resolve({ size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 });
      } catch (error) {
        return Promise.reject(toInputError(error, "file", path));
      }
    },
    read(path, readOptions = {}) {
      return read(path, readOptions.offset ?? 0, chunkSize, readOptions.signal);
    },
    readRange(path, offset, length) {
      try {
        return Promise.resolve(readRange(path, offset, length));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

// The port is async, but the Deno implementation calls the synchronous APIs: each async file op is an
// event-loop round trip (a thread-pool hop), and at a thousand small transcripts those hops, not the
// bytes, were the cost (a quarter of a Stages 0–3 run idle). Page-cache reads of a chunk take
// microseconds, and nothing else needs the loop while a transcript is being read.

async function* walk(root: string): AsyncGenerator<SourceFile> {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root);
  } catch (error) {
    throw toInputError(error, "source directory", root);
  }
  if (!info.isDirectory) {
    throw new InputError(`Cannot read source directory '${root}' as it is not a directory`);
  }
  yield* walkDirectory(root, root);
}

function* walkDirectory(root: string, dir: string): Generator<SourceFile> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    throw toInputError(error, "directory", dir);
  }
  // A stable order makes runs reproducible; discover() sorts again across roots.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      yield* walkDirectory(root, path);
      continue;
    }
    // Symlinked files are followed; symlinked directories are not, so a link cycle cannot loop.
    if (!entry.name.endsWith(".jsonl") || !(entry.isFile || entry.isSymlink)) continue;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (error) {
      // A dangling link, or a link loop (ELOOP): there is no transcript behind it.
      if (entry.isSymlink) continue;
      throw toInputError(error, "file", path);
    }
    if (!info.isFile) continue;
    yield { path, root, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
  }
}

/** Opens `path` for reading at byte `offset`; a failure is an {@linkcode InputError} naming the file. */
function openAt(path: string, offset: number): Deno.FsFile {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw toInputError(error, "file", path);
  }
  try {
    if (offset > 0) file.seekSync(offset, Deno.SeekMode.Start);
    return file;
  } catch (error) {
    file.close();
    throw toInputError(error, "file", path);
  }
}

function readRange(path: string, offset: number, length: number): Uint8Array {
  const file = openAt(path, offset);
  try {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const n = file.readSync(out.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return out.subarray(0, filled);
  } catch (error) {
    throw toInputError(error, "file", path);
  } finally {
    file.close();
  }
}

async function* read(
  path: string,
  offset: number,
  chunkSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted();
  const file = openAt(path, offset);
  try {
    // Buffers sized to what the file holds: most transcripts are far smaller than a chunk, and a
    // chunk-sized buffer per file (and another to find the end) was most of a run's memory churn.
    let remaining = file.statSync().size - offset;
    while (true) {
      signal?.throwIfAborted();
      // A fresh buffer per chunk: consumers may keep views into earlier chunks (a line spanning chunks).
      // Past the size seen at open, a small probe finds the end (or bytes appended since).
      const buffer = new Uint8Array(Math.min(chunkSize, remaining > 0 ? remaining : PROBE_SIZE));
      let n: number | null;
      try {
        n = file.readSync(buffer);
      } catch (error) {
        throw toInputError(error, "file", path);
      }
      if (n === null) return;
      remaining -= n;
      if (n > 0) yield buffer.subarray(0, n);
    }
  } finally {
    file.close();
  }
}

/** Maps the errors a person can fix to one-sentence {@linkcode InputError}s; others pass through. */
function toInputError(error: unknown, what: string, path: string): unknown {
  if (error instanceof InputError) return error;
  if (error instanceof Deno.errors.NotFound) {
    return new InputError(`Cannot read ${what} '${path}' as it does not exist`, { cause: error });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new InputError(`Cannot read ${what} '${path}' as permission is denied`, { cause: error });
  }
  if (error instanceof Deno.errors.NotCapable) {
    return new InputError(`Cannot read ${what} '${path}' as ccpipe was not granted read permission for it`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.NotADirectory) {
    return new InputError(`Cannot read ${what} '${path}' as a part of the path is not a directory`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new InputError(`Cannot read ${what} '${path}' as it is a directory`, { cause: error });
  }
  return error;
}
