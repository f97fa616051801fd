/**
 * The data dir's durable state, committed as a whole: watermarks, the global uuid fingerprint set,
 * per-session turn counters and the prompts waiting for Stage 4.
 *
 * One commit protocol, dlt-style: a commit writes a new *generation* of files beside the current one
 * (`watermarks.<n>.json`, `seen.<n>.bin`, `turns.<n>.json`, `pending.<n>.ndjson`, each synced), then
 * replaces `state/COMMIT` atomically. `COMMIT` names the generation's files with their size and SHA-256
 * and carries its own checksum, so a kill at any moment leaves either the old state or the new one, and
 * a corrupt or foreign file is refused with a clear error instead of being trusted. Files no longer named
 * by `COMMIT` are removed after it. The pipeline commits only after the run's rows loaded.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { InputError } from "../errors.ts";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, writeFileAtomic } from "../io/atomic_write.ts";
import { faultPoint } from "../fault_point.ts";
import type { Watermark } from "../schema/mod.ts";
import { FingerprintSet } from "./fingerprint_set.ts";
import { loadWatermarks, saveWatermarks } from "./watermarks.ts";

/** The last run whose rows reached a warehouse: the warehouse must still hold it (see `runs`). */
export interface LastLoad {
  runId: string;
  sink: string;
  location: string;
}

/** Everything a run reads at its start and commits at its end. */
export interface PipelineState {
  watermarks: Map<string, Watermark>;
  seen: FingerprintSet;
  turns: Map<string, number>;
  /** The queue of prompts waiting for Stage 4 (`pending_queue.ts`; read only: a commit writes a new one), or null. */
  pending: string | null;
  lastLoad: LastLoad | null;
  /** Generation of the committed state (0 before the first commit). */
  generation: number;
}

/** What a commit replaces the state with. */
export interface StateChange {
  watermarks: Map<string, Watermark>;
  seen: FingerprintSet;
  turns: Map<string, number>;
  /**
   * The prompts waiting after the run: an NDJSON file to take over (it is moved into the state), `"keep"`
   * for the current list unchanged, or null for none.
   */
  pending: string | "keep" | null;
  lastLoad: LastLoad | null;
}

/** The state of a data dir that has none yet. */
export function emptyState(): PipelineState {
  return {
    watermarks: new Map(),
    seen: new FingerprintSet(4096),
    turns: new Map(),
    pending: null,
    lastLoad: null,
    generation: 0,
  };
}

/** A state file that exists but cannot be trusted; the message says how to recover (exit code 3). */
export class StateCorruptError extends InputError {
  constructor(stateDir: string, what: string, options: { cause?: unknown } = {}) {
    super(
      `Cannot use the state in ${stateDir} as ${what}: run 'ccpipe repair --data-dir ${
        dirname(stateDir)
      }' to set it aside; the next run then rereads every transcript (loads are idempotent, no row is duplicated)`,
      options,
    );
  }
}

const COMMIT_FILE = "COMMIT";
const FORMAT = "ccpipe-state";
const VERSION = 2;
const PARTS = ["watermarks", "seen", "turns", "pending"] as const;
type Part = typeof PARTS[number];
const EXTENSIONS: Record<Part, string> = {
  watermarks: "json",
  seen: "bin",
  turns: "json",
  pending: "ndjson",
};
/** Files of the first state format (before COMMIT), read once and removed by the first commit. */
const LEGACY = {
  watermarks: "watermarks.json",
  seen: "seen_uuids.bin",
  turns: "turns.json",
  pending: "pending_prompts.ndjson",
};
const OWN_FILE = /^(?:(?:watermarks|seen|turns|pending)\.\d+\.(?:json|bin|ndjson)|COMMIT)$/;

interface FileEntry {
  name: string;
  bytes: number;
  sha256: string;
}

interface CommitRecord {
  format: string;
  version: number;
  generation: number;
  committedAt: string;
  lastLoad: LastLoad | null;
  files: Record<Part, FileEntry | null>;
}

/**
 * Loads the committed state of `stateDir` (empty state when it has none yet), verifying every file
 * against the commit record.
 *
 * @param stateDir The data dir's `state/` folder.
 * @throws {StateCorruptError} When a state file is corrupt, truncated or not ccpipe's.
 * @throws {InputError} When a state file cannot be read.
 */
