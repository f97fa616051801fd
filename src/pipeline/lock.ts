/**
 * One run at a time per data dir: an OS lock (`flock`) on `<data-dir>/.lock`. The kernel drops the lock
 * when the holder dies, however it dies (kill -9, OOM, `timeout`), so a crashed run never blocks the
 * next one, and no `/proc` lookup (refused under the task's permissions) is needed to tell.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { dataDirLayout, makePrivateDir, PRIVATE_FILE_MODE } from "../state/data_dir.ts";

/**
 * Takes the data dir's run lock without waiting.
 *
 * @param dataDir The data dir.
 * @returns A handle that releases the lock when disposed (the kernel releases it if the process dies).
 * @throws {InputError} When another live process holds the lock or the data dir cannot be written.
 */
export async function acquireLock(dataDir: string): Promise<AsyncDisposable> {
  const path = dataDirLayout(dataDir).lock;
  let file: Deno.FsFile;
  try {
    await makePrivateDir(dataDir);
    // Never truncated before the lock is ours: the holder's pid stays readable for the message.
    file = await Deno.open(path, { read: true, write: true, create: true, mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw new InputError(`Cannot write to the data dir ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!(await file.tryLock(true))) {
    const pid = (await Deno.readTextFile(path).catch(() => "")).trim();
    file.close();
    throw new InputError(
      `Cannot start a run as another ccpipe run (pid ${
        pid || "unknown"
      }) is using ${dataDir}; wait for it to finish`,
    );
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return {
    async [Symbol.asyncDispose]() {
      // The file stays: removing it would let a third process lock a new inode while a second holds the old.
      await file.unlock().catch(() => {});
      file.close();
    },
  };
}
