/**
 * Per-file watermarks: where Stage 1 stopped reading each transcript, stored as one JSON file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { InputError } from "../errors.ts";
import type { Watermark } from "../schema/records.ts";

/** How many bytes before a watermark's offset its `headHash` covers. */
export const HEAD_HASH_BYTES = 4096;

const FORMAT_VERSION = 1;

/**
 * Hashes the bytes just before a watermark's offset: the first 16 hex characters of their SHA-256.
 *
 * @param bytes Up to {@linkcode HEAD_HASH_BYTES} bytes ending at the watermark's offset.
 * @returns 16 lowercase hex characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headHash } from "./watermarks.ts";
 *
 * assert.equal(await headHash(new Uint8Array()), "e3b0c44298fc1c14");
 * ```
 */
export function headHash(bytes: Uint8Array): Promise<string> {
  // node:crypto hashes on the calling thread: WebCrypto's digest hops to a thread pool and back, which
  // in a worker cost more than the hashing (a thousand files: ~0.5 s).
  return Promise.resolve(createHash("sha256").update(bytes).digest("hex").slice(0, 16));
}

/**
 * Loads the watermarks saved by {@linkcode saveWatermarks}, keyed by path.
 *
 * @param path The watermarks file.
 * @returns The watermarks; an empty map when the file does not exist yet.
 * @throws {InputError} When the file cannot be read or is corrupt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWatermarks } from "./watermarks.ts";
 *
 * assert.equal((await loadWatermarks("/nonexistent/watermarks.json")).size, 0);
 * ```
 */
export async function loadWatermarks(path: string): Promise<Map<string, Watermark>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Map();
    throw new InputError(`Cannot load watermarks from '${path}' as it cannot be read`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `Cannot load watermarks from '${path}' as the file is corrupt (not JSON): delete it to reread every file`,
      { cause: error },
    );
  }
  const files = (parsed as { files?: unknown } | null)?.files;
  if (
    typeof parsed !== "object" || parsed === null ||
    (parsed as { version?: unknown }).version !== FORMAT_VERSION ||
    !Array.isArray(files)
  ) {
    throw new InputError(
      `Cannot load watermarks from '${path}' as the file is corrupt (unexpected shape): delete it to reread every file`,
    );
  }
  const marks = new Map<string, Watermark>();
  for (const item of files) {
    if (!isWatermark(item)) {
      throw new InputError(
        `Cannot load watermarks from '${path}' as the file is corrupt (invalid entry): delete it to reread every file`,
      );
    }
    marks.set(item.path, {
      path: item.path,
      size: item.size,
      mtimeMs: item.mtimeMs,
      offset: item.offset,
      lines: item.lines,
      headHash: item.headHash,
    });
  }
  return marks;
}

/**
 * Saves watermarks atomically: a temporary file beside `path`, then a rename over it, so a crash leaves
 * either the old file or the new one.
 *
 * @param path The watermarks file; its directory is created when missing.
 * @param marks The watermarks to store (sorted by path in the file).
 * @throws {InputError} When the file cannot be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWatermarks, saveWatermarks } from "./watermarks.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const mark = { path: "/p/s.jsonl", size: 10, mtimeMs: 1, offset: 10, lines: 1, headHash: "00" };
 * await saveWatermarks(`${dir}/watermarks.json`, [mark]);
 * assert.deepEqual([...(await loadWatermarks(`${dir}/watermarks.json`)).values()], [mark]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveWatermarks(path: string, marks: Iterable<Watermark>): Promise<void> {
  const files = [...marks].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const text = JSON.stringify({ version: FORMAT_VERSION, files }, null, 1) + "\n";
  try {
    // Synced: a power cut must not leave an empty watermark file renamed in.
    await writeFileAtomic(path, text, { sync: true });
  } catch (error) {
    throw new InputError(`Cannot save watermarks to '${path}' as it cannot be written`, { cause: error });
  }
}

function isWatermark(value: unknown): value is Watermark {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.path === "string" && isCount(v.size) && typeof v.mtimeMs === "number" &&
    Number.isFinite(v.mtimeMs) && isCount(v.offset) && isCount(v.lines) && typeof v.headHash === "string" &&
    (v.offset as number) <= (v.size as number);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
