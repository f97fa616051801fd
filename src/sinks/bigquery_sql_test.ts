import assert from "node:assert/strict";
import { Tables } from "../schema/tables.ts";
import {
  checkIdentifier,
  mergeStatement,
  quoteTable,
  sessionsRefreshStatement,
  stagingTableName,
} from "./bigquery_sql.ts";

const ref = (table: string) => ({ project: "test-project", dataset: "ccpipe", table });

Deno.test("quoteTable() backticks a valid path and refuses injection", () => {
  assert.equal(quoteTable(ref("messages")), "`test-project.ccpipe.messages`");
  assert.equal(
    quoteTable({ project: "example.com:my-proj", dataset: "d", table: "t" }),
    "`example.com:my-proj.d.t`",
  );
  for (
    const bad of [ref("m`; DROP TABLE x"), { ...ref("t"), dataset: "a.b" }, { ...ref("t"), project: "P" }]
  ) {
    assert.throws(() => quoteTable(bad), TypeError);
  }
  assert.throws(() => checkIdentifier("a b"), TypeError);
  assert.equal(checkIdentifier("_ok1"), "_ok1");
});

Deno.test("stagingTableName() is deterministic per run and table", () => {
  assert.equal(stagingTableName("messages", "r1"), "_stg_messages_r1");
  assert.equal(
    stagingTableName("usage", "2026-08-10T12:00:00Z-ab12"),
    "_stg_usage_2026_08_10T12_00_00Z_ab12",
  );
  assert.equal(stagingTableName("usage", "x"), stagingTableName("usage", "x"));
  // Two machines whose runs started in the same second stage apart.
  assert.equal(
    stagingTableName("usage", "2026-08-10T12-00-00Z", "m-0a1b"),
    "_stg_usage_m_0a1b_2026_08_10T12_00_00Z",
  );
  assert.throws(() => stagingTableName("usage", ""), TypeError);
});

