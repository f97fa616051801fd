import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { ClaudePricer } from "../pricing/claude_prices.ts";
import type { UsageRow } from "../schema/mod.ts";
import { NdjsonWriter } from "../pipeline/staging.ts";
import { usageRow } from "../testing/rows.ts";
import { PRICED_CLAUDE_MODELS } from "../testing/claude_models.ts";
import { writeTree } from "../testing/write_tree.ts";
import { DuckDbSink } from "./duckdb.ts";
import { mulberry32 } from "../../mocks/_random.ts";

const MODELS = [...PRICED_CLAUDE_MODELS, "claude-imaginary-9"]; // the last has no price

/** 3,000 usage rows varied as ClaudePricer's own test varies them, the same on every run. */
function variedRows(): UsageRow[] {
  const random = mulberry32(11);
  const next = (n: number) => Math.floor(random() * n);
  return Array.from({ length: 3000 }, (_, i) => {
    const written = next(4) === 0 ? 0 : next(60_000);
    const input = next(5000);
    const output = next(8000);
    // One in ten prompts goes past 200k tokens (the long-context tier, priced one by one).
    const read = next(10) === 0 ? 200_000 + next(100_000) : next(150_000);
    // Days around 2026-03-13, when two models' prices change; one row in fifty has no time.
    const timestamp = next(50) === 0
      ? null
      : new Date(Date.parse("2026-03-01T00:00:00Z") + next(30) * 86_400_000 + next(86_400_000)).toISOString();
    return usageRow(i, "r1", {
      model: MODELS[next(MODELS.length)],
      timestamp,
      event_date: timestamp?.slice(0, 10) ?? null,
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: written,
      // One in twenty claims more 1-hour writes than writes (the pricer caps them).
      cache_creation_1h_input_tokens: next(3) === 0 ? null : next(written + 1) + (next(20) === 0 ? 500 : 0),
      cache_read_input_tokens: read,
      total_tokens: input + output + written + read,
      web_search_requests: next(5) === 0 ? next(4) : null,
    });
  });
}

async function stage(dir: string, rows: UsageRow[]) {
  const writer = await NdjsonWriter.create(`${dir}/usage-${crypto.randomUUID()}.ndjson`);
  for (const row of rows) await writer.write(row);
  return await writer.close("usage");
}

/** Each row's cost in `usage_costs` against ClaudePricer.costUsd of the row as staged. */
async function assertCostsMatchPricer(sink: DuckDbSink, rows: UsageRow[]): Promise<void> {
  const stored = new Map(
    (await sink.query("SELECT usage_key, cost_usd FROM usage_costs")).map((r) => [r.usage_key, r.cost_usd]),
  );
  const pricer = new ClaudePricer();
  for (const row of rows) {
    const want = pricer.costUsd(row);
    const got = stored.get(row.usage_key);
    ok(Object.is(got, want), `${JSON.stringify(row)}: SQL ${got} vs JS ${want}`);
  }
}

Deno.test("usage_costs: every row's cost is ClaudePricer.costUsd's to the bit, null for a model without a price", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  const rows = variedRows();
  await sink.load(await stage(tree.path, rows));
  await assertCostsMatchPricer(sink, rows);
  const [kinds] = await sink.query(
    `SELECT COUNT(*)::INT AS costs, COUNT(*) FILTER (WHERE c.cost_usd IS NULL)::INT AS nulls,
       COUNT(*) FILTER (WHERE u.model = 'claude-imaginary-9')::INT AS unpriced,
       COUNT(*) FILTER (WHERE u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens > 200000)::INT AS long,
       COUNT(*) FILTER (WHERE u.cache_creation_1h_input_tokens > 0)::INT AS h1,
       COUNT(*) FILTER (WHERE u.web_search_requests > 0)::INT AS searches,
       COUNT(*) FILTER (WHERE u.timestamp IS NULL)::INT AS untimed
     FROM usage u JOIN usage_costs c USING (usage_key)`,
  );
  assertEquals([kinds.costs, kinds.nulls], [rows.length, kinds.unpriced]);
  // The set covers each path: long prompts, 1-hour writes, searches, no time, no price.
  for (const [kind, n] of Object.entries(kinds)) ok(Number(n) > 20, `only ${n} rows of kind ${kind}`);
});

/** `row` as a later, larger copy of the same response. */
function grownCopy(row: UsageRow): UsageRow {
  return { ...row, output_tokens: row.output_tokens + 1000, total_tokens: row.total_tokens + 1000 };
}

Deno.test("usage_costs: a grown row and a row priced with other price data are priced again, the rest kept", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  const rows = variedRows().slice(0, 50);
  await sink.load(await stage(tree.path, rows));
  const [first, older, kept] = rows;
  await sink.query(
    `UPDATE usage_costs SET prices = 'older', cost_usd = -1 WHERE usage_key = '${older.usage_key}'`,
  );
  await sink.query(`UPDATE usage_costs SET cost_usd = -2 WHERE usage_key = '${kept.usage_key}'`);
  await sink.load(await stage(tree.path, [grownCopy(first)]));
  const [{ n }] = await sink.query("SELECT COUNT(*)::INT AS n FROM usage_costs");
  assertEquals(n, rows.length);
  const [keptCost] = await sink.query(
    `SELECT cost_usd FROM usage_costs WHERE usage_key = '${kept.usage_key}'`,
  );
  assertEquals(keptCost, { cost_usd: -2 });
  await assertCostsMatchPricer(sink, [grownCopy(first), ...rows.filter((r) => r !== first && r !== kept)]);
});

Deno.test("usage_costs: a file made with its primary key (ccpipe until now) is priced again as one without", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.query(
    `CREATE TABLE usage_costs (usage_key VARCHAR PRIMARY KEY, total_tokens BIGINT NOT NULL, cost_usd DOUBLE,
       prices VARCHAR NOT NULL)`,
  );
  await sink.prepare();
  const rows = variedRows().slice(0, 50);
  await sink.load(await stage(tree.path, rows));
  const grown = {
    ...rows[0],
    output_tokens: rows[0].output_tokens + 1000,
    total_tokens: rows[0].total_tokens + 1000,
  };
  await sink.load(await stage(tree.path, [grown]));
  const [{ n }] = await sink.query("SELECT COUNT(*)::INT AS n FROM usage_costs");
  assertEquals(n, rows.length);
  await assertCostsMatchPricer(sink, [grownCopy(rows[0]), ...rows.slice(1)]);
});
