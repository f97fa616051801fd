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
import { inTransaction } from "./_duckdb_transaction.ts";

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

// No primary key: refreshUsageCosts deletes a cost before it writes the new one, and the key's index
// tripled the time to write a first load's costs (files made before keep theirs).
const CREATE_COSTS = `CREATE TABLE IF NOT EXISTS usage_costs (
  usage_key VARCHAR NOT NULL, total_tokens BIGINT NOT NULL, cost_usd DOUBLE, prices VARCHAR NOT NULL)`;

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

/**
 * Creates `usage_costs` and the report views (idempotent), in one transaction: each statement committed
 * on its own waits for its own write to disk (the nine views: ~40 -> ~7 ms).
 */
export async function createReportViews(connection: DuckDBConnection): Promise<void> {
  await inTransaction((sql) => connection.run(sql), async () => {
    await connection.run(CREATE_COSTS);
    for (const statement of reportViewStatements()) await connection.run(statement);
  });
}

// The usage rows without a cost. `day` is the day ClaudePricer keys its per-unit rates by (the first 10
// characters of the time it is given); the counts are what it is given (null as 0).
const UNPRICED = `SELECT u.usage_key, u.model, CAST(u.timestamp AS VARCHAR) AS timestamp,
    COALESCE(left(CAST(u.timestamp AS VARCHAR), 10), '') AS day, COALESCE(u.input_tokens, 0) AS input,
    COALESCE(u.output_tokens, 0) AS output, COALESCE(u.cache_creation_input_tokens, 0) AS written,
    COALESCE(u.cache_creation_1h_input_tokens, 0) AS written_1h,
    COALESCE(u.cache_read_input_tokens, 0) AS read, COALESCE(u.web_search_requests, 0) AS web_searches,
    COALESCE(u.total_tokens, 0) AS total_tokens
  FROM usage u ANTI JOIN usage_costs c ON c.usage_key = u.usage_key`;

// ClaudePricer.costUsd in SQL, term by term in its order (BIGINT × DOUBLE multiplies two doubles, as
// JS does), for the rows below their model's long-context threshold, and a null cost for rows without
// rates. Then Math.round(y) / 1e12 as V8 computes it: ties go up (DuckDB's ROUND takes them away from 0).
const PRICE_FLAT = `INSERT INTO usage_costs
  SELECT usage_key, total_tokens,
    (CASE WHEN ceil(y) - 0.5 > y THEN ceil(y) - 1 ELSE ceil(y) END) / 1e12::DOUBLE, '${PRICES_SOURCE}'
  FROM (SELECT p.usage_key, p.total_tokens, (p.input * r.input + (p.written - p.one_hour) * r.write5m +
        p.one_hour * r.write1h + p.read * r.read + p.output * r.output + p.web_searches * r.web_search
      ) * 1e12::DOUBLE AS y
    FROM (SELECT *, LEAST(written_1h, written) AS one_hour FROM (${UNPRICED})) p
    LEFT JOIN _usage_rates r ON r.model = p.model AND r.day = p.day
    WHERE r.model IS NULL OR p.input + p.written + p.read <= r.flat_up_to)`;

/**
 * Prices every usage row that has no cost yet, was priced with other price data, or whose counts grew:
 * what {@linkcode ClaudePricer.costUsd} gives, to the bit. Below a model's long-context threshold a price
 * is its per-unit rates times the counts, so one statement prices those rows from a table of the rates
 * of each model and day; ClaudePricer prices the rest (longer prompts, a few) one by one. A model without
 * a price gets a null cost.
 *
 * @returns How many rows were priced.
 */
export async function refreshUsageCosts(connection: DuckDBConnection): Promise<number> {
  return await inTransaction((sql) => connection.run(sql), () => priceUnpriced(connection));
}

async function priceUnpriced(connection: DuckDBConnection): Promise<number> {
  await connection.run(
    `DELETE FROM usage_costs c USING usage u WHERE c.usage_key = u.usage_key
       AND (c.prices <> '${PRICES_SOURCE}' OR c.total_tokens <> u.total_tokens)`,
  );
  const days = (await connection.runAndReadAll(
    `SELECT model, day, COUNT(*)::DOUBLE AS n FROM (${UNPRICED}) GROUP BY ALL`,
  )).getRowObjectsJson() as { model: string; day: string; n: number }[];
  if (days.length === 0) return 0;
  const pricer = new ClaudePricer();
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE _usage_rates (model VARCHAR, day VARCHAR, input DOUBLE, write5m DOUBLE,
       write1h DOUBLE, read DOUBLE, output DOUBLE, web_search DOUBLE, flat_up_to DOUBLE)`,
  );
  const rates = await connection.createAppender("_usage_rates", "main", "temp");
  for (const { model, day } of days) {
    const r = pricer.unitRates(model, day);
    if (r === null) continue;
    rates.appendVarchar(model);
    rates.appendVarchar(day);
    for (const rate of [r.input, r.write5m, r.write1h, r.read, r.output, r.webSearch, r.flatUpTo]) {
      rates.appendDouble(rate);
    }
    rates.endRow();
  }
  rates.closeSync();
  await connection.run(PRICE_FLAT);
  await connection.run("DROP TABLE _usage_rates");
  // What is left, prompts past a long-context threshold (a few), ClaudePricer prices one by one. Their
  // costs wait as three values a row until the result is read: no statement can run while it streams.
  const long: [string, number, number | null][] = [];
  const result = await connection.stream(UNPRICED);
  for await (const rows of result.yieldRowObjectJson()) {
    for (const r of rows as Record<string, string | number | null>[]) {
      const cost = pricer.costUsd({
        model: String(r.model),
        timestamp: r.timestamp === null ? null : `${String(r.timestamp).replace(" ", "T")}Z`,
        input_tokens: Number(r.input),
        output_tokens: Number(r.output),
        cache_creation_input_tokens: Number(r.written),
        cache_creation_1h_input_tokens: Number(r.written_1h),
        cache_read_input_tokens: Number(r.read),
        web_search_requests: Number(r.web_searches),
      });
      long.push([String(r.usage_key), Number(r.total_tokens), cost]);
    }
  }
  const appender = await connection.createAppender("usage_costs");
  for (const [key, total, cost] of long) {
    appender.appendVarchar(key);
    appender.appendBigInt(BigInt(total));
    if (cost === null) appender.appendNull();
    else appender.appendDouble(cost);
    appender.appendVarchar(PRICES_SOURCE);
    appender.endRow();
  }
  appender.closeSync();
  return days.reduce((sum, d) => sum + d.n, 0);
}
