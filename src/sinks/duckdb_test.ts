import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { SinkError } from "../errors.ts";
import type { MessageRow, UsageRow } from "../schema/mod.ts";
import { NdjsonWriter } from "../pipeline/staging.ts";
import { writeTree } from "../testing/write_tree.ts";
import { messageRow, sessionRow, usageRow } from "../testing/rows.ts";
import { duckdbCreateTable, DuckDbSink } from "./duckdb.ts";
import { Tables } from "../schema/mod.ts";

function message(uuid: string, fields: Partial<MessageRow> = {}): MessageRow {
  return messageRow(0, "r1", { uuid, ...fields });
}

function usage(key: string, output: number): UsageRow {
  return usageRow(0, "r1", { usage_key: key, output_tokens: output, total_tokens: 15 + output });
}

async function stage(dir: string, table: "messages" | "usage" | "sessions", rows: unknown[]) {
  const writer = await NdjsonWriter.create(`${dir}/${table}-${crypto.randomUUID()}.ndjson`);
  for (const row of rows) await writer.write(row);
  return await writer.close(table);
}

Deno.test("DuckDbSink.load() upserts on the key: loading twice changes no count", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  const staged = await stage(tree.path, "messages", [message("u1"), message("u2")]);
  const first = await sink.load(staged);
  assertEquals([first.rowsBefore, first.rowsAfter], [0, 2]);
  const second = await sink.load(staged);
  assertEquals([second.rowsBefore, second.rowsAfter], [2, 2]);
  const rows = await sink.query(
    "SELECT uuid, tool_names, extra::VARCHAR AS extra, event_date::VARCHAR AS d FROM messages ORDER BY uuid",
  );
  assertEquals(rows.map((r) => [r.uuid, r.tool_names, r.extra, r.d]), [
    ["u1", [], '{"note":"n0"}', "2026-08-10"],
    ["u2", [], '{"note":"n0"}', "2026-08-10"],
  ]);
});

Deno.test("DuckDbSink.load() upserts into a file made with a primary key (ccpipe until now) as into one without", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  const keyed = duckdbCreateTable(Tables.messages).replace(/\)$/, ', PRIMARY KEY ("uuid"))');
  await sink.query(keyed);
  await sink.prepare();
  const [{ n: keys }] = await sink.query(
    "SELECT COUNT(*)::INT AS n FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' AND table_name = 'messages'",
  );
  assertEquals(keys, 1);
  const staged = await stage(tree.path, "messages", [message("u1"), message("u2")]);
  await sink.load(staged);
  const again = await sink.load(
    await stage(tree.path, "messages", [message("u2", { text: "new" }), message("u3")]),
  );
  assertEquals([again.rowsBefore, again.rowsAfter], [2, 3]);
  const rows = await sink.query("SELECT uuid, text FROM messages ORDER BY uuid");
  assertEquals(rows.map((r) => [r.uuid, r.text]), [["u1", "text number 0"], ["u2", "new"], [
    "u3",
    "text number 0",
  ]]);
});

Deno.test("DuckDbSink prices every usage row of a 9,000-row load", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  const rows = Array.from({ length: 9000 }, (_, i) => usageRow(i, "r1"));
  await sink.load(await stage(tree.path, "usage", rows));
  const [costs] = await sink.query(
    "SELECT COUNT(*)::INT AS n, COUNT(cost_usd)::INT AS priced, ROUND(SUM(cost_usd), 6) AS total FROM usage_costs",
  );
  // Sonnet 4.5 per row: 10 in × $3/M + 20 out × $15/M + 5 cache reads × $0.30/M = 331.5 µ$; × 9000 = $2.9835.
  assertEquals(costs, { n: 9000, priced: 9000, total: 2.9835 });
});

Deno.test("DuckDbSink keeps a correction when a later load has none", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  await sink.load(
    await stage(tree.path, "messages", [
      message("u1", {
        corrected_text: "fix the bug",
        correction_status: "corrected",
        correction_model: "gemini",
      }),
    ]),
  );
  await sink.load(await stage(tree.path, "messages", [message("u1", { text: "fix teh bug" })]));
  const [row] = await sink.query("SELECT corrected_text, correction_status, correction_model FROM messages");
  assertEquals(row, {
    corrected_text: "fix the bug",
    correction_status: "corrected",
    correction_model: "gemini",
  });
});

