/**
 * The five final tables, defined once. Row types, DuckDB DDL and BigQuery schemas all derive from
 * these zod objects (see `columns.ts`).
 *
 * @module
 */
import { z } from "zod";
import { type Column, columnsOf } from "./columns.ts";

/** The kinds Stage 2 assigns to a record. */
export const MessageKinds = [
  "human_prompt",
  "tool_result",
  "assistant_text",
  "thinking",
  "tool_use",
  "system",
  "meta",
  "compact_summary",
  "slash_command",
  "snapshot",
  "other",
] as const;
/** One of {@linkcode MessageKinds}. */
export type MessageKind = typeof MessageKinds[number];

/** Outcomes Stage 4 records per prompt in `messages.correction_status`. */
export const CorrectionStatuses = [
  "pending",
  "corrected",
  "unchanged",
  "unchanged_local",
  "skipped_no_llm",
  "skipped_empty",
  "skipped_slash_command",
  "skipped_code_or_output",
] as const;

const json = () => z.unknown().meta({ column: "json" });

// Which machine (and, optionally, which person) loaded a row: many machines share one BigQuery dataset.
// Stamped on every staged row by the pipeline (src/pipeline/staging.ts); optional so producers and
// rows loaded before machine ids existed need not carry them.
const machineFields = {
  machine_id: z.string().optional().meta({
    description: "the loading machine: a hash of host name and OS user, or the --machine-name given",
  }),
  user_label: z.string().nullable().optional().meta({ description: "the --user label, if any" }),
};

/** One row per unique conversation record (uuid-bearing line). */
export const messageRowSchema = z.object({
  uuid: z.string().min(1),
  message_key: z.string().meta({
    description: "64-bit fingerprint of the uuid (16 hex), stable across runs",
  }),
  parent_uuid: z.string().nullable(),
  logical_parent_uuid: z.string().nullable(),
  session_id: z.string(),
  project_id: z.string(),
  project: z.string().nullable(),
  turn: z.int().nullable(),
  timestamp: z.iso.datetime().nullable(),
  event_date: z.iso.date().nullable(),
  type: z.string(),
  subtype: z.string().nullable(),
  kind: z.enum(MessageKinds),
  role: z.string().nullable(),
  model: z.string().nullable(),
  api_message_id: z.string().nullable(),
  request_id: z.string().nullable(),
  text: z.string().nullable(),
  tool_names: z.array(z.string()),
  is_sidechain: z.boolean(),
  is_meta: z.boolean(),
  is_compact_summary: z.boolean(),
  agent_id: z.string().nullable(),
  git_branch: z.string().nullable(),
  cc_version: z.string().nullable(),
  source_file: z.string(),
  source_line: z.int(),
  source_offset: z.int(),
  run_id: z.string(),
  corrected_text: z.string().nullable(),
  correction_status: z.string().nullable(),
  correction_model: z.string().nullable(),
  extra: json().nullable(),
}).extend(machineFields);
/** A `messages` row. */
export type MessageRow = z.infer<typeof messageRowSchema>;

/** One row per API response, ccusage-compatible token counts. */
export const usageRowSchema = z.object({
  usage_key: z.string().meta({ description: "message.id:requestId, or message.id alone" }),
  api_message_id: z.string(),
  request_id: z.string().nullable(),
  session_id: z.string(),
  project_id: z.string(),
  model: z.string(),
  timestamp: z.iso.datetime().nullable(),
  event_date: z.iso.date().nullable(),
  input_tokens: z.int(),
  output_tokens: z.int(),
  cache_creation_input_tokens: z.int(),
  // The split of cache writes by lifetime (1-hour writes cost 2x input, 5-minute ones 1.25x); null on
  // rows loaded before ccpipe kept it and on responses that do not report it.
  cache_creation_5m_input_tokens: z.int().nullable().meta({
    description: "cache_creation.ephemeral_5m_input_tokens",
  }),
  cache_creation_1h_input_tokens: z.int().nullable().meta({
    description: "cache_creation.ephemeral_1h_input_tokens",
  }),
  cache_read_input_tokens: z.int(),
  total_tokens: z.int(),
  web_search_requests: z.int().nullable().meta({ description: "server_tool_use.web_search_requests" }),
  web_fetch_requests: z.int().nullable().meta({ description: "server_tool_use.web_fetch_requests" }),
  service_tier: z.string().nullable(),
  speed: z.string().nullable(),
  is_sidechain: z.boolean(),
  source_uuid: z.string(),
  run_id: z.string(),
}).extend(machineFields);
/** A `usage` row. */
export type UsageRow = z.infer<typeof usageRowSchema>;

/** Per-session aggregates. */
export const sessionRowSchema = z.object({
  session_id: z.string(),
  project_id: z.string(),
  project: z.string().nullable(),
  first_timestamp: z.iso.datetime().nullable(),
  last_timestamp: z.iso.datetime().nullable(),
  event_date: z.iso.date().nullable(),
  message_count: z.int(),
  human_prompt_count: z.int(),
  assistant_count: z.int(),
  tool_use_count: z.int(),
  title: z.string().nullable(),
  summary: z.string().nullable(),
  git_branch: z.string().nullable(),
  cc_version: z.string().nullable(),
  run_id: z.string(),
}).extend(machineFields);
/** A `sessions` row. */
export type SessionRow = z.infer<typeof sessionRowSchema>;

