/**
 * What every command receives: output, environment, file system, clock and the Ctrl-C signal.
 *
 * @module
 */
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
   * Worker threads that read and prepare transcripts; 0 reads through `fs` on the main thread.
   * @default {0}
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
 */
export function defaultPrepareThreads(env: (name: string) => string | undefined): number {
  const set = env("CCPIPE_THREADS");
  if (set !== undefined && /^\d+$/.test(set.trim())) return Math.min(16, Number(set.trim()));
  const cores = navigator.hardwareConcurrency ?? 1;
  return Math.max(0, Math.min(3, cores - 1));
}
