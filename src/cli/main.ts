/**
 * The CLI's entry: picks the command from the registry, runs it, and turns every error into one line
 * and an exit code.
 *
 * @module
 */
import { CcpipeError } from "../errors.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { systemClock } from "../ports.ts";
import type { CommandContext } from "./context.ts";
import { consoleOutput } from "./logger.ts";
import { commandNamed, topHelp, VERSION } from "./commands/help.ts";

export { VERSION };

/** The message of a no-space error anywhere in `error`'s cause chain, or null. */
function diskFull(error: unknown): string | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      code === "ENOSPC" || code === "EDQUOT" || /No space left on device|out of disk space/i.test(e.message)
    ) {
      return e.message.replace(/ \(os error \d+\)/, "");
    }
  }
  return null;
}

/**
 * Runs the CLI with `args` and returns the exit code (see `ExitCodes` in `commands/help.ts`).
 *
 * @param args Command-line arguments.
 * @param ctx The command context (the real terminal by default).
 */
export async function main(args: string[], ctx?: Partial<CommandContext>): Promise<number> {
  const controller = new AbortController();
  const context: CommandContext = {
    output: ctx?.output ?? consoleOutput(),
    env: ctx?.env ?? ((name) => Deno.env.get(name)),
    fs: ctx?.fs ?? denoFileSystem(),
    clock: ctx?.clock ?? systemClock,
    signal: ctx?.signal ?? controller.signal,
  };
  // Workers read the local disk: a file system passed in (tests) is read on this thread.
  context.prepareThreads = ctx?.prepareThreads ?? (ctx?.fs ? 0 : undefined);
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === "--help" || name === "-h") {
      context.output.out(topHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-V") {
      context.output.out(`ccpipe ${VERSION}`);
      return 0;
    }
    const command = await commandNamed(name).load();
    return await command.main(rest, context);
  } catch (error) {
    if (context.signal.aborted) {
      context.output.err("ccpipe: interrupted; nothing was committed that a rerun cannot redo");
      return 130;
    }
    const full = diskFull(error);
    if (full) {
      context.output.err(
        `ccpipe: cannot write as the disk is full (${full}); nothing half-written was committed: free some space and rerun`,
      );
      return 3;
    }
    if (error instanceof CcpipeError) {
      context.output.err(`ccpipe: ${error.message}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    context.output.err(`ccpipe: unexpected error: ${message}`);
    if (context.env("CCPIPE_DEBUG") && error instanceof Error && error.stack) context.output.err(error.stack);
    else context.output.err("ccpipe: set CCPIPE_DEBUG=1 to see the stack trace, and please report it");
    return 1;
  }
}
