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
}
