/**
 * Flag tables and what is derived from them: parsing on `node:util`'s `parseArgs` (JSR's @std/cli is
 * unreachable here) with every failure turned into a one-line {@linkcode UsageError} that suggests the
 * closest flag, and `--help` text wrapped to 80 columns with the flags grouped.
 *
 * Why not commander (npm): it would replace `parseArgs` and about 100 lines of help formatting here, but
 * the shell completions, the per-command flag sharing (`...llmFlags`) and the lazy command registry would
 * still need these tables, so it would add a second way to declare a flag rather than remove one.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { editDistance } from "../llm/guards.ts";

/** The headings flags are grouped under in `--help`, in this order. */
export const FlagGroups = {
  input: "Input",
  output: "Output",
  stage4: "Stage 4 (prompt correction with Gemini)",
  bigquery: "BigQuery",
  general: "General",
} as const;

/** A flag's group in `--help`. */
export type FlagGroup = keyof typeof FlagGroups;

/** One flag of a command. */
export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Shown in `--help`. */
  help: string;
  /** Placeholder shown in `--help` for string flags; `DIR` and `FILE` also drive shell completion. */
  value?: string;
  /** Heading in `--help`. @default {"general"} */
  group?: FlagGroup;
  /** The values a string flag accepts (shell completion offers them). */
  choices?: readonly string[];
  /**
   * Makes a string flag's value optional: the value it takes when given alone (`--breakdown` means
   * `--breakdown=model`). The next word is read as its value only when it is one of `choices`.
   */
  bare?: string;
}

/** A command's flags by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flag values. */
export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

/** Help text width: fits an 80-column terminal. */
export const HELP_WIDTH = 80;

/**
 * Returns `specs` with every flag that names no group of its own placed under `group` in `--help`.
 *
 * @param group The heading.
 * @param specs The flags.
 * @returns A new table.
 */
export function inGroup(group: FlagGroup, specs: FlagSpecs): FlagSpecs {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { group, ...spec }]));
}

/**
 * The candidate closest to `input` when it is close enough to be a typo, for "did you mean" hints.
 *
 * @example
 * ```ts
 * import { closest } from "./args.ts";
 * if (closest("sorce", ["source", "sink"]) !== "source") throw new Error();
 * ```
 *
 * @param input What was typed.
 * @param candidates What exists.
 * @returns The closest candidate, or undefined when none is close.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  // Two edits (a swapped pair of letters) for words of three letters or more, a third of longer ones.
  const cap = input.length < 3 ? 1 : Math.max(2, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestDistance = cap + 1;
  for (const candidate of candidates) {
    if (candidate.startsWith(input) && input.length >= 3) return candidate;
    const d = editDistance(input, candidate, cap);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/**
 * The usage error for a value that is not one of `choices`, with the closest one suggested.
 *
 * @param what What the value is, e.g. `cache action`.
 * @param value What was typed.
 * @param choices What exists.
 * @returns The error to throw.
 */
export function unknownChoice(what: string, value: string, choices: readonly string[]): UsageError {
  const hint = closest(value, choices);
  const list = choices.length > 1 ? `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}` : choices[0];
  return new UsageError(
    `Unknown ${what} '${value}'${hint ? `: did you mean '${hint}'?` : ""} (expected ${list})`,
  );
}

/**
 * Parses `args` against `specs`; unknown flags and stray positionals are usage errors.
 *
 * @param args The arguments after the command name.
 * @param specs The command's flags.
 * @param options `positionals`: how many positional arguments are allowed (default 0).
 * @returns Flag values and positionals.
 * @throws {UsageError} With one sentence naming the problem, and the closest flag for a typo.
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
  const seeHelp = `see 'ccpipe ${options.command} --help'`;
  let parsed;
  try {
    parsed = parseArgs({
      args: withBareValues(args, specs),
      options: parseSpecs,
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "")
      .replace(/\.$/, "");
    const unknown = /^Unknown option '--([^'=]+)/.exec(message)?.[1];
    const hint = unknown === undefined ? undefined : closest(unknown, Object.keys(specs));
    throw new UsageError(`${message}${hint ? `: did you mean '--${hint}'?` : ""} (${seeHelp})`);
  }
  const allowed = options.positionals ?? 0;
  if (parsed.positionals.length > allowed) {
    throw new UsageError(`Unexpected argument '${parsed.positionals[allowed]}' (${seeHelp})`);
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = parsed.values[name];
    if (spec.choices && typeof value === "string" && !spec.choices.includes(value)) {
      const hint = closest(value, spec.choices);
      throw new UsageError(
        `--${name} must be one of ${spec.choices.join(", ")}: got '${value}'${
          hint ? `; did you mean '${hint}'?` : ""
        }`,
      );
    }
  }
  return { flags: parsed.values as ParsedFlags, positionals: parsed.positionals };
}

/** `args` with every flag that has a {@linkcode FlagSpec.bare} value given its value as `--name=value`. */
function withBareValues(args: string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return [...out, ...args.slice(i)];
    const spec = arg.startsWith("--") ? specs[arg.slice(2)] : undefined;
    if (spec?.bare === undefined) {
      out.push(arg);
    } else if (i + 1 < args.length && spec.choices?.includes(args[i + 1])) {
      out.push(`${arg}=${args[++i]}`);
    } else {
      out.push(`${arg}=${spec.bare}`);
    }
  }
  return out;
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

