/**
 * The CLI's entry: picks the command, runs it, and turns every error into one line and an exit code.
 *
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };
import { CcpipeError, UsageError } from "../errors.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { systemClock } from "../ports.ts";
import type { CommandContext } from "./context.ts";
import { consoleOutput } from "./logger.ts";
import { discoverCommand } from "./commands/discover.ts";
import { runCommand } from "./commands/run.ts";
import { cacheCommand } from "./commands/cache.ts";
import { doctorCommand } from "./commands/doctor.ts";

/** ccpipe's version, from deno.json. */
export const VERSION: string = denoConfig.version;

/** A command: its one-line description and its runner. */
interface Command {
  description: string;
  run(args: string[], ctx: CommandContext): Promise<number>;
}

/** Every command by name. */
export const Commands: Record<string, Command> = {
  run: { description: "Run the pipeline over your transcripts and load the tables", run: runCommand },
  discover: {
    description: "Scan the sources and print a manifest with a go / no-go verdict",
    run: discoverCommand,
  },
  demo: {
    description: "Run everything over the bundled 100-message fixture (no account needed)",
    // Loaded on use: the demo pulls in MSW and the Gemini mock, which other commands never need.
    run: async (args, ctx) => (await import("./commands/demo.ts")).demoCommand(args, ctx),
  },
  doctor: {
    description: "Check credentials, model, data dir and cache, without printing secrets",
    run: doctorCommand,
  },
  cache: { description: "Show, prune or clear the Stage 4 answer cache", run: cacheCommand },
};

function topHelp(): string {
  const rows = Object.entries(Commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.description}`);
  return [
    `ccpipe ${VERSION}: Claude Code transcripts → clean, deduplicated, corrected tables in DuckDB or BigQuery`,
    "",
    "Usage: ccpipe <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Run 'ccpipe <command> --help' for a command's options; 'ccpipe --version' prints the version.",
  ].join("\n");
}

/**
 * Runs the CLI with `args` and returns the exit code (0 ok, 1 failure, 2 usage, 3 input, 4 sink,
 * 75 stopped on a per-day quota, 130 interrupted).
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
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      context.output.out(topHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-V") {
      context.output.out(`ccpipe ${VERSION}`);
      return 0;
    }
    const command = Commands[name];
    if (!command) {
      throw new UsageError(`Unknown command '${name}': expected one of ${Object.keys(Commands).join(", ")}`);
    }
    return await command.run(rest, context);
  } catch (error) {
    if (context.signal.aborted) {
      context.output.err("ccpipe: interrupted; nothing was committed that a rerun cannot redo");
      return 130;
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
