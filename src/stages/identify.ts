/**
 * Stage 3 — identify: turns clean records into `messages` rows with ids that are the same whatever
 * the order of files or runs, numbers turns per session, keeps parent and compaction links, and
 * gathers per-session facts for the `sessions` table.
 *
 * @module
 */
import type { MachineColumns } from "../io/machine.ts";
import { fingerprintHex } from "../ids.ts";
import type { MessageRow, SessionRow } from "../schema/mod.ts";
import type { CleanRecord, SessionMeta } from "./clean.ts";
import { eventDateOf, projectIdOf, sessionIdOf } from "./_identity.ts";
import { sanitiseJson } from "../io/safe_json.ts";

/** Text longer than this (tool output, pasted logs) is cut in `messages.text`; prompts never are. */
export const MAX_STORED_TEXT_CHARS = 64 * 1024;

const KNOWN_KEYS = new Set([
  "type",
  "uuid",
  "parentUuid",
  "logicalParentUuid",
  "sessionId",
  "timestamp",
  "cwd",
  "gitBranch",
  "version",
  "isSidechain",
  "isMeta",
  "isCompactSummary",
  "agentId",
  "subtype",
  "requestId",
  "message",
  "userType",
  "toolUseResult",
]);

/** Last turn number per session, carried between runs so incremental runs continue the count. */
export type TurnState = Map<string, number>;

/** What Stage 3 needs to build a row besides the record and its turn. */
export interface IdentifyOptions {
  runId: string;
  /** Status for typed prompts: `pending` when Stage 4 will run, else `skipped_no_llm`. */
  promptStatus: "pending" | "skipped_no_llm";
  /** IANA zone of `event_date`. @default {"UTC"} */
  timeZone?: string;
  /** The machine (and user) columns to stamp the row with, last; none when absent. */
  machine?: MachineColumns;
}

function extraOf(record: CleanRecord): unknown {
  const value = record.raw.value;
  const extra: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (KNOWN_KEYS.has(key)) continue;
    extra[key] = v;
  }
  if (record.classified.blockTypes.length > 0) extra.blockTypes = record.classified.blockTypes;
  if (Object.keys(extra).length === 0) return null;
  // Unknown fields are the input's to shape: cap their depth before anything recursive walks them.
  const safe = sanitiseJson(extra);
  if (safe.notes.length > 0) (safe.value as Record<string, unknown>).ccpipe_sanitised = safe.notes;
  const json = JSON.stringify(safe.value);
  return json.length <= MAX_STORED_TEXT_CHARS ? safe.value : { truncated: true, keys: Object.keys(extra) };
}

function storedText(record: CleanRecord): string | null {
  const { text } = record;
  if (text === null || record.classified.kind === "human_prompt") return text;
  if (text.length <= MAX_STORED_TEXT_CHARS) return text;
  return `${text.slice(0, MAX_STORED_TEXT_CHARS)}\n…[${
    text.length - MAX_STORED_TEXT_CHARS
  } more characters cut]`;
}

/**
 * Advances a session's turn: a typed prompt starts the next turn, every other record stays in the
 * current one. Records must be given in file and line order.
 *
 * @param turns Last turn per session, updated in place.
 * @param sessionId The record's session.
 * @param isPrompt Whether the record is a typed prompt.
 * @returns The record's turn, or null before the session's first prompt.
 */
export function advanceTurn(turns: TurnState, sessionId: string, isPrompt: boolean): number | null {
  let turn = turns.get(sessionId) ?? 0;
  if (isPrompt) turns.set(sessionId, ++turn);
  return turn === 0 ? null : turn;
}

/**
 * Builds the `messages` row of one clean record with a turn already known (from {@linkcode advanceTurn}),
 * or left null, to be set by whoever holds the turn state. Pure.
 *
 * @param record A clean record.
 * @param options Run id, prompt status, time zone and machine columns.
 * @param turn The record's turn.
 * @returns The row.
 */