/**
 * Wraps text to `width` columns at spaces, keeping its own line breaks; continuation lines get `indent`.
 *
 * @example
 * ```ts
 * import { wrap } from "./args.ts";
 * if (wrap("one two three", 8).join("|") !== "one two|three") throw new Error();
 * ```
 *
 * @param text The text.
 * @param width The column limit.
 * @param indent Prefix of every line after the first.
 * @returns The lines.
 */
export function wrap(text: string, width: number, indent = ""): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/ +/)) {
      const limit = lines.length === 0 ? width : width - indent.length;
      if (line !== "" && line.length + 1 + word.length > limit) {
        lines.push(line);
        line = word;
      } else {
        line = line === "" ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines.map((l, i) => (i === 0 || l === "" ? l : indent + l));
}

/** The left column of a flag in `--help`, e.g. `-h, --help` or `--source DIR`. */
function flagLabel(name: string, spec: FlagSpec): string {
  const placeholder = spec.value ?? "VALUE";
  const value = spec.type === "boolean"
    ? ""
    : spec.bare !== undefined
    ? `[=${placeholder}]`
    : ` ${placeholder}`;
  return `${spec.short ? `-${spec.short}, ` : "    "}--${name}${value}`;
}

/**
 * Formats a table of two-column rows (`left`, `right`) indented by two spaces, the right column wrapped
 * to {@linkcode HELP_WIDTH}; a left cell too wide for the column puts its text on the next line.
 */
export function formatRows(rows: [string, string][], column = helpColumn(rows.map(([l]) => l))): string[] {
  const pad = " ".repeat(column);
  const out: string[] = [];
  for (const [left, right] of rows) {
    const body = wrap(right, HELP_WIDTH - column);
    if (left.length + 4 > column) out.push(`  ${left}`, ...body.map((l) => pad + l));
    else out.push(`  ${left.padEnd(column - 2)}${body[0]}`, ...body.slice(1).map((l) => pad + l));
  }
  return out;
}

/** The column the right-hand text of a help table starts at: after the widest left cell, at most 30. */
export function helpColumn(lefts: string[]): number {
  return Math.min(26, Math.max(0, ...lefts.map((l) => l.length))) + 4;
}

/**
 * Formats the flags of a command under their group headings, in {@linkcode FlagGroups} order.
 *
 * @param specs The command's flags.
 * @returns The lines, with a blank line between groups.
 */
export function formatFlags(specs: FlagSpecs): string[] {
  const entries = Object.entries(specs);
  const column = helpColumn(entries.map(([name, spec]) => flagLabel(name, spec)));
  const out: string[] = [];
  for (const [group, title] of Object.entries(FlagGroups)) {
    const rows = entries.filter(([, spec]) => (spec.group ?? "general") === group).map((
      [name, spec],
    ): [string, string] => [flagLabel(name, spec), spec.help]);
    if (rows.length === 0) continue;
    if (out.length > 0) out.push("");
    out.push(`${title}:`, ...formatRows(rows, column));
  }
  return out;
}

/**
 * Formats the `--help` text of a command: usage, description and grouped flags, within 80 columns.
 *
 * @param usage The usage line after `Usage: `.
 * @param description What the command does: paragraphs split by a blank line are reflowed, except one
 *   whose every line is indented by two spaces (examples), which is kept as written.
 * @param specs The command's flags.
 * @returns The text.
 */
export function formatHelp(usage: string, description: string, specs: FlagSpecs): string {
  return [
    ...wrap(`Usage: ${usage}`, HELP_WIDTH, "         "),
    "",
    ...description.split(/\n\s*\n/).flatMap((p, i) => [
      ...(i > 0 ? [""] : []),
      // A paragraph whose lines are all indented (commands, examples) is kept as written.
      ...(/^ {2}/.test(p) && p.split("\n").every((l) => l.startsWith("  "))
        ? p.split("\n")
        : wrap(p.replace(/\s+/g, " ").trim(), HELP_WIDTH)),
    ]),
    "",
    ...formatFlags(specs),
  ].join("\n");
}
