// Identity helpers shared by Stage 2 (usage rows) and Stage 3 (message rows).
import { stableId } from "../ids.ts";
import type { Envelope, RawRecord } from "../schema/mod.ts";

/** Session of a record: its `sessionId`, else the file name without `.jsonl` (sniffly's fallback). */
export function sessionIdOf(raw: RawRecord, env: { sessionId?: string | null }): string {
  if (env.sessionId) return env.sessionId;
  const name = raw.file.slice(raw.file.lastIndexOf("/") + 1);
  return name.endsWith(".jsonl") ? name.slice(0, -".jsonl".length) : name;
}

/** Project id: a short stable hash of the record's `cwd` (the encoded folder name is lossy). */
export function projectIdOf(cwd: string | null | undefined): string {
  return stableId(["project", cwd ?? "(unknown)"], 12);
}

/** A timestamp as ISO-8601 UTC, or null when absent or unparsable. */
export function isoTimestamp(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The UTC calendar date (`YYYY-MM-DD`) of an ISO timestamp. */
export function eventDateOf(iso: string | null): string | null {
  return iso ? iso.slice(0, 10) : null;
}

/** Shorthand for the envelope's working directory. */
export function cwdOf(env: Envelope): string | null {
  return env.cwd ?? null;
}
