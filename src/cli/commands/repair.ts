/**
 * `ccpipe repair`: the documented way out of a corrupt or untrusted state. The state (watermarks, dedupe
 * set, turn counters, pending prompts) is moved aside, never deleted; the next `ccpipe run` rereads every
 * transcript and upserts it, which adds no duplicate row because every load merges on the natural key.
 *
 * @module
 */
import { acquireLock } from "../../pipeline/lock.ts";
import { dataDirLayout } from "../../state/data_dir.ts";
import { setStateAside } from "../../state/state_store.ts";
import type { FlagSpecs } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { jsonLine } from "../json_output.ts";
import { dataDirFlags, jsonFlag, resolveDataDir } from "../shared_args.ts";

/** Flags of `ccpipe repair`. */
export const repairFlags: FlagSpecs = { ...dataDirFlags, ...jsonFlag() };

/** `ccpipe repair`. */
export const repairCommand: Command = defineCommand({
  name: "repair",
  description: `Sets the run state aside (state/set-aside-<time>/) so the next 'ccpipe run' rereads every
transcript. Use it when a run reports corrupt state. The tables keep every row; rereading adds no duplicate.`,
  flags: repairFlags,
  async run({ flags }, ctx) {
    const dataDir = resolveDataDir(flags, ctx);
    await using _lock = await acquireLock(dataDir);
    const stamp = new Date(ctx.clock.now()).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const aside = await setStateAside(dataDirLayout(dataDir).state, stamp);
    const text = aside === null
      ? `ccpipe repair: no state in ${dataDir}; nothing to do`
      : `ccpipe repair: state moved to ${aside}; the next 'ccpipe run' rereads every transcript (no row is duplicated)`;
    ctx.output.out(flags.json ? jsonLine({ dataDir, setAside: aside }) : text);
    return 0;
  },
});
