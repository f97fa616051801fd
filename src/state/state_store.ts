/**
 * The data dir's small durable state: watermarks, the global uuid fingerprint set and per-session
 * turn counters. Every file is written as temp file + rename, and only after the run's rows loaded,
 * so a kill at any moment leaves a rerun that neither loses nor duplicates rows.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import type { Watermark } from "../schema/mod.ts";
import { FingerprintSet } from "./fingerprint_set.ts";
import { loadWatermarks, saveWatermarks } from "./watermarks.ts";

/** Everything a run reads at its start and commits at its end. */
export interface PipelineState {
  watermarks: Map<string, Watermark>;
  seen: FingerprintSet;
  turns: Map<string, number>;
}

/** Paths of the state files under a data dir. */
export function statePaths(
  dataDir: string,
): { dir: string; watermarks: string; seen: string; turns: string } {
  const dir = `${dataDir}/state`;
  return {
    dir,
    watermarks: `${dir}/watermarks.json`,
    seen: `${dir}/seen_uuids.bin`,
    turns: `${dir}/turns.json`,
  };
}

async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new InputError(`Cannot read state file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads the state of a data dir (empty state when it has none yet).
 *
 * @throws {InputError} When a state file exists but is corrupt.
 */
export async function loadState(dataDir: string): Promise<PipelineState> {
  const paths = statePaths(dataDir);
  const watermarks = await loadWatermarks(paths.watermarks);
  const seenBytes = await readOptional(paths.seen);
  let seen: FingerprintSet;
  try {
    seen = seenBytes ? FingerprintSet.fromBytes(seenBytes) : new FingerprintSet(4096);
  } catch (error) {
    throw new InputError(`Cannot use state file ${paths.seen}: it is corrupt (${(error as Error).message})`, {
      cause: error,
    });
  }
  const turnsBytes = await readOptional(paths.turns);
  let turns = new Map<string, number>();
  if (turnsBytes) {
    try {
      turns = new Map(
        Object.entries(JSON.parse(new TextDecoder().decode(turnsBytes)) as Record<string, number>),
      );
    } catch (error) {
      throw new InputError(`Cannot use state file ${paths.turns}: it is not valid JSON`, { cause: error });
    }
  }
  return { watermarks, seen, turns };
}

/** Commits the state after a successful load. */
export async function saveState(dataDir: string, state: PipelineState): Promise<void> {
  const paths = statePaths(dataDir);
  await writeFileAtomic(paths.seen, state.seen.toBytes());
  await writeFileAtomic(paths.turns, JSON.stringify(Object.fromEntries(state.turns)));
  // Watermarks last: if anything before failed, the next run rereads and the upserts absorb it.
  await saveWatermarks(paths.watermarks, state.watermarks.values());
}
