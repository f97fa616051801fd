/**
 * The report queries as objects inside the DuckDB file, so any DuckDB client sees what `ccpipe report`
 * shows (days in UTC): `usage_costs` (each API response's cost, priced by ccpipe with
 * @pydantic/genai-prices) and the views `usage_priced`, `daily_usage`, `weekly_usage`, `monthly_usage`,
 * `session_usage`, `project_usage`, `model_usage`, `machine_usage` and `user_usage`.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { ClaudePricer, PRICES_SOURCE } from "../pricing/claude_prices.ts";

/** The views, by name, in creation order. */
export const REPORT_VIEWS = [
  "usage_priced",
  "daily_usage",
  "weekly_usage",
  "monthly_usage",
  "session_usage",
  "project_usage",
  "model_usage",
  "machine_usage",
  "user_usage",
] as const;

const CREATE_COSTS = `CREATE TABLE IF NOT EXISTS usage_costs (
  usage_key VARCHAR PRIMARY KEY, total_tokens BIGINT NOT NULL, cost_usd DOUBLE, prices VARCHAR NOT NULL)`;

// The numbers every report view sums. A group's cost is null when any of its responses has no price.
const SUMS = `COUNT(*) AS responses, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
  SUM(cache_creation_input_tokens) AS cache_creation_input_tokens,
  SUM(COALESCE(cache_creation_1h_input_tokens, 0)) AS cache_creation_1h_input_tokens,
  SUM(cache_read_input_tokens) AS cache_read_input_tokens, SUM(total_tokens) AS total_tokens,
  SUM(COALESCE(web_search_requests, 0)) AS web_search_requests,
  CASE WHEN COUNT(cost_usd) = COUNT(*) THEN ROUND(SUM(cost_usd), 10) END AS cost_usd`;

/** `CREATE OR REPLACE VIEW` statements of {@linkcode REPORT_VIEWS}. */
export function reportViewStatements(): string[] {
  const view = (name: string, key: string, group: string) =>
    `CREATE OR REPLACE VIEW ${name} AS SELECT ${key}, ${SUMS} FROM usage_priced GROUP BY ${group} ORDER BY ${group}`;
  return [
    // A cost row counts only while it prices the row's current counts (a later, larger copy re-prices it).
    `CREATE OR REPLACE VIEW usage_priced AS SELECT u.*, COALESCE(s.project, u.project_id) AS project, c.cost_usd
       FROM usage u LEFT JOIN sessions s ON s.session_id = u.session_id
       LEFT JOIN usage_costs c ON c.usage_key = u.usage_key AND c.total_tokens = u.total_tokens`,
    view("daily_usage", "CAST(timestamp AS DATE) AS date", "1"),
    view("weekly_usage", "CAST(date_trunc('week', timestamp) AS DATE) AS week", "1"),
    view("monthly_usage", "strftime(timestamp, '%Y-%m') AS month", "1"),
    `CREATE OR REPLACE VIEW session_usage AS SELECT session_id, any_value(project) AS project,
       MIN(timestamp) AS first_timestamp, MAX(timestamp) AS last_timestamp, ${SUMS}
       FROM usage_priced GROUP BY session_id ORDER BY first_timestamp`,
    view("project_usage", "project", "project"),
    view("model_usage", "model", "model"),
    // machine_id and user_label are null on rows loaded before ccpipe stamped machines.
    view("machine_usage", "machine_id", "machine_id"),
    view("user_usage", "user_label", "user_label"),
  ];
}

/** Usage rows priced per query by {@linkcode refreshUsageCosts}. */
const COST_PAGE_ROWS = 4096;

/** Creates `usage_costs` and the report views (idempotent). */
export async function createReportViews(connection: DuckDBConnection): Promise<void> {
  await connection.run(CREATE_COSTS);
  for (const statement of reportViewStatements()) await connection.run(statement);
}

/**
 * Prices every usage row that has no cost yet, was priced with other price data, or whose counts grew.
 *
 * @returns How many rows were priced.
 */
export async function refreshUsageCosts(connection: DuckDBConnection): Promise<number> {
  const pricer = new ClaudePricer();
  const num = (v: unknown) => Number(v ?? 0);
  const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  let priced = 0;
  let after: string | null = null;
  // Pages in key order: the rows of a large first load, made JS objects all at once, held ~100 MB.
  for (;;) {
    const reader = await connection.runAndReadAll(
      `SELECT u.usage_key, u.model, CAST(u.timestamp AS VARCHAR) AS timestamp, u.input_tokens, u.output_tokens,
         u.cache_creation_input_tokens, u.cache_creation_1h_input_tokens, u.cache_read_input_tokens,
         u.total_tokens, u.web_search_requests
       FROM usage u LEFT JOIN usage_costs c ON c.usage_key = u.usage_key
       WHERE (c.usage_key IS NULL OR c.prices <> '${PRICES_SOURCE}' OR c.total_tokens <> u.total_tokens)
         ${after === null ? "" : `AND u.usage_key > '${after.replaceAll("'", "''")}'`}
       ORDER BY u.usage_key LIMIT ${COST_PAGE_ROWS}`,
    );
    const rows = reader.getRowObjectsJson() as Record<string, string | number | null>[];
    if (rows.length === 0) break;
    if (priced === 0) {
      // Append into a scratch table (one native call per value, no SQL text to parse), then replace in one statement.
      await connection.run(
        "CREATE OR REPLACE TEMP TABLE _usage_costs_new AS SELECT * FROM usage_costs LIMIT 0",
      );
    }
    const appender = await connection.createAppender("_usage_costs_new", "main", "temp");
    for (const r of rows) {
      const cost = pricer.costUsd({
        model: String(r.model),
        timestamp: r.timestamp === null ? null : `${String(r.timestamp).replace(" ", "T")}Z`,
        input_tokens: num(r.input_tokens),
        output_tokens: num(r.output_tokens),
        cache_creation_input_tokens: num(r.cache_creation_input_tokens),
        cache_creation_1h_input_tokens: orNull(r.cache_creation_1h_input_tokens),
        cache_read_input_tokens: num(r.cache_read_input_tokens),
        web_search_requests: orNull(r.web_search_requests),
      });
      appender.appendVarchar(String(r.usage_key));
      appender.appendBigInt(BigInt(num(r.total_tokens)));
      if (cost === null) appender.appendNull();
      else appender.appendDouble(cost);
      appender.appendVarchar(PRICES_SOURCE);
      appender.endRow();
    }
    appender.closeSync();
    priced += rows.length;
    after = String(rows[rows.length - 1].usage_key);
    if (rows.length < COST_PAGE_ROWS) break;
  }
  if (priced === 0) return 0;
  await connection.run("INSERT OR REPLACE INTO usage_costs SELECT * FROM _usage_costs_new");
  await connection.run("DROP TABLE _usage_costs_new");
  return priced;
}