Deno.test("DuckDbSink updates a usage row only with a larger token total", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  await sink.load(await stage(tree.path, "usage", [usage("m1", 200)]));
  await sink.load(await stage(tree.path, "usage", [usage("m1", 9)]));
  assertEquals((await sink.query("SELECT output_tokens FROM usage"))[0].output_tokens, "200");
  await sink.load(await stage(tree.path, "usage", [usage("m1", 300)]));
  assertEquals((await sink.query("SELECT output_tokens FROM usage"))[0].output_tokens, "300");
});

Deno.test("DuckDbSink recomputes a session from its messages: the first day, whatever the load order", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  await sink.prepare();
  // A session over midnight in its zone, loaded latest first, plus a message of another session.
  await sink.load(
    await stage(tree.path, "messages", [
      messageRow(1, "r1", {
        uuid: "late",
        session_id: "s-night",
        timestamp: "2026-08-11T07:30:00.000Z",
        event_date: "2026-08-11",
      }),
      messageRow(2, "r1", {
        uuid: "early",
        session_id: "s-night",
        timestamp: "2026-08-11T06:30:00.000Z",
        event_date: "2026-08-10",
      }),
      messageRow(4, "r1", {
        uuid: "other",
        session_id: "s-other",
        timestamp: "2026-08-01T00:00:00.000Z",
        event_date: "2026-08-01",
      }),
    ]),
  );
  await sink.load(await stage(tree.path, "sessions", [sessionRow(0, "r1", { session_id: "s-night" })]));
  const rows = await sink.query(
    `SELECT session_id, first_timestamp::VARCHAR AS first, last_timestamp::VARCHAR AS last,
       event_date::VARCHAR AS day, message_count, human_prompt_count, assistant_count, tool_use_count
     FROM sessions`,
  );
  // messageRow(1) is an assistant line using Bash and Read; messageRow(2) a typed prompt.
  assertEquals(rows.map((r) => Object.values(r).map(String)), [
    ["s-night", "2026-08-11 06:30:00", "2026-08-11 07:30:00", "2026-08-10", "2", "1", "1", "2"],
  ]);
});

Deno.test("DuckDbSink.prepare() adds missing columns to an existing table", async () => {
  await using tree = await writeTree({});
  const path = tree.join("db.duckdb");
  {
    await using sink = await DuckDbSink.open({ path });
    await sink.query(duckdbCreateTable(Tables.rejects).replace(', "line_bytes" BIGINT NOT NULL', ""));
  }
  await using sink = await DuckDbSink.open({ path });
  await sink.prepare();
  const cols = await sink.query(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'rejects'",
  );
  assertEquals(cols.some((c) => c.column_name === "line_bytes"), true);
});

Deno.test("DuckDbSink.prepare() refuses a column whose type changed, naming it", async () => {
  await using tree = await writeTree({});
  const path = tree.join("db.duckdb");
  {
    await using sink = await DuckDbSink.open({ path });
    await sink.query(
      duckdbCreateTable(Tables.rejects).replace('"line_bytes" BIGINT', '"line_bytes" VARCHAR'),
    );
  }
  await using sink = await DuckDbSink.open({ path });
  await assertRejects(() => sink.prepare(), (error: unknown) => {
    return error instanceof SinkError && /column 'line_bytes' has type VARCHAR/.test(error.message);
  });
});

Deno.test("DuckDbSink.open() explains a database path that cannot be created", async () => {
  await assertRejects(
    () => DuckDbSink.open({ path: "/proc/ccpipe-cannot/db.duckdb" }),
    (error: unknown) => error instanceof SinkError && error.message.startsWith("Cannot open the DuckDB file"),
  );
});