export function messageRowOf(record: CleanRecord, options: IdentifyOptions, turn: number | null): MessageRow {
  const { raw, env, classified } = record;
  const sessionId = sessionIdOf(raw, env);
  const isPrompt = classified.kind === "human_prompt";
  return {
    uuid: env.uuid,
    message_key: fingerprintHex(env.uuid),
    parent_uuid: env.parentUuid ?? null,
    logical_parent_uuid: env.logicalParentUuid ?? null,
    session_id: sessionId,
    project_id: projectIdOf(env.cwd),
    project: env.cwd ?? null,
    turn,
    timestamp: record.timestamp,
    event_date: eventDateOf(record.timestamp, options.timeZone),
    type: env.type,
    subtype: env.subtype ?? null,
    kind: classified.kind,
    role: env.message?.role ?? null,
    model: env.message?.model ?? null,
    api_message_id: env.message?.id ?? null,
    request_id: env.requestId ?? null,
    text: storedText(record),
    tool_names: classified.toolNames,
    is_sidechain: env.isSidechain === true,
    is_meta: env.isMeta === true,
    is_compact_summary: env.isCompactSummary === true,
    agent_id: env.agentId ?? null,
    git_branch: env.gitBranch ?? null,
    cc_version: env.version ?? null,
    source_file: raw.file,
    source_line: raw.line,
    source_offset: raw.offset,
    run_id: options.runId,
    corrected_text: null,
    correction_status: isPrompt ? options.promptStatus : null,
    correction_model: null,
    extra: extraOf(record),
    ...options.machine,
  };
}

/**
 * A `sessions` row with no facts yet: zero counts, no times, no title.
 *
 * @param sessionId The session.
 * @param runId The run that touched it.
 * @returns The row.
 */
export function emptySessionRow(sessionId: string, runId: string): SessionRow {
  return {
    session_id: sessionId,
    project_id: projectIdOf(null),
    project: null,
    first_timestamp: null,
    last_timestamp: null,
    event_date: null,
    message_count: 0,
    human_prompt_count: 0,
    assistant_count: 0,
    tool_use_count: 0,
    title: null,
    summary: null,
    git_branch: null,
    cc_version: null,
    run_id: runId,
  };
}

interface SessionFacts {
  row: SessionRow;
}

/** The fields of a `messages` row a session's row is built from (tool names only counted). */
export type SessionFactsOf = Pick<
  MessageRow,
  | "session_id"
  | "project"
  | "project_id"
  | "timestamp"
  | "event_date"
  | "kind"
  | "type"
  | "git_branch"
  | "cc_version"
>;

/** Gathers one `sessions` row per session touched in a run (the sink recomputes counts from `messages`). */
export class SessionAccumulator {
  #sessions = new Map<string, SessionFacts>();
  #runId: string;

  /** Creates an accumulator whose rows carry `runId`. */
  constructor(runId: string) {
    this.#runId = runId;
  }

  #get(sessionId: string): SessionRow {
    let facts = this.#sessions.get(sessionId);
    if (!facts) {
      facts = {
        row: emptySessionRow(sessionId, this.#runId),
      };
      this.#sessions.set(sessionId, facts);
    }
    return facts.row;
  }

  /**
   * Adds one message row's facts.
   *
   * @param row The row's facts.
   * @param toolCount Its tool uses (the length of its `tool_names`).
   */
  observeMessage(row: SessionFactsOf, toolCount: number): void {
    const s = this.#get(row.session_id);
    if (row.project !== null) {
      s.project = row.project;
      s.project_id = row.project_id;
    }
    if (row.timestamp !== null) {
      if (s.first_timestamp === null || row.timestamp < s.first_timestamp) {
        s.first_timestamp = row.timestamp;
        s.event_date = row.event_date;
      }
      if (s.last_timestamp === null || row.timestamp > s.last_timestamp) s.last_timestamp = row.timestamp;
    }
    s.message_count++;
    if (row.kind === "human_prompt") s.human_prompt_count++;
    if (row.type === "assistant") s.assistant_count++;
    s.tool_use_count += toolCount;
    if (row.git_branch) s.git_branch = row.git_branch;
    if (row.cc_version) s.cc_version = row.cc_version;
  }

  /** Adds a title or summary; the last one seen wins (Claude Code rewrites titles). */
  observeMeta(meta: SessionMeta): void {
    const s = this.#get(meta.sessionId);
    if (meta.title !== undefined) s.title = meta.title;
    if (meta.summary !== undefined) s.summary = meta.summary;
  }

  /** Number of sessions touched. */
  get size(): number {
    return this.#sessions.size;
  }

  /** One row per session touched, in first-seen order. */
  *rows(): IterableIterator<SessionRow> {
    for (const facts of this.#sessions.values()) yield facts.row;
  }
}
