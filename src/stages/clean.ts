/**
 * Stage 2 — clean, in two halves. {@linkcode checkRecord} (stateless, on any thread) validates a parsed
 * record's envelope, classifies its kind, normalises its text and picks out its usage; {@linkcode admitRecord}
 * (stateful, in file and line order on one thread) counts it, hands its usage to the accumulator and
 * dedupes conversation records globally by `uuid`.
 *
 * @module
 */
import { envelopeSchema } from "../schema/mod.ts";
import type { Envelope, RawRecord, RejectRow } from "../schema/mod.ts";
import { fastGuard } from "../schema/fast_guard.ts";
import type { FingerprintSet } from "../state/fingerprint_set.ts";
import { type Classified, classify } from "./classify.ts";
import { normalizeText } from "./normalize_text.ts";
import { type UsageAccumulator, type UsageLine, usageLineOf, type UsageWhere } from "./usage.ts";
import { isoTimestamp, sessionIdOf } from "./_identity.ts";
import { jsonPrefix } from "../io/safe_json.ts";
import { fingerprintHex } from "../ids.ts";

/** A unique, classified conversation record. */
export interface CleanRecord {
  raw: RawRecord;
  env: Envelope;
  classified: Classified;
  /** Normalised text, or null. */
  text: string | null;
  timestamp: string | null;
}

/** Session metadata carried by records without a uuid (titles, summaries). */
export interface SessionMeta {
  sessionId: string;
  title?: string;
  summary?: string;
}

/** Counts Stage 2 keeps for the reconciliation. */
export interface CleanStats {
  /** Records carrying a uuid (conversation records), duplicates included. */
  uuidRecords: number;
  unique: number;
  duplicates: number;
  /** Records with a uuid whose envelope failed validation (each becomes a reject row). */
  invalid: number;
  /** Records without a uuid, by type (summaries, snapshots, titles, queue operations...). */
  withoutUuid: Record<string, number>;
}

/** Returns zeroed {@linkcode CleanStats}. */
export function createCleanStats(): CleanStats {
  return { uuidRecords: 0, unique: 0, duplicates: 0, invalid: 0, withoutUuid: {} };
}

/** The state {@linkcode admitRecord} updates. */
export interface CleanOptions {
  /** uuids seen in this and earlier runs; unique records are added to it. */
  seen: FingerprintSet;
  usage: UsageAccumulator;
  stats: CleanStats;
}

const isEnvelope = fastGuard(envelopeSchema);

const TITLE_TYPES = new Set(["ai-title", "custom-title"]);

function metaOf(raw: RawRecord): SessionMeta | null {
  const value = raw.value;
  const sessionId = sessionIdOf(raw, {
    sessionId: typeof value.sessionId === "string" ? value.sessionId : null,
  });
  if (TITLE_TYPES.has(raw.type)) {
    const title = value.aiTitle ?? value.customTitle ?? value.title;
    return typeof title === "string" ? { sessionId, title } : null;
  }
  if (raw.type === "summary" && typeof value.summary === "string") {
    return { sessionId, summary: value.summary };
  }
  return null;
}

function schemaReject(raw: RawRecord, message: string): Omit<RejectRow, "run_id"> {
  // Only the start is serialised, without recursion: the record may be nested 10,000 deep.
  const prefix = jsonPrefix(raw.value, 200);
  return {
    // By content and offset, not path: a moved or copied transcript does not add its rejects again.
    reject_key: `${fingerprintHex(`${raw.bytes}:${prefix}`)}:${raw.offset}`,
    source_file: raw.file,
    line_number: raw.line,
    byte_offset: raw.offset,
    error: `Record does not match the transcript envelope: ${message}`,
    prefix,
    line_bytes: raw.bytes,
  };
}

/** What Stage 2 decides about one record without any state: the part that can run on any thread. */
export type CheckedRecord =
  /** A conversation record with a valid envelope, classified, with its usage facts when it has any. */
  | { kind: "message"; record: CleanRecord; usage: UsageLine | null }
  /** A record with a uuid whose envelope fails the schema. */
  | { kind: "invalid"; reject: Omit<RejectRow, "run_id"> }
  /** A record without uuid (titles, summaries, snapshots...), with the session metadata it carries. */
  | { kind: "no_uuid"; type: string; meta: SessionMeta | null };

/**
 * The stateless half of Stage 2 for one record: validates its envelope, classifies it, normalises its
 * text and picks out its usage facts. Pure: records of different files can be checked on different threads.
 *
 * @param raw One of Stage 1's records.
 * @returns The record checked.
 */
export function checkRecord(raw: RawRecord): CheckedRecord {
  // A record with a uuid of the wrong type (a number, "") is invalid, not a record without uuid.
  if (raw.value.uuid === undefined || raw.value.uuid === null) {
    return { kind: "no_uuid", type: raw.type, meta: metaOf(raw) };
  }
  // The guard accepts what the schema would and spares zod's copy; zod still explains a failure.
  const parsed = isEnvelope(raw.value)
    ? { success: true as const, data: raw.value as Envelope }
    : envelopeSchema.safeParse(raw.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: "invalid",
      reject: schemaReject(raw, `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    };
  }
  const env = parsed.data;
  const timestamp = isoTimestamp(env.timestamp);
  const classified = classify(env);
  const text = classified.text === null ? null : normalizeText(classified.text);
  const usage = usageLineOf(env);
  return { kind: "message", record: { raw, env, classified, text, timestamp }, usage };
}

/** What {@linkcode admitRecord} needs of a checked record. */
export type Admissible =
  | { k: "message"; uuid: string; usage: UsageLine | null; where: UsageWhere }
  | { k: "invalid" }
  | { k: "no_uuid"; type: string };

/**
 * The stateful half of Stage 2 for one checked record, in file and line order: counts it, observes its
 * usage (duplicates included) and dedupes it against every uuid seen in this and earlier runs.
 *
 * @param checked What {@linkcode checkRecord} said of the record.
 * @param options The global seen-set, the usage accumulator and the stats to fill.
 * @returns Whether the record is a unique conversation record (the only ones that become rows).
 */
export function admitRecord(checked: Admissible, options: CleanOptions): boolean {
  const { stats } = options;
  if (checked.k === "no_uuid") {
    stats.withoutUuid[checked.type] = (stats.withoutUuid[checked.type] ?? 0) + 1;
    return false;
  }
  stats.uuidRecords++;
  if (checked.k === "invalid") {
    stats.invalid++;
    return false;
  }
  if (checked.usage) options.usage.observeLine(checked.usage, checked.where);
  if (!options.seen.add(checked.uuid)) {
    stats.duplicates++;
    return false;
  }
  stats.unique++;
  return true;
}