/** Every line that could not be parsed, with where to find it. */
export const rejectRowSchema = z.object({
  reject_key: z.string().meta({
    description: "fingerprint of the line:byte_offset (a moved transcript keeps its keys)",
  }),
  source_file: z.string(),
  line_number: z.int(),
  byte_offset: z.int(),
  error: z.string(),
  prefix: z.string(),
  line_bytes: z.int(),
  run_id: z.string(),
}).extend(machineFields);
/** A `rejects` row. */
export type RejectRow = z.infer<typeof rejectRowSchema>;

/** One row per run; written last, so its presence marks a completed load. */
export const runRowSchema = z.object({
  run_id: z.string(),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
  status: z.string(),
  sources: z.array(z.string()),
  files: z.int(),
  bytes_read: z.int(),
  lines_read: z.int(),
  records_parsed: z.int(),
  rejects: z.int(),
  blank_lines: z.int(),
  unique_records: z.int(),
  duplicate_records: z.int(),
  usage_rows: z.int(),
  prompts: z.int(),
  llm_calls: z.int(),
  llm_cache_hits: z.int(),
  llm_tokens_in: z.int(),
  llm_tokens_out: z.int(),
  llm_cost_usd: z.number(),
  duration_ms: z.int(),
  stats: json().nullable(),
}).extend(machineFields);
/** A `runs` row. */
export type RunRow = z.infer<typeof runRowSchema>;

/**
 * How a column is updated when a loaded row matches an existing row on the natural key.
 * - `replace`: take the new value (the default).
 * - `prefer_new_non_null`: take the new value unless it is NULL, then keep the old one.
 * - `keep_first`: keep the old value unless it is NULL (the first machine to load a shared record keeps it).
 */
export type MergeRule = "replace" | "prefer_new_non_null" | "keep_first";

// A record synced to several machines (a subagent file on two laptops) is one row: its first loader keeps it.
const firstLoader = { machine_id: "keep_first", user_label: "keep_first" } as const;

/** What a sink needs to know about a table beyond its columns. */
export interface TableDef<S extends z.ZodObject = z.ZodObject> {
  name: TableName;
  schema: S;
  /** Natural key: upserts and MERGEs match on these columns. */
  key: readonly string[];
  /** Per-column rule on a key match; unlisted columns are `replace`. */
  mergeRules?: Readonly<Record<string, MergeRule>>;
  /**
   * A group of columns kept together: when the new row's `guard` column is NULL and the old row's is not,
   * every column of the group keeps its old value (a rerun without Stage 4 never erases a correction).
   */
  stickyGroup?: { guard: string; columns: readonly string[] };
  /** Update a matched row only when the new row's value in this column is greater (the max-token copy wins). */
  replaceWhenGreater?: string;
  partitionBy?: string;
  clusterBy?: readonly string[];
  columns: Column[];
}

/** Names of the final tables, in load order (`runs` last: it marks completion). */
export const TableNames = ["messages", "usage", "sessions", "rejects", "runs"] as const;
/** One of {@linkcode TableNames}. */
export type TableName = typeof TableNames[number];

function defineTable<S extends z.ZodObject>(def: Omit<TableDef<S>, "columns">): TableDef<S> {
  return { ...def, columns: columnsOf(def.schema) };
}

/** All table definitions keyed by name. */
export const Tables = {
  messages: defineTable({
    name: "messages",
    schema: messageRowSchema,
    key: ["uuid"],
    partitionBy: "event_date",
    clusterBy: ["session_id", "kind"],
    mergeRules: firstLoader,
    stickyGroup: {
      guard: "corrected_text",
      columns: ["corrected_text", "correction_status", "correction_model"],
    },
  }),
  usage: defineTable({
    name: "usage",
    schema: usageRowSchema,
    key: ["usage_key"],
    partitionBy: "event_date",
    clusterBy: ["model"],
    replaceWhenGreater: "total_tokens",
    mergeRules: firstLoader,
  }),
  // Counts and first/last times in `sessions` are recomputed by the sink from `messages` for the
  // sessions a run touched (see src/sinks/sink.ts), so reruns and incremental runs stay exact.
  sessions: defineTable({
    name: "sessions",
    schema: sessionRowSchema,
    key: ["session_id"],
    mergeRules: {
      project: "prefer_new_non_null",
      title: "prefer_new_non_null",
      summary: "prefer_new_non_null",
      git_branch: "prefer_new_non_null",
      cc_version: "prefer_new_non_null",
      ...firstLoader,
    },
  }),
  // A path and a run id are only unique on one machine: the machine is part of the key.
  rejects: defineTable({ name: "rejects", schema: rejectRowSchema, key: ["machine_id", "reject_key"] }),
  runs: defineTable({ name: "runs", schema: runRowSchema, key: ["machine_id", "run_id"] }),
} as const satisfies Record<TableName, TableDef>;

/** Maps each table name to its row type. */
export interface TableRows {
  messages: MessageRow;
  usage: UsageRow;
  sessions: SessionRow;
  rejects: RejectRow;
  runs: RunRow;
}