export async function loadState(stateDir: string): Promise<PipelineState> {
  const commitText = await readOptional(join(stateDir, COMMIT_FILE), (b) => new TextDecoder().decode(b));
  if (commitText === null) return await loadLegacy(stateDir);
  const record = parseCommit(stateDir, commitText);
  const bytesOf = async (part: Part): Promise<Uint8Array | null> => {
    const entry = record.files[part];
    if (entry === null) return null;
    const bytes = await readOptional(join(stateDir, entry.name), (b) => b);
    if (bytes === null) throw new StateCorruptError(stateDir, `${entry.name} is missing`);
    if (bytes.length !== entry.bytes || sha256(bytes) !== entry.sha256) {
      throw new StateCorruptError(stateDir, `${entry.name} does not match its checksum`);
    }
    return bytes;
  };
  const state = emptyState();
  state.generation = record.generation;
  state.lastLoad = record.lastLoad;
  if (await bytesOf("watermarks")) {
    state.watermarks = await loadWatermarks(join(stateDir, record.files.watermarks!.name));
  }
  const seen = await bytesOf("seen");
  if (seen) state.seen = parseSeen(stateDir, record.files.seen!.name, seen);
  const turns = await bytesOf("turns");
  if (turns) state.turns = parseTurns(stateDir, record.files.turns!.name, turns);
  const pending = record.files.pending;
  if (pending) {
    const path = join(stateDir, pending.name);
    const digest = await fileDigest(path).catch(() => null);
    if (digest === null) throw new StateCorruptError(stateDir, `${pending.name} is missing`);
    if (digest.bytes !== pending.bytes || digest.sha256 !== pending.sha256) {
      throw new StateCorruptError(stateDir, `${pending.name} does not match its checksum`);
    }
    state.pending = path;
  }
  return state;
}

/**
 * Commits `next` as the new state of `stateDir`, atomically as a whole (see the module doc).
 *
 * @param stateDir The data dir's `state/` folder.
 * @param previous The state loaded at the start of the run.
 * @param next What replaces it.
 * @throws {InputError} When the state cannot be written (the previous state is then still in force).
 */
export async function commitState(
  stateDir: string,
  previous: PipelineState,
  next: StateChange,
): Promise<void> {
  const generation = previous.generation + 1;
  const name = (part: Part) => `${part}.${generation}.${EXTENSIONS[part]}`;
  const files = {} as Record<Part, FileEntry | null>;
  try {
    await saveWatermarks(join(stateDir, name("watermarks")), next.watermarks.values());
    await writeFileAtomic(join(stateDir, name("seen")), next.seen.toBytes(), { sync: true });
    await writeFileAtomic(join(stateDir, name("turns")), JSON.stringify(Object.fromEntries(next.turns)), {
      sync: true,
    });
    for (const part of ["watermarks", "seen", "turns"] as const) {
      files[part] = await entryOf(stateDir, name(part));
    }
    if (next.pending === "keep") {
      files.pending = previous.pending === null ? null : await entryOf(stateDir, basename(previous.pending));
    } else if (next.pending === null) {
      files.pending = null;
    } else {
      await Deno.rename(next.pending, join(stateDir, name("pending")));
      await Deno.chmod(join(stateDir, name("pending")), PRIVATE_FILE_MODE);
      using file = await Deno.open(join(stateDir, name("pending")), { read: true, write: true });
      await file.syncData();
      files.pending = await entryOf(stateDir, name("pending"));
    }
    faultPoint("commit.files");
    const record: CommitRecord = {
      format: FORMAT,
      version: VERSION,
      generation,
      committedAt: new Date().toISOString(),
      lastLoad: next.lastLoad,
      files,
    };
    const body = JSON.stringify(record);
    await writeFileAtomic(
      join(stateDir, COMMIT_FILE),
      JSON.stringify({ ...record, checksum: sha256(body) }),
      {
        sync: true,
        syncDir: true,
      },
    );
  } catch (error) {
    // saveWatermarks() explains its own failures; the disk-full case is named from the root cause.
    const root = error instanceof InputError && error.cause !== undefined ? error.cause : error;
    throw new InputError(`Cannot save the state in ${stateDir}: ${describeWriteError(root)}`, {
      cause: error,
    });
  }
  faultPoint("commit.record");
  // The new generation is in force: what it does not name is garbage (old generations, legacy files).
  const keep = new Set(Object.values(files).filter((f): f is FileEntry => f !== null).map((f) => f.name));
  for await (const entry of Deno.readDir(stateDir)) {
    const own = OWN_FILE.test(entry.name) || Object.values(LEGACY).includes(entry.name);
    if (entry.isFile && own && entry.name !== COMMIT_FILE && !keep.has(entry.name)) {
      await Deno.remove(join(stateDir, entry.name)).catch(() => {});
    }
  }
}

