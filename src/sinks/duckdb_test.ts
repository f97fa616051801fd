import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { SinkError } from "../errors.ts";
import type { MessageRow, UsageRow } from "../schema/mod.ts";
import { NdjsonWriter } from "../pipeline/staging.ts";
import { writeTree } from "../testing/write_tree.ts";
import { duckdbCreateTable, DuckDbSink } from "./duckdb.ts";
import { Tables } from "../schema/mod.ts";

function message(uuid: string, fields: Partial<MessageRow> = {}): MessageRow {
  return {
    uuid,
    message_key: `k-${uuid}`,
    parent_uuid: null,
    logical_parent_uuid: null,
    session_id: "s1",
    project_id: "p1",
    project: "/home/a",
    turn: 1,
    timestamp: "2026-05-02T09:00:00.000Z",
    event_date: "2026-05-02",
    type: "user",
    subtype: null,
    kind: "human_prompt",
    role: "user",
    model: null,
    api_message_id: null,
    request_id: null,
    text: "fix teh bug",
    tool_names: [],
    is_sidechain: false,
    is_meta: false,
    is_compact_summary: false,
    agent_id: null,
    git_branch: "main",
    cc_version: "2.1.0",
    source_file: "/x.jsonl",
    source_line: 1,
    source_offset: 0,
    run_id: "r1",
    corrected_text: null,
    correction_status: "skipped_no_llm",
    correction_model: null,
    extra: { blockTypes: ["text"] },
    ...fields,
  };
}

function usage(key: string, output: number): UsageRow {
  return {
    usage_key: key,
    api_message_id: key,
    request_id: null,
    session_id: "s1",
    project_id: "p1",
    model: "claude-sonnet-4-5",
    timestamp: "2026-05-02T09:00:00.000Z",
    event_date: "2026-05-02",
    input_tokens: 1,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    total_tokens: 1 + output,
    service_tier: null,
    speed: null,
    is_sidechain: false,
    source_uuid: "a1",
    run_id: "r1",
  };
}

async function stage(dir: string, table: "messages" | "usage", rows: unknown[]) {
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
    ["u1", [], '{"blockTypes":["text"]}', "2026-05-02"],
    ["u2", [], '{"blockTypes":["text"]}', "2026-05-02"],
  ]);
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
