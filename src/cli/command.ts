/**
 * How a command is declared: its flag table, operands and description in one object, from which its
 * parsing, `--help`, "did you mean" hints and shell completions are all derived.
 *
 * @module
 */
import { type FlagSpecs, formatHelp, inGroup, type ParsedFlags, parseFlags } from "./args.ts";
import type { CommandContext } from "./context.ts";

/** What a command declares. */
export interface CommandSpec {
  /** The word after `ccpipe`. */
  name: string;
  /** What it does, for its `--help` (reflowed to 80 columns; a blank line starts a paragraph). */
  description: string;
  /** The operands in the usage line, e.g. `<stats|prune|clear>`. */
  operands?: string;
  /** The values the first operand takes (shell completion offers them). */
  actions?: readonly string[];
  /** How many positional arguments it takes. @default {0} */
  positionals?: number;
  /** Its flags (`--help` is added). */
  flags: FlagSpecs;
  /** Runs it with parsed flags; returns the exit code. */
  run(input: { flags: ParsedFlags; positionals: string[] }, ctx: CommandContext): Promise<number>;
}

/** A command ready to run: its spec with `--help` added, its help text, and its entry point. */
export interface Command extends CommandSpec {
  /** The `--help` text. */
  help(): string;
  /** Parses `args`, answers `--help`, runs. */
  main(args: string[], ctx: CommandContext): Promise<number>;
}

/** The `--help` flag every command has. */
export const helpFlag: FlagSpecs = inGroup("general", {
  help: { type: "boolean", short: "h", help: "Show this help" },
});

/**
 * Declares a command.
 *
 * @param spec Name, description, operands, flags and runner.
 * @returns The command.
 */
export function defineCommand(spec: CommandSpec): Command {
  const flags = { ...spec.flags, ...helpFlag };
  const help = () =>
    formatHelp(
      `ccpipe ${spec.name}${spec.operands ? ` ${spec.operands}` : ""}${
        Object.keys(flags).length > 1 ? " [options]" : ""
      }`,
      spec.description,
      flags,
    );
  return {
    ...spec,
    flags,
    help,
    async main(args, ctx) {
      const parsed = parseFlags(args, flags, { command: spec.name, positionals: spec.positionals ?? 0 });
      if (parsed.flags.help) {
        ctx.output.out(help());
        return 0;
      }
      return await spec.run(parsed, ctx);
    },
  };
}
