// Identity helpers shared by Stage 2 (usage rows) and Stage 3 (message rows).
import { stableId } from "../ids.ts";
import type { RawRecord } from "../schema/mod.ts";

/** Session of a record: its `sessionId`, else the file name without `.jsonl` (sniffly's fallback). */
export function sessionIdOf(raw: RawRecord, env: { sessionId?: string | null }): string {
  if (env.sessionId) return env.sessionId;
  const name = raw.file.slice(raw.file.lastIndexOf("/") + 1);
  return name.endsWith(".jsonl") ? name.slice(0, -".jsonl".length) : name;
}

// A run sees few distinct working directories: hash each once.
const projectIds = new Map<string, string>();

/** Project id: a short stable hash of the record's `cwd` (the encoded folder name is lossy). */
export function projectIdOf(cwd: string | null | undefined): string {
  const key = cwd ?? "(unknown)";
  let id = projectIds.get(key);
  if (id === undefined) {
    id = stableId(["project", key], 12);
    if (projectIds.size < 10_000) projectIds.set(key, id);
  }
  return id;
}

const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A timestamp as ISO-8601 UTC, or null when absent or unparsable. */
export function isoTimestamp(value: unknown): string | null {
  if (typeof value !== "string") return null;
  // Claude Code writes canonical UTC with milliseconds: skip the parse/format round trip.
  if (CANONICAL_UTC.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar date (`YYYY-MM-DD`) of an ISO timestamp in an IANA time zone (UTC by default): the day a
 * person in that zone would say the event happened, which is what "prompts per day" should group by.
 *
 * @throws {RangeError} When `timeZone` is not a known IANA zone.
 */
export function eventDateOf(iso: string | null, timeZone = "UTC"): string | null {
  if (!iso) return null;
  if (timeZone === "UTC") return iso.slice(0, 10);
  let format = dateFormats.get(timeZone);
  if (!format) {
    // en-CA formats dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dateFormats.set(timeZone, format);
  }
  return format.format(new Date(iso));
}
