/**
 * `ccpipe cache stats|prune|clear`: look after the Stage 4 answer cache.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { createDiskCache } from "../../llm/disk_cache.ts";
import { type FlagSpecs, formatHelp, parseFlags } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { cacheDirOf } from "../llm_args.ts";
import { dataDirFlags, resolveDataDir } from "../shared_args.ts";

/** Flags of `ccpipe cache`. */
export const cacheFlags: FlagSpecs = {
  ...dataDirFlags,
  "older-than": {
    type: "string",
    value: "AGE",
    help: "With prune: entries older than AGE (e.g. 30d, 12h, 90m)",
  },
  json: { type: "boolean", help: "Print one JSON object" },
  help: { type: "boolean", short: "h", help: "Show this help" },
};

const HELP = formatHelp(
  "ccpipe cache stats|prune --older-than AGE|clear [--data-dir DIR] [--json]",
  "Shows, prunes or clears the Stage 4 answer cache (redacted prompt texts and their corrections).\n" +
    "A cleared entry costs one more Gemini call the next time its prompt is seen.",
  cacheFlags,
);

/**
 * Parses an age such as `30d`, `12h`, `90m` or `45s` into milliseconds.
 *
 * @throws {UsageError} When it is not one.
 */
export function parseAge(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(d|h|m|s)$/.exec(value.trim());
  if (!match) throw new UsageError(`--older-than must look like 30d, 12h, 90m or 45s: got '${value}'`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[match[2] as "d" | "h" | "m" | "s"];
  return Math.round(Number(match[1]) * unit);
}

/**
 * Runs `ccpipe cache`.
 *
 * @returns The process exit code.
 */
export async function cacheCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { flags, positionals } = parseFlags(args, cacheFlags, { command: "cache", positionals: 1 });
  if (flags.help) {
    ctx.output.out(HELP);
    return 0;
  }
  const action = positionals[0];
  const dir = cacheDirOf(resolveDataDir(flags, ctx));
  const cache = createDiskCache(dir, { clock: ctx.clock });
  const print = (result: Record<string, unknown>, text: string) =>
    ctx.output.out(flags.json ? JSON.stringify({ cache: dir, ...result }) : text);
  switch (action) {
    case "stats": {
      const s = await cache.stats();
      const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
      print(
        { ...s },
        `${dir}: ${s.entries} entries, ${(s.bytes / 1024).toFixed(1)} KiB, oldest ${
          when(s.oldestMs)
        }, newest ${when(s.newestMs)}`,
      );
      return 0;
    }
    case "prune": {
      const age = flags["older-than"];
      if (typeof age !== "string") throw new UsageError("cache prune needs --older-than AGE (e.g. 30d)");
      const removed = await cache.prune(parseAge(age));
      print({ removed }, `removed ${removed} entries older than ${age} from ${dir}`);
      return 0;
    }
    case "clear": {
      const removed = await cache.clear();
      print({ removed }, `removed ${removed} entries from ${dir}`);
      return 0;
    }
    default:
      throw new UsageError(
        action === undefined
          ? "cache needs an action: stats, prune or clear (see 'ccpipe cache --help')"
          : `Unknown cache action '${action}': expected stats, prune or clear`,
      );
  }
}
