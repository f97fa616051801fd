/**
 * The queries every report reads: the usage rows (one per API response) and the project paths, in SQL
 * that DuckDB and BigQuery both accept, so the same reports run on either.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** The usage columns a report reads, under the `usage` table's names. */
export const USAGE_TOKEN_COLUMNS = [
  "input_tokens",
  "output_tokens",
  "cache_creation_input_tokens",
  "cache_creation_1h_input_tokens",
  "cache_read_input_tokens",
  "total_tokens",
  "web_search_requests",
] as const;
/** One of {@linkcode USAGE_TOKEN_COLUMNS}. */
export type UsageTokenColumn = typeof USAGE_TOKEN_COLUMNS[number];

/** One API response as a report reads it. */
export interface UsageFact {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  /** Null on rows loaded before ccpipe kept the 5-minute/1-hour split. */
  cache_creation_1h_input_tokens: number | null;
  cache_read_input_tokens: number;
  total_tokens: number;
  web_search_requests: number | null;
  usage_key: string;
  /** ISO 8601 UTC, or null when the response had no timestamp. */
  timestamp: string | null;
  session_id: string;
  project: string;
  model: string;
  /** The loading machine; null on rows loaded before ccpipe stamped machines. */
  machine_id: string | null;
  /** The `--user` label the row was loaded with, if any. */
  user_label: string | null;
}

/** Bounds of the rows to read, as days (`YYYY-MM-DD`, inclusive); both optional. */
export interface UsageWindow {
  fromDate?: string;
  toDate?: string;
}

/** The team columns a usage table may lack (tables made before machine stamping, until the next run adds them). */
export const MACHINE_COLUMNS = ["machine_id", "user_label"] as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Builds the usage query: plain SELECTs on one table each (no join), the SQL every warehouse and the
 * BigQuery mock speak alike. The window is applied to `event_date`, the partition column, so BigQuery
 * prunes partitions; callers widen it by the time-zone slack and cut exactly per row.
 *
 * @param table Renders a table name for the warehouse (quoted for DuckDB, `project.dataset.t` for BigQuery).
 * @param window Optional bounds on `event_date`.
 * @param present The usage table's columns: a missing team column reads as NULL. @default {all of them}
 * @returns A `SELECT`.
 * @throws {UsageError} When a bound is not a `YYYY-MM-DD` day.
 */
export function usageQuery(
  table: (name: string) => string,
  window: UsageWindow = {},
  present?: ReadonlySet<string>,
): string {
  const where: string[] = [];
  for (const [bound, op] of [[window.fromDate, ">="], [window.toDate, "<="]] as const) {
    if (bound === undefined) continue;
    if (!DAY.test(bound)) throw new UsageError(`A report bound must be YYYY-MM-DD: got '${bound}'`);
    where.push(`event_date ${op} '${bound}'`);
  }
  const team = MACHINE_COLUMNS.map((c) => (present && !present.has(c) ? `CAST(NULL AS STRING) AS ${c}` : c));
  return [
    `SELECT usage_key, CAST(timestamp AS STRING) AS timestamp, session_id, project_id, model, ${
      team.join(", ")
    }, ${USAGE_TOKEN_COLUMNS.join(", ")}`,
    `FROM ${table("usage")}`,
    ...(where.length ? [`WHERE ${where.join(" AND ")}`] : []),
  ].join("\n");
}

/** The query naming each project id's path (the `cwd`), from the sessions table. */
export function projectsQuery(table: (name: string) => string): string {
  return `SELECT project_id, MAX(project) AS project FROM ${
    table("sessions")
  } WHERE project IS NOT NULL GROUP BY project_id`;
}

/**
 * Turns a warehouse's rendering of a UTC timestamp into ISO 8601 (`2026-08-10T12:00:00.000Z`).
 * DuckDB writes `2026-08-10 12:00:00.123`, BigQuery `2026-08-10 12:00:00.123+00`.
 */
export function isoInstant(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  const text = String(value).trim().replace(" ", "T").replace(/(\+00(:?00)?|Z| UTC)$/, "");
  const ms = Date.parse(`${text}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * Reads one result row of {@linkcode usageQuery} into a {@linkcode UsageFact}.
 *
 * @param row The row.
 * @param projects Project id → path (from {@linkcode projectsQuery}); an id without a path stays as is.
 */
export function usageFactOf(row: Record<string, unknown>, projects: Map<string, string>): UsageFact {
  const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const textOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    usage_key: String(row.usage_key),
    timestamp: isoInstant(row.timestamp),
    session_id: String(row.session_id),
    project: projects.get(String(row.project_id)) ?? String(row.project_id ?? ""),
    model: String(row.model),
    machine_id: textOrNull(row.machine_id),
    user_label: textOrNull(row.user_label),
    input_tokens: Number(row.input_tokens ?? 0),
    output_tokens: Number(row.output_tokens ?? 0),
    cache_creation_input_tokens: Number(row.cache_creation_input_tokens ?? 0),
    cache_creation_1h_input_tokens: orNull(row.cache_creation_1h_input_tokens),
    cache_read_input_tokens: Number(row.cache_read_input_tokens ?? 0),
    total_tokens: Number(row.total_tokens ?? 0),
    web_search_requests: orNull(row.web_search_requests),
  };
}
