/**
 * Flags shared by several commands, spread into each command's own table (ccusage's pattern).
 *
 * @module
 */
import { resolve } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import type { FlagSpecs, ParsedFlags } from "./args.ts";
import type { CommandContext } from "./context.ts";
import { defaultDataDir, defaultSources } from "./defaults.ts";

/** `--source` (input) and `--json` (output). */
export const sourceFlags: FlagSpecs = {
  source: {
    type: "string",
    multiple: true,
    value: "DIR",
    group: "input",
    help:
      "Claude Code projects dir to read (repeatable; default: the CLAUDE_CONFIG_DIR roots, else ~/.claude/projects and ~/.config/claude/projects)",
  },
  ...jsonFlag(),
};

/** `--json`, with what it prints. */
export function jsonFlag(what = "Print one JSON object on stdout instead of the text summary"): FlagSpecs {
  return { json: { type: "boolean", group: "output", help: `${what} (documented in the README)` } };
}

/** `--data-dir`. */
export const dataDirFlags: FlagSpecs = {
  "data-dir": {
    type: "string",
    value: "DIR",
    group: "output",
    help:
      "Where ccpipe keeps its database, runs, state and cache (default: $XDG_DATA_HOME/ccpipe or ~/.local/share/ccpipe)",
  },
};

/**
 * Resolves the source roots from flags or defaults.
 *
 * @throws {UsageError} When none is given and no default exists.
 */
export function resolveSources(flags: ParsedFlags, ctx: CommandContext): string[] {
  const given = flags.source as string[] | undefined;
  if (given && given.length > 0) return given.map((s) => absolute(s, ctx));
  const found = defaultSources(ctx.env);
  if (found.length === 0) {
    throw new UsageError(
      "No Claude Code projects dir found (looked in CLAUDE_CONFIG_DIR, ~/.claude/projects and ~/.config/claude/projects); pass --source DIR",
    );
  }
  return found;
}

/** Resolves the data dir from flags or defaults, as an absolute path. */
export function resolveDataDir(flags: ParsedFlags, ctx: CommandContext): string {
  const given = flags["data-dir"] as string | undefined;
  return absolute(given ?? defaultDataDir(ctx.env), ctx);
}

/**
 * Checks that the data dir can be created and written.
 *
 * @throws {InputError} When it cannot.
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.write-probe-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    const reason = error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists
      ? "a file is in the way"
      : error instanceof Deno.errors.NotFound
      ? "a parent folder cannot be created there"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new InputError(`Cannot write to the data dir ${dir}: ${reason}`, { cause: error });
  }
}

function absolute(path: string, ctx: CommandContext): string {
  if (path === "~" || path.startsWith("~/")) return resolve(ctx.env("HOME") ?? "/", `.${path.slice(1)}`);
  return resolve(path);
}
