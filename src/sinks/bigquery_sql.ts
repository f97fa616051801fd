/**
 * The SQL the BigQuery sink runs: the MERGE from a staging table into its target and the `sessions`
 * aggregate refresh. Identifiers are validated and backticked; values travel as
 * named query parameters, never spliced into the text.
 *
 * @module
 */
import type { TableDef } from "../schema/tables.ts";
import { buildMerge } from "./_merge_sql.ts";

/** A fully qualified table. */
export interface TableRef {
  project: string;
  dataset: string;
  table: string;
}

/** A statement with its named parameters (`@name` in the text). */
export interface Statement {
  query: string;
  params?: Record<string, string | number | boolean | string[]>;
  /** BigQuery types of parameters the SDK cannot infer (`["DATE"]` for an array of dates). */
  types?: Record<string, string | string[]>;
}

/**
 * Renders a column name for BigQuery SQL: validated, then backticked, so a column named like a
 * reserved word (`select`, `hash`) still parses.
 *
 * @param name The column.
 * @returns `` `name` ``.
 * @throws {TypeError} When `name` is not a plain identifier.
 *
 * @example
 * ```ts
 * import { quoteColumn } from "./bigquery_sql.ts";
 * if (quoteColumn("select") !== "`select`") throw new Error();
 * ```
 */
export function quoteColumn(name: string): string {
  return `\`${checkIdentifier(name)}\``;
}

// Rows of these tables never change once written (a reject is its line, a line is never rewritten),
// so their MERGE inserts only: on an unpartitioned table any UPDATE clause bills every column of the
// whole table (q + t in BigQuery's DML pricing), an INSERT-only MERGE just the columns it reads.
const insertOnlyTables = new Set(["rejects"]);

const projectPattern = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const namePattern = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const datasetPattern = /^[A-Za-z0-9_]{1,1024}$/;
const tablePattern = /^[A-Za-z0-9_]{1,1024}$/;

/**
 * Checks a column or parameter name and returns it unchanged.
 *
 * @param name The identifier.
 * @returns `name`.
 * @throws {TypeError} When `name` is not a plain SQL identifier (letters, digits, underscores).
 */
export function checkIdentifier(name: string): string {
  if (!namePattern.test(name)) {
    throw new TypeError(
      `Cannot use '${name}' in SQL as it must be a plain identifier: current value is ${name}`,
    );
  }
  return name;
}

/**
 * Renders a table reference as one backticked path.
 *
 * @param ref The table.
 * @returns `` `project.dataset.table` ``.
 * @throws {TypeError} When a part is not a valid project, dataset or table id.
 *
 * @example
 * ```ts
 * import { quoteTable } from "./bigquery_sql.ts";
 * if (quoteTable({ project: "my-project", dataset: "d", table: "t" }) !== "`my-project.d.t`") throw new Error();
 * ```
 */
export function quoteTable(ref: TableRef): string {
  if (!projectPattern.test(ref.project)) {
    throw new TypeError(`Cannot use project '${ref.project}' in SQL as it must be a project id`);
  }
  if (!datasetPattern.test(ref.dataset)) {
    throw new TypeError(`Cannot use dataset '${ref.dataset}' in SQL as it must be a dataset id`);
  }
  if (!tablePattern.test(ref.table)) {
    throw new TypeError(`Cannot use table '${ref.table}' in SQL as it must be a table id`);
  }
  return `\`${ref.project}.${ref.dataset}.${ref.table}\``;
}

/**
 * Names the staging table of one table in one run of one machine; the same run id always gives the
 * same name, so a resumed run finds (and overwrites) what an interrupted one left, and two machines
 * whose runs started in the same second never share one.
 *
 * @param table The target table name.
 * @param runId The run id.
 * @param machineId The machine the run loads for. @default {""}
 * @returns `_stg_<table>_[<machineId>_]<runId>`, with characters a table id cannot hold replaced by `_`.
 * @throws {TypeError} When the table name is not an identifier or the run id is empty.
 */
export function stagingTableName(table: string, runId: string, machineId = ""): string {
  checkIdentifier(table);
  if (runId.length === 0) {
    throw new TypeError("Cannot name a staging table as 'runId' must not be empty: current value is ''");
  }
  const run = machineId ? `${machineId}_${runId}` : runId;
  return `_stg_${table}_${run.replace(/[^A-Za-z0-9_]/g, "_")}`.slice(0, 1024);
}

/**
 * Builds the MERGE that upserts a staging table into its target on the natural key, following the
 * table's merge rules: `prefer_new_non_null` keeps the old value over a NULL, the sticky group keeps
 * all its old values when the new guard is NULL and the old one is not, and `replaceWhenGreater`
 * updates a matched row only when the new value is greater. Key columns are never updated.
 *
 * What it costs stays bounded: the source is deduplicated on the key (one source row per target row,
 * whatever the staged file holds); a matched row is updated only when a column changes, so a rerun
 * rewrites nothing; with `partitions` (the staged rows' partition values), the target is pruned to
 * those partitions; `rejects` only inserts.
 *
 * @param def The table definition.
 * @param refs The target and staging tables.
 * @param partitions The distinct values of `def.partitionBy` in the staged rows (`YYYY-MM-DD`); with
 *   `null` among them the NULL partition is searched too. Omit to search the whole target.
 * @returns One MERGE statement; with `partitions`, an ARRAY<DATE> parameter `@partitions`.
 * @throws {TypeError} When an identifier is invalid or a rule names an unknown column.
 */
