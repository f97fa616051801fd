/**
 * Atomic file writes: a temporary file beside the target, then a rename over it, so a crash or a
 * kill at any moment leaves either the old file or the new one, never a torn one.
 *
 * @module
 */
import { dirname } from "node:path";

/** Mode of every folder ccpipe creates in its data dir: the owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file ccpipe writes (prompts, answers, state): the owner only, whatever the umask. */
export const PRIVATE_FILE_MODE = 0o600;

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteAtomicOptions {
  /** Flush the data to disk before the rename, so a power cut cannot rename an empty file in. @default {false} */
  sync?: boolean;
  /** Also flush the folder after the rename, so the new name itself survives a power cut. @default {false} */
  syncDir?: boolean;
}

/**
 * Writes `data` to `path` atomically, creating the parent folder when missing. On failure the
 * temporary file is removed and the error is rethrown for the caller to explain. The file is private
 * ({@linkcode PRIVATE_FILE_MODE}) and a folder it creates is too ({@linkcode PRIVATE_DIR_MODE}).
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
    await Deno.mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    {
      using file = await Deno.open(temp, {
        write: true,
        create: true,
        truncate: true,
        mode: PRIVATE_FILE_MODE,
      });
      // The umask may have cleared bits of the mode: set it outright.
      await Deno.chmod(temp, PRIVATE_FILE_MODE);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      if (options.sync) await file.syncData();
    }
    await Deno.rename(temp, path);
    if (options.syncDir) {
      using dir = await Deno.open(dirname(path), { read: true });
      await dir.sync();
    }
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
