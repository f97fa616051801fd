/**
 * One run at a time per data dir: a lock file created exclusively, removed on dispose.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/**
 * Takes the data dir's run lock.
 *
 * @param dataDir The data dir.
 * @returns A handle that releases the lock when disposed.
 * @throws {InputError} When another run holds the lock or the data dir cannot be written.
 */
export async function acquireLock(dataDir: string): Promise<AsyncDisposable> {
  const path = `${dataDir}/.lock`;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    const file = await Deno.open(path, { write: true, createNew: true });
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    file.close();
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      const pid = Number((await Deno.readTextFile(path).catch(() => "")).trim());
      if (pid && !isAlive(pid)) {
        await Deno.remove(path).catch(() => {});
        return acquireLock(dataDir);
      }
      throw new InputError(
        `Cannot start a run as another ccpipe run (pid ${
          pid || "unknown"
        }) is using ${dataDir}; remove ${path} if it is not`,
      );
    }
    throw new InputError(`Cannot write to the data dir ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    async [Symbol.asyncDispose]() {
      await Deno.remove(path).catch(() => {});
    },
  };
}

function isAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync("/proc/self");
  } catch {
    // No /proc (macOS, Windows): cannot tell, so treat the lock as held; the message says how to clear it.
    return true;
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
