/**
 * `ccpipe cache stats|prune|clear`: look after the Stage 4 answer cache.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { count } from "../../format.ts";
import { createDiskCache } from "../../llm/disk_cache.ts";
import { type FlagSpecs, unknownChoice } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { jsonLine } from "../json_output.ts";
import { cacheDirOf } from "../llm_args.ts";
import { dataDirFlags, jsonFlag, resolveDataDir } from "../shared_args.ts";

/** The actions of `ccpipe cache`. */
export const CacheActions = ["stats", "prune", "clear"] as const;

/** Flags of `ccpipe cache`. */
export const cacheFlags: FlagSpecs = {
  ...dataDirFlags,
  "older-than": {
    type: "string",
    value: "AGE",
    group: "general",
    help: "With prune: entries older than AGE (e.g. 30d, 12h, 90m)",
  },
  ...jsonFlag(),
};

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

/** `ccpipe cache`. */
export const cacheCommand: Command = defineCommand({
  name: "cache",
  operands: "<stats|prune|clear>",
  actions: CacheActions,
  positionals: 1,
  description:
    `Shows, prunes or clears the Stage 4 answer cache (redacted prompt texts and their corrections).
A cleared entry costs one more Gemini call the next time its prompt is seen.`,
  flags: cacheFlags,
  async run({ flags, positionals }, ctx) {
    const action = positionals[0];
    const dir = cacheDirOf(resolveDataDir(flags, ctx));
    const cache = createDiskCache(dir, { clock: ctx.clock });
    const print = (result: Record<string, unknown>, text: string) =>
      ctx.output.out(flags.json ? jsonLine({ cache: dir, ...result }) : text);
    switch (action) {
      case "stats": {
        const s = await cache.stats();
        const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
        print(
          { ...s },
          `${dir}: ${count(s.entries, "entry", "entries")}, ${(s.bytes / 1024).toFixed(1)} KiB, oldest ${
            when(s.oldestMs)
          }, newest ${when(s.newestMs)}`,
        );
        return 0;
      }
      case "prune": {
        const age = flags["older-than"];
        if (typeof age !== "string") throw new UsageError("cache prune needs --older-than AGE (e.g. 30d)");
        const removed = await cache.prune(parseAge(age));
        print({ removed }, `removed ${count(removed, "entry", "entries")} older than ${age} from ${dir}`);
        return 0;
      }
      case "clear": {
        const removed = await cache.clear();
        print({ removed }, `removed ${count(removed, "entry", "entries")} from ${dir}`);
        return 0;
      }
      default: {
        if (action === undefined) {
          throw new UsageError("cache needs an action: stats, prune or clear (see 'ccpipe cache --help')");
        }
        throw unknownChoice("cache action", action, CacheActions);
      }
    }
  },
});
