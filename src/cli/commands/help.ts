/**
 * `ccpipe help [COMMAND]` and the top-level help: the commands from the registry and the exit codes.
 *
 * @module
 */
import denoConfig from "../../../deno.json" with { type: "json" };
import { formatRows, HELP_WIDTH, unknownChoice, wrap } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { type CommandEntry, Commands, findCommand } from "../registry.ts";

/** ccpipe's version, from deno.json. */
export const VERSION: string = denoConfig.version;

/** Every exit code ccpipe uses, and what it means. */
export const ExitCodes: readonly [number, string][] = [
  [0, "ok"],
  [1, "failure, a no-go verdict from discover, a failed doctor check, or every Gemini call failed"],
  [2, "usage or configuration error"],
  [3, "unreadable input, unwritable data dir, full disk or corrupt state"],
  [4, "warehouse (DuckDB or BigQuery) error"],
  [75, "stopped on a per-day quota: rerun later to resume"],
  [130, "interrupted"],
];

/** The text of `ccpipe --help`. */
export function topHelp(): string {
  return [
    ...wrap(
      `ccpipe ${VERSION}: Claude Code transcripts → clean, deduplicated, corrected tables in DuckDB or BigQuery`,
      HELP_WIDTH,
    ),
    "",
    "Usage: ccpipe <command> [options]",
    "",
    "Commands:",
    ...formatRows(Commands.map((c) => [c.name, c.summary])),
    "",
    "Options:",
    ...formatRows([["-h, --help", "Show this help"], ["-V, --version", "Print the version"]]),
    "",
    "Exit codes:",
    ...formatRows(ExitCodes.map(([code, meaning]) => [String(code), meaning])),
    "",
    "Run 'ccpipe help <command>' for a command's options.",
  ].join("\n");
}

/**
 * The registry entry for `name`.
 *
 * @throws {UsageError} For an unknown name, suggesting the closest command.
 */
export function commandNamed(name: string): CommandEntry {
  const entry = findCommand(name);
  if (entry) return entry;
  throw unknownChoice("command", name, Commands.map((c) => c.name));
}

/** `ccpipe help`. */
export const helpCommand: Command = defineCommand({
  name: "help",
  operands: "[<command>]",
  positionals: 1,
  actions: Commands.map((c) => c.name),
  description: "Shows the help of a command, or the list of commands.",
  flags: {},
  async run({ positionals }, ctx) {
    const [name] = positionals;
    ctx.output.out(name === undefined ? topHelp() : (await commandNamed(name).load()).help());
    return 0;
  },
});