/**
 * Sets the state aside (moved to `state/set-aside-<stamp>/`), so the next run starts from empty state
 * and rereads every transcript. Other files in `state/` (BigQuery job budgets) stay.
 *
 * @param stateDir The data dir's `state/` folder.
 * @param stamp A name part for the folder (the time).
 * @returns The folder the files were moved to, or null when there was no state.
 */
export async function setStateAside(stateDir: string, stamp: string): Promise<string | null> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(stateDir)) {
      if (entry.isFile && (OWN_FILE.test(entry.name) || Object.values(LEGACY).includes(entry.name))) {
        names.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  if (names.length === 0) return null;
  const aside = join(stateDir, `set-aside-${stamp}`);
  await Deno.mkdir(aside, { recursive: true, mode: PRIVATE_DIR_MODE });
  // COMMIT first: once it is gone the rest is no longer state, whatever happens next.
  names.sort((a, b) => (a === COMMIT_FILE ? -1 : b === COMMIT_FILE ? 1 : 0));
  for (const name of names) await Deno.rename(join(stateDir, name), join(aside, name));
  return aside;
}

async function loadLegacy(stateDir: string): Promise<PipelineState> {
  const state = emptyState();
  state.watermarks = await loadWatermarks(join(stateDir, LEGACY.watermarks));
  const seen = await readOptional(join(stateDir, LEGACY.seen), (b) => b);
  if (seen) state.seen = parseSeen(stateDir, LEGACY.seen, seen);
  const turns = await readOptional(join(stateDir, LEGACY.turns), (b) => b);
  if (turns) state.turns = parseTurns(stateDir, LEGACY.turns, turns);
  const pending = join(stateDir, LEGACY.pending);
  if ((await readOptional(pending, () => true)) !== null) state.pending = pending;
  return state;
}

function parseCommit(stateDir: string, text: string): CommitRecord {
  let value: CommitRecord & { checksum?: unknown };
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StateCorruptError(stateDir, `${COMMIT_FILE} is not valid JSON`, { cause: error });
  }
  if (typeof value !== "object" || value === null || value.format !== FORMAT) {
    throw new StateCorruptError(stateDir, `${COMMIT_FILE} is not a ccpipe state record`);
  }
  if (value.version !== VERSION) {
    throw new StateCorruptError(
      stateDir,
      `${COMMIT_FILE} has version ${value.version}, this ccpipe reads ${VERSION}`,
    );
  }
  const { checksum, ...record } = value;
  if (checksum !== sha256(JSON.stringify(record))) {
    throw new StateCorruptError(stateDir, `${COMMIT_FILE} does not match its checksum`);
  }
  return record;
}

function parseSeen(stateDir: string, name: string, bytes: Uint8Array): FingerprintSet {
  try {
    return FingerprintSet.fromBytes(bytes);
  } catch (error) {
    throw new StateCorruptError(stateDir, `${name} is corrupt (${(error as Error).message})`, {
      cause: error,
    });
  }
}

function parseTurns(stateDir: string, name: string, bytes: Uint8Array): Map<string, number> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeError("not an object");
    }
    return new Map(Object.entries(value as Record<string, number>));
  } catch (error) {
    throw new StateCorruptError(stateDir, `${name} is not valid JSON`, { cause: error });
  }
}

async function readOptional<T>(path: string, parse: (bytes: Uint8Array) => T): Promise<T | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new InputError(`Cannot read state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parse(bytes);
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function entryOf(stateDir: string, name: string): Promise<FileEntry> {
  const digest = await fileDigest(join(stateDir, name));
  return { name, ...digest };
}

/** A write error in words, the disk-full case named. */
export function describeWriteError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOSPC") return "the disk is full (no space left on device)";
  if (code === "EDQUOT") return "the disk quota is exceeded";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/, "");
}