Deno.test("mergeStatement() upserts messages on uuid, keeps the correction group sticky, quotes every column", () => {
  const { query, params } = mergeStatement(Tables.messages, {
    target: ref("messages"),
    staging: ref("_stg_messages_r1"),
  });
  assert.equal(params, undefined);
  const lines = query.split("\n");
  assert.equal(
    lines[0],
    "MERGE `test-project.ccpipe.messages` T USING (SELECT * FROM `test-project.ccpipe._stg_messages_r1` " +
      "WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY `uuid`) = 1) S ON T.`uuid` = S.`uuid`",
  );
  assert.match(lines[1], /^WHEN MATCHED AND \(S\.`message_key` IS DISTINCT FROM T\.`message_key` OR /);
  assert.doesNotMatch(lines[1], /(SET |, )`uuid` = S\.`uuid`/);
  for (const column of ["corrected_text", "correction_status", "correction_model"]) {
    assert.ok(
      lines[1].includes(
        `\`${column}\` = IF(S.\`corrected_text\` IS NULL AND T.\`corrected_text\` IS NOT NULL, T.\`${column}\`, S.\`${column}\`)`,
      ),
      column,
    );
  }
  assert.ok(lines[1].includes("`text` = S.`text`"));
  assert.ok(lines[1].includes("S.`text` IS DISTINCT FROM T.`text`"));
  // Every column of messages, in the table's order, written out.
  const names = [
    "uuid",
    "message_key",
    "parent_uuid",
    "logical_parent_uuid",
    "session_id",
    "project_id",
    "project",
    "turn",
    "timestamp",
    "event_date",
    "type",
    "subtype",
    "kind",
    "role",
    "model",
    "api_message_id",
    "request_id",
    "text",
    "tool_names",
    "is_sidechain",
    "is_meta",
    "is_compact_summary",
    "agent_id",
    "git_branch",
    "cc_version",
    "source_file",
    "source_line",
    "source_offset",
    "run_id",
    "corrected_text",
    "correction_status",
    "correction_model",
    "extra",
    "machine_id",
    "user_label",
  ];
  assert.equal(
    lines[2],
    `WHEN NOT MATCHED THEN INSERT (${names.map((n) => `\`${n}\``).join(", ")}) VALUES (${
      names.map((n) => `S.\`${n}\``).join(", ")
    })`,
  );
});

Deno.test("mergeStatement() prunes the target to the staged partitions with a DATE array parameter", () => {
  const statement = mergeStatement(
    Tables.messages,
    { target: ref("messages"), staging: ref("_stg_messages_r1") },
    ["2026-08-09", "2026-08-10", null],
  );
  assert.ok(
    statement.query.split("\n")[0].endsWith(
      "S ON T.`uuid` = S.`uuid` AND (T.`event_date` IN UNNEST(@partitions) OR T.`event_date` IS NULL)",
    ),
  );
  assert.deepEqual(statement.params, { partitions: ["2026-08-09", "2026-08-10"] });
  assert.deepEqual(statement.types, { partitions: ["DATE"] });
  // An unpartitioned table takes no filter.
  assert.equal(
    mergeStatement(Tables.runs, { target: ref("runs"), staging: ref("_stg_runs_r1") }, ["2026-08-10"]).params,
    undefined,
  );
});

Deno.test("mergeStatement() updates usage only when total_tokens grows, keeping the biggest duplicate", () => {
  const { query } = mergeStatement(Tables.usage, { target: ref("usage"), staging: ref("_stg_usage_r1") });
  assert.match(
    query,
    /QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY `usage_key` ORDER BY `total_tokens` DESC\) = 1\)/,
  );
  assert.match(query, /\nWHEN MATCHED AND S\.`total_tokens` > T\.`total_tokens` AND \(/);
  assert.match(query, / ON T\.`usage_key` = S\.`usage_key`\n/);
});

Deno.test("mergeStatement() keeps old session metadata over a NULL", () => {
  const { query } = mergeStatement(Tables.sessions, {
    target: ref("sessions"),
    staging: ref("_stg_sessions_r1"),
  });
  for (const column of ["project", "title", "summary", "git_branch", "cc_version"]) {
    assert.ok(query.includes(`\`${column}\` = COALESCE(S.\`${column}\`, T.\`${column}\`)`), column);
  }
  assert.ok(query.includes("`message_count` = S.`message_count`"));
});

Deno.test("mergeStatement() only inserts rejects (a rejected line never changes)", () => {
  const { query } = mergeStatement(Tables.rejects, {
    target: ref("rejects"),
    staging: ref("_stg_rejects_r1"),
  });
  assert.doesNotMatch(query, /WHEN MATCHED/);
  assert.match(query, /\nWHEN NOT MATCHED THEN INSERT /);
});

Deno.test("mergeStatement() refuses rules naming unknown columns", () => {
  assert.throws(
    () =>
      mergeStatement({ ...Tables.usage, replaceWhenGreater: "nope" }, {
        target: ref("usage"),
        staging: ref("s"),
      }),
    (e: unknown) => e instanceof TypeError && e.message.includes("nope"),
  );
  assert.throws(
    () => mergeStatement({ ...Tables.usage, key: [] }, { target: ref("usage"), staging: ref("s") }),
    TypeError,
  );
});

