/**
 * Flag parsing on `node:util`'s `parseArgs` (JSR's @std/cli is unreachable here), with every parse
 * failure turned into a {@linkcode UsageError} the CLI prints in one line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";

/** One flag of a command. */
export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Shown in `--help`. */
  help: string;
  /** Placeholder shown in `--help` for string flags. */
  value?: string;
}

/** A command's flags by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flag values. */
export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `args` against `specs`; unknown flags and stray positionals are usage errors.
 *
 * @param args The arguments after the command name.
 * @param specs The command's flags.
 * @param options `positionals`: how many positional arguments are allowed (default 0).
 * @returns Flag values and positionals.
 * @throws {UsageError} With one sentence naming the problem.
 */
export function parseFlags(
  args: string[],
  specs: FlagSpecs,
  options: { positionals?: number; command: string },
): { flags: ParsedFlags; positionals: string[] } {
  const parseSpecs: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    parseSpecs[name] = {
      type: spec.type,
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: parseSpecs, strict: true, allowPositionals: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${message.replace(/\.$/, "")} (see 'ccpipe ${options.command} --help')`);
  }
  const allowed = options.positionals ?? 0;
  if (parsed.positionals.length > allowed) {
    throw new UsageError(
      `Unexpected argument '${parsed.positionals[allowed]}' (see 'ccpipe ${options.command} --help')`,
    );
  }
  return { flags: parsed.values as ParsedFlags, positionals: parsed.positionals };
}

/**
 * Reads a flag as a positive integer.
 *
 * @throws {UsageError} When it is not one.
 */
export function intFlag(
  flags: ParsedFlags,
  name: string,
  options: { min?: number; max?: number } = {},
): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const min = options.min ?? 0;
  if (!Number.isInteger(value) || value < min || (options.max !== undefined && value > options.max)) {
    const range = options.max !== undefined
      ? `an integer from ${min} to ${options.max}`
      : `an integer ≥ ${min}`;
    throw new UsageError(`--${name} must be ${range}: got '${raw}'`);
  }
  return value;
}

/** Formats the `--help` text of a command. */
export function formatHelp(usage: string, description: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ""}--${name}${
      spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""
    }`;
    return `${left.padEnd(34)} ${spec.help}`;
  });
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${rows.join("\n")}`;
}