export function mergeStatement(
  def: TableDef,
  refs: { target: TableRef; staging: TableRef },
  partitions?: readonly (string | null)[],
): Statement {
  const prune = def.partitionBy !== undefined && partitions !== undefined;
  const dates = (partitions ?? []).filter((p): p is string => p !== null);
  const column = def.partitionBy ? quoteColumn(def.partitionBy) : "";
  const targetFilter = prune
    ? `(T.${column} IN UNNEST(@partitions)${partitions!.includes(null) ? ` OR T.${column} IS NULL` : ""})`
    : undefined;
  return {
    query: buildMerge(def, quoteTable(refs.target), quoteTable(refs.staging), {
      column: quoteColumn,
      into: false,
      dedupe: true,
      onlyChanged: true,
      insertOnly: insertOnlyTables.has(def.name),
      ...(targetFilter ? { targetFilter } : {}),
    }),
    ...(prune ? { params: { partitions: dates }, types: { partitions: ["DATE"] } } : {}),
  };
}

/** The `sessions` columns the refresh recomputes from `messages`. */
export const SessionAggregateColumns = [
  "first_timestamp",
  "last_timestamp",
  "event_date",
  "message_count",
  "human_prompt_count",
  "assistant_count",
  "tool_use_count",
] as const;

/**
 * Builds the MERGE that recomputes the `sessions` aggregates from `messages` for the session ids in
 * a staging table (see `sink.ts`), so reruns and incremental runs keep exact counts.
 *
 * @param refs The `sessions` target, the `messages` table and the `sessions` staging table.
 * @returns One MERGE statement.
 * @throws {TypeError} When an identifier is invalid.
 */
export function sessionsRefreshStatement(
  refs: { sessions: TableRef; messages: TableRef; staging: TableRef },
): Statement {
  const select = [
    "SELECT `session_id`, MIN(`timestamp`) AS `first_timestamp`, MAX(`timestamp`) AS `last_timestamp`,",
    "MIN(`event_date`) AS `event_date`, COUNT(*) AS `message_count`,",
    "COUNTIF(`kind` = 'human_prompt') AS `human_prompt_count`, COUNTIF(`type` = 'assistant') AS `assistant_count`,",
    "SUM(ARRAY_LENGTH(`tool_names`)) AS `tool_use_count`",
    `FROM ${quoteTable(refs.messages)}`,
    `WHERE \`session_id\` IN (SELECT \`session_id\` FROM ${quoteTable(refs.staging)})`,
    "GROUP BY `session_id`",
  ].join(" ");
  const set = SessionAggregateColumns.map((name) => `${quoteColumn(name)} = S.${quoteColumn(name)}`).join(
    ", ",
  );
  const changed = SessionAggregateColumns.map((name) =>
    `S.${quoteColumn(name)} IS DISTINCT FROM T.${quoteColumn(name)}`
  ).join(" OR ");
  return {
    query: [
      `MERGE ${quoteTable(refs.sessions)} T USING (${select}) S ON T.\`session_id\` = S.\`session_id\``,
      `WHEN MATCHED AND (${changed}) THEN UPDATE SET ${set}`,
    ].join("\n"),
  };
}

/**
 * Builds the SELECT that reads back the `messages` rows of waiting prompts: pruned to their partitions
 * (`event_date IN UNNEST(@dates)`, plus the NULL partition when a prompt has no date) and filtered on
 * `uuid IN UNNEST(@uuids)`.
 *
 * @param def The `messages` table definition (its columns are listed, never `*`).
 * @param table The `messages` table.
 * @param refs The prompts' uuids and partition days.
 * @returns One SELECT with an ARRAY<DATE> `@dates` and an ARRAY<STRING> `@uuids`.
 * @throws {TypeError} When an identifier is invalid or `def` is not partitioned.
 */
export function readMessagesStatement(
  def: TableDef,
  table: TableRef,
  refs: readonly { uuid: string; event_date: string | null }[],
): Statement {
  if (!def.partitionBy) {
    throw new TypeError(`Cannot read back rows of '${def.name}' as it is not partitioned`);
  }
  const column = quoteColumn(def.partitionBy);
  const dates = [...new Set(refs.map((r) => r.event_date).filter((d): d is string => d !== null))].sort();
  const withNull = refs.some((r) => r.event_date === null);
  const partitions = [
    ...(dates.length > 0 ? [`M.${column} IN UNNEST(@dates)`] : []),
    ...(withNull ? [`M.${column} IS NULL`] : []),
  ].join(" OR ");
  return {
    query: `SELECT ${def.columns.map((c) => `M.${quoteColumn(c.name)}`).join(", ")} FROM ${
      quoteTable(table)
    } M WHERE (${partitions || "FALSE"}) AND M.\`uuid\` IN UNNEST(@uuids)`,
    params: { dates, uuids: refs.map((r) => r.uuid) },
    types: { dates: ["DATE"], uuids: ["STRING"] },
  };
}

/**
 * Builds the SELECT that tells whether `runs` holds a run: it reads one or two short columns of a small
 * unpartitioned table, so it bills BigQuery's 10 MB minimum.
 *
 * @param table The `runs` table.
 * @param match The machine (any when null) and the run id (any run when null).
 * @returns One SELECT returning a row `{ n }`, with STRING parameters `@machine_id` and `@run_id` as needed.
 * @throws {TypeError} When an identifier is invalid.
 */
export function runExistsStatement(
  table: TableRef,
  match: { machineId: string | null; runId: string | null },
): Statement {
  const params: Record<string, string> = {};
  if (match.machineId !== null) params.machine_id = match.machineId;
  if (match.runId !== null) params.run_id = match.runId;
  const where = Object.keys(params).map((name) => `${quoteColumn(name)} = @${name}`);
  return {
    query: `SELECT COUNT(*) AS n FROM ${quoteTable(table)}` +
      (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""),
    params,
  };
}
