/**
 * The contract every warehouse sink (DuckDB, BigQuery, none) fulfils.
 *
 * The pipeline stages each table's rows for a run as one NDJSON file (`runs/<run_id>/<table>.ndjson`,
 * one JSON object per line, keys = the table's column names, timestamps as ISO strings, `string[]`
 * columns as JSON arrays, `json` columns as any JSON value). A sink loads each file and upserts it on
 * the table's natural key following the table's merge rules (`src/schema/tables.ts`), so loading the
 * same file twice changes nothing. Tables are loaded in {@linkcode TableNames} order; `runs` is last
 * and marks the run complete.
 *
 * After loading `sessions`, a sink recomputes, for the session ids present in that staged file, the
 * aggregate columns from its `messages` table: `first_timestamp` = MIN(timestamp), `last_timestamp` =
 * MAX(timestamp), `event_date` = MIN(event_date) (the day in the run's time zone), `message_count` = COUNT(*),
 * `human_prompt_count` = COUNT(kind = 'human_prompt'), `assistant_count` = COUNT(type = 'assistant'),
 * `tool_use_count` = SUM(array length of tool_names).
 *
 * The warehouse is the source of truth: the pending-prompt queue names waiting prompts by uuid only, and a
 * run with a Gemini key reads their rows back with `readMessages` (see `src/state/pending_queue.ts`).
 *
 * @module
 */
import type { MessageRow, TableName } from "../schema/tables.ts";
import type { PendingRef } from "../state/pending_queue.ts";

/** One table's staged rows for a run. */
export interface StagedTable {
  table: TableName;
  /** Path of the NDJSON file. */
  path: string;
  rows: number;
  bytes: number;
  /** Upper bound of the longest row's size in bytes (readers size their buffers by it). */
  maxRowBytes?: number;
}

/** What loading one staged table did. */
export interface LoadResult {
  table: TableName;
  rowsStaged: number;
  /** Row count of the target table before and after the load. */
  rowsBefore: number;
  rowsAfter: number;
  bytes: number;
}

/** A destination for the final tables. */
export interface Sink extends AsyncDisposable {
  /** Short name for summaries (`duckdb`, `bigquery`, `none`). */
  readonly name: string;
  /** Human-readable location of the data (a file path, `project.dataset`). */
  readonly location: string;
  /** Creates missing tables and adds missing nullable columns; refuses type conflicts. */
  prepare(): Promise<void>;
  /** Loads one staged table idempotently. */
  load(staged: StagedTable): Promise<LoadResult>;
  /** Current row count of every table. */
  counts(): Promise<Record<TableName, number>>;
  /**
   * Reads back the `messages` rows of `refs` (the prompts waiting for Stage 4), shaped like staged rows
   * (timestamps as ISO strings, `json` columns parsed); rows the warehouse lacks are left out, order is
   * not kept. A table not created yet holds no row.
   */
  readMessages(refs: PendingRef[]): Promise<MessageRow[]>;
  /**
   * Whether the warehouse holds the `runs` row of `runId` (of any run when null): the pipeline's check
   * that the warehouse is not behind its state (a deleted or restored database). Optional: a sink
   * without it is trusted.
   */
  holdsRun?(runId: string | null): Promise<boolean>;
}