Deno.test("DuckDbSink.prepare() migrates a usage table from before the cache-write split: new columns are null", async () => {
  await using tree = await writeTree({});
  const path = tree.join("old.duckdb");
  {
    // The usage table as ccpipe created it before it kept the 5m/1h split and web requests.
    await using old = await DuckDbSink.open({ path });
    const dropped = new Set([
      "cache_creation_5m_input_tokens",
      "cache_creation_1h_input_tokens",
      "web_search_requests",
      "web_fetch_requests",
    ]);
    const before = { ...Tables.usage, columns: Tables.usage.columns.filter((c) => !dropped.has(c.name)) };
    await old.query(duckdbCreateTable(before));
    await old.query(
      `INSERT INTO usage (usage_key, api_message_id, request_id, session_id, project_id, model, timestamp,
         event_date, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
         total_tokens, service_tier, speed, is_sidechain, source_uuid, run_id)
       VALUES ('m1:r1', 'm1', 'r1', 's1', 'p1', 'claude-sonnet-4-5-20250929', '2026-05-04 10:00:00', '2026-05-04',
         1000, 1000, 100000, 0, 102000, 'standard', NULL, false, 'u1', 'run0')`,
    );
  }
  await using sink = await DuckDbSink.open({ path });
  await sink.prepare();
  const [row] = await sink.query(
    `SELECT u.cache_creation_5m_input_tokens AS m5, u.cache_creation_1h_input_tokens AS h1, u.web_search_requests AS ws,
       c.cost_usd FROM usage u JOIN usage_costs c USING (usage_key)`,
  );
  // Writes of unknown lifetime are priced as 5-minute ones: 1000×3 + 1000×15 + 100,000×3.75 = 393,000 µ$.
  assertEquals(row, { m5: null, h1: null, ws: null, cost_usd: 0.393 });
  const [daily] = await sink.query(
    "SELECT CAST(date AS VARCHAR) AS date, responses, cost_usd FROM daily_usage",
  );
  assertEquals(daily, { date: "2026-05-04", responses: "1", cost_usd: 0.393 });
});

Deno.test("DuckDbSink.readMessages() reads back rows shaped as they were staged, leaving out unknown uuids", async () => {
  await using tree = await writeTree({});
  await using sink = await DuckDbSink.open({ path: tree.join("db.duckdb") });
  assertEquals(await sink.readMessages([{ uuid: "uuid-0", event_date: "2026-08-10" }]), []);
  await sink.prepare();
  const big = messageRow(1, "r1", { source_offset: 2 ** 40, timestamp: null, event_date: null });
  await sink.load(await stage(tree.path, "messages", [messageRow(0, "r1"), big, messageRow(2, "r1")]));
  const rows = await sink.readMessages([
    { uuid: "uuid-1", event_date: null },
    { uuid: "uuid-0", event_date: "2026-08-10" },
    { uuid: "nope", event_date: "2026-08-10" },
  ]);
  rows.sort((a, b) => a.uuid.localeCompare(b.uuid));
  assertEquals(rows[0], {
    ...messageRow(0, "r1"),
    timestamp: "2026-08-10T12:00:00.000Z",
    event_date: "2026-08-10",
    extra: { note: "n0" },
    machine_id: null,
    user_label: null,
  });
  assertEquals(rows[1], {
    ...big,
    tool_names: ["Bash", "Read"],
    source_offset: 1099511627776,
    extra: null,
    machine_id: null,
    user_label: null,
  });
  assertEquals(rows.length, 2);
});

Deno.test("DuckDbSink.load() into an empty table whose columns were added in another order", async () => {
  await using tree = await writeTree({});
  const path = tree.join("db.duckdb");
  {
    // An older file: `usage` without `speed` and `service_tier`, which prepare() then appends last.
    await using sink = await DuckDbSink.open({ path });
    await sink.query(
      duckdbCreateTable({
        ...Tables.usage,
        columns: Tables.usage.columns.filter((c) => c.name !== "speed" && c.name !== "service_tier"),
      }),
    );
  }
  await using sink = await DuckDbSink.open({ path });
  await sink.prepare();
  const row = usageRow(0, "r1", { usage_key: "m1", service_tier: "standard", speed: "fast" });
  const result = await sink.load(await stage(tree.path, "usage", [row]));
  assertEquals([result.rowsBefore, result.rowsAfter], [0, 1]);
  assertEquals(await sink.query("SELECT usage_key, service_tier, speed, is_sidechain FROM usage"), [
    { usage_key: "m1", service_tier: "standard", speed: "fast", is_sidechain: false },
  ]);
});