Deno.test("sessionsRefreshStatement() recomputes the aggregates from messages for the staged sessions", () => {
  const { query } = sessionsRefreshStatement({
    sessions: ref("sessions"),
    messages: ref("messages"),
    staging: ref("_stg_sessions_r1"),
  });
  assert.equal(
    query,
    "MERGE `test-project.ccpipe.sessions` T USING (SELECT `session_id`, MIN(`timestamp`) AS `first_timestamp`, " +
      "MAX(`timestamp`) AS `last_timestamp`, MIN(`event_date`) AS `event_date`, COUNT(*) AS `message_count`, " +
      "COUNTIF(`kind` = 'human_prompt') AS `human_prompt_count`, COUNTIF(`type` = 'assistant') AS `assistant_count`, " +
      "SUM(ARRAY_LENGTH(`tool_names`)) AS `tool_use_count` FROM `test-project.ccpipe.messages` " +
      "WHERE `session_id` IN (SELECT `session_id` FROM `test-project.ccpipe._stg_sessions_r1`) GROUP BY `session_id`) S " +
      "ON T.`session_id` = S.`session_id`\n" +
      "WHEN MATCHED AND (S.`first_timestamp` IS DISTINCT FROM T.`first_timestamp` OR " +
      "S.`last_timestamp` IS DISTINCT FROM T.`last_timestamp` OR S.`event_date` IS DISTINCT FROM T.`event_date` OR " +
      "S.`message_count` IS DISTINCT FROM T.`message_count` OR " +
      "S.`human_prompt_count` IS DISTINCT FROM T.`human_prompt_count` OR " +
      "S.`assistant_count` IS DISTINCT FROM T.`assistant_count` OR S.`tool_use_count` IS DISTINCT FROM T.`tool_use_count`) " +
      "THEN UPDATE SET `first_timestamp` = S.`first_timestamp`, `last_timestamp` = S.`last_timestamp`, " +
      "`event_date` = S.`event_date`, `message_count` = S.`message_count`, `human_prompt_count` = S.`human_prompt_count`, " +
      "`assistant_count` = S.`assistant_count`, `tool_use_count` = S.`tool_use_count`",
  );
});

Deno.test("mergeStatement() quotes a column named like a reserved word", () => {
  const def = {
    ...Tables.runs,
    name: "runs" as const,
    key: ["id"],
    columns: [
      { name: "id", type: "string" as const, nullable: false },
      { name: "select", type: "int" as const, nullable: true },
    ],
  };
  const { query } = mergeStatement(def, { target: ref("runs"), staging: ref("_stg_runs_r1") });
  assert.ok(query.includes("THEN UPDATE SET `select` = S.`select`"), query);
  assert.ok(query.includes("INSERT (`id`, `select`) VALUES (S.`id`, S.`select`)"), query);
});

Deno.test("mergeStatement() checks the sticky group and the key, and joins a composite key with AND", () => {
  const target = { target: ref("t"), staging: ref("s") };
  assert.throws(
    () =>
      mergeStatement(
        { ...Tables.messages, stickyGroup: { guard: "corrected_text", columns: ["nope"] } },
        target,
      ),
    new TypeError(
      "Cannot build the MERGE of 'messages' as it names an unknown column: current value is nope",
    ),
  );
  assert.throws(
    () => mergeStatement({ ...Tables.usage, key: [] }, target),
    new TypeError(
      "Cannot build the MERGE of 'usage' as 'key' must list at least one column: current value is []",
    ),
  );
  const composite = mergeStatement({ ...Tables.usage, key: ["usage_key", "model"] }, target).query;
  assert.ok(
    composite.split("\n")[0].endsWith(" S ON T.`usage_key` = S.`usage_key` AND T.`model` = S.`model`"),
    composite,
  );
  assert.doesNotMatch(composite, /(SET |, )`model` = /);
  assert.ok(composite.includes("PARTITION BY `usage_key`, `model` ORDER BY"), composite);
  // The first machine to load a shared record keeps its stamp.
  assert.ok(
    mergeStatement(Tables.messages, target).query.includes(
      "`machine_id` = COALESCE(T.`machine_id`, S.`machine_id`)",
    ),
  );
  // Every column a key column: nothing to update on a match, only inserts.
  const names = Tables.rejects.columns.map((c) => c.name);
  const lines = mergeStatement({ ...Tables.rejects, key: names }, target).query.split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^WHEN NOT MATCHED THEN INSERT /);
});
