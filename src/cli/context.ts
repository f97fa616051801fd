/**
 * What every command receives: output, environment, file system, clock and the Ctrl-C signal.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { FileSystem } from "../io/file_system.ts";
import type { Clock } from "../ports.ts";
import type { Output } from "./logger.ts";

/** A command's world, injectable for tests. */
export interface CommandContext {
  output: Output;
  env: (name: string) => string | undefined;
  fs: FileSystem;
  clock: Clock;
  signal: AbortSignal;
  /**
   * Worker threads that read and prepare transcripts; 0 reads through `fs` on the main thread. Unset:
   * {@linkcode defaultPrepareThreads} of `env`, asked only by the commands that read transcripts.
   */
  prepareThreads?: number;
}

/**
 * Worker threads for reading transcripts on this machine: one per core but one, up to three (the main
 * thread merges what they prepare and prepares files itself when it catches up), none on a single core.
 * `CCPIPE_THREADS` overrides it (0 = none).
 *
 * @param env The environment.
 * @returns The number of workers.
 * @throws {UsageError} When `CCPIPE_THREADS` is set to anything but an integer from 0 to 16.
 */
export function defaultPrepareThreads(env: (name: string) => string | undefined): number {
  const set = env("CCPIPE_THREADS")?.trim();
  if (set !== undefined && set !== "") {
    if (!/^\d+$/.test(set) || Number(set) > 16) {
      throw new UsageError(`CCPIPE_THREADS must be an integer from 0 to 16: got '${set}'`);
    }
    return Number(set);
  }
  const cores = navigator.hardwareConcurrency ?? 1;
  return Math.max(0, Math.min(3, cores - 1));
}
