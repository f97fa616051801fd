/**
 * Atomic file writes: a temporary file beside the target, then a rename over it, so a crash or a
 * kill at any moment leaves either the old file or the new one, never a torn one.
 *
 * @module
 */
import { dirname } from "node:path";

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteAtomicOptions {
  /** Flush the data to disk before the rename, so a power cut cannot rename an empty file in. @default {false} */
  sync?: boolean;
}

/**
 * Writes `data` to `path` atomically, creating the parent folder when missing. On failure the
 * temporary file is removed and the error is rethrown for the caller to explain.
 *
 * @param path The target file.
 * @param data Text (written as UTF-8) or bytes.
 * @param options Whether to sync before the rename.
 *
 * @example Replace a file
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a/state.json`, "{}");
 * if (await Deno.readTextFile(`${dir}/a/state.json`) !== "{}") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    {
      using file = await Deno.open(temp, { write: true, create: true, truncate: true });
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      if (options.sync) await file.syncData();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
