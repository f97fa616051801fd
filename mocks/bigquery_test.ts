import assert from "node:assert/strict";
import { BigQuery } from "@google-cloud/bigquery";
import { setupServer } from "msw/node";
import {
  type BigQueryMock,
  type BigQueryMockOptions,
  createBigQueryMock,
  fakeAuthClient,
} from "./bigquery.ts";

const P = "test-project";

interface Harness extends AsyncDisposable {
  mock: BigQueryMock;
  bq: BigQuery;
}

/** Starts the mock behind an MSW server and a real BigQuery client (no SDK retries, so faults stay visible). */
function start(options: BigQueryMockOptions = {}, apiEndpoint?: string): Harness {
  const mock = createBigQueryMock(options);
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: "error" });
  const bq = new BigQuery({
    projectId: P,
    authClient: fakeAuthClient() as never,
    autoRetry: false,
    ...(apiEndpoint ? { apiEndpoint } : {}),
  });
  return {
    mock,
    bq,
    [Symbol.asyncDispose]() {
      server.close();
      return Promise.resolve();
    },
  };
}

async function ndjson(rows: unknown[], raw = ""): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n" + raw);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new assert.AssertionError({ message: "Expected the promise to reject" });
}

const USAGE_SCHEMA = [
  { name: "usage_key", type: "STRING", mode: "REQUIRED" },
  { name: "model", type: "STRING" },
  { name: "total_tokens", type: "INTEGER" },
  { name: "timestamp", type: "TIMESTAMP" },
  { name: "event_date", type: "DATE" },
  { name: "tool_names", type: "STRING", mode: "REPEATED" },
  { name: "extra", type: "JSON" },
];

async function loadRows(
  bq: BigQuery,
  table: string,
  rows: unknown[],
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const path = await ndjson(rows);
  try {
    await bq.dataset("d").table(table).load(path, { sourceFormat: "NEWLINE_DELIMITED_JSON", ...metadata });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("bigquery mock: datasets.insert and tables.insert keep partitioning, clustering and expiration", async () => {
  await using h = start();
  const dataset = h.bq.dataset("d");
  assert.equal((await dataset.exists())[0], false);
  await h.bq.createDataset("d", { location: "EU" });
  const expires = String(Date.UTC(2030, 0, 1));
  await dataset.createTable("messages", {
    schema: { fields: USAGE_SCHEMA },
    timePartitioning: { type: "DAY", field: "event_date" },
    clustering: { fields: ["model"] },
    expirationTime: expires,
  });
  const [meta] = await dataset.table("messages").getMetadata();
  assert.deepEqual(meta.timePartitioning, { type: "DAY", field: "event_date" });
  assert.deepEqual(meta.clustering, { fields: ["model"] });
  assert.equal(meta.expirationTime, expires);
  assert.equal(meta.location, "EU");
  assert.equal(meta.numRows, "0");
  assert.deepEqual(meta.schema.fields[0], { name: "usage_key", type: "STRING", mode: "REQUIRED" });
  assert.equal(meta.schema.fields[1].mode, "NULLABLE");
  assert.deepEqual(h.mock.table("d", "messages")?.clustering, { fields: ["model"] });
  const again = await rejection(dataset.createTable("messages", { schema: { fields: USAGE_SCHEMA } }));
  assert.equal(again.code, 409);
  assert.deepEqual(
    h.mock.calls.map((c) => `${c.kind} ${c.status}`),
    ["datasets.get 404", "datasets.insert 200", "tables.insert 200", "tables.get 200", "tables.insert 409"],
  );
});

Deno.test("bigquery mock: tables.patch adds nullable columns and refuses type changes and drops", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const table = h.bq.dataset("d").table("t");
  await h.bq.dataset("d").createTable("t", { schema: { fields: [{ name: "a", type: "STRING" }] } });
  await table.setMetadata({
    schema: { fields: [{ name: "a", type: "STRING" }, { name: "b", type: "INT64" }] },
  });
  assert.deepEqual(h.mock.table("d", "t")?.schema.map((f) => `${f.name}:${f.type}`), [
    "a:STRING",
    "b:INTEGER",
  ]);
  const retype = await rejection(
    table.setMetadata({
      schema: { fields: [{ name: "a", type: "INTEGER" }, { name: "b", type: "INTEGER" }] },
    }),
  );
  assert.equal(retype.code, 400);
  assert.match(retype.message, /Field a has changed type from STRING to INTEGER/);
  const drop = await rejection(table.setMetadata({ schema: { fields: [{ name: "a", type: "STRING" }] } }));
  assert.match(drop.message, /Field b is missing in new schema/);
  const partition = await rejection(table.setMetadata({ timePartitioning: { type: "DAY" } }));
  assert.match(partition.message, /Cannot change partitioning/);
});

Deno.test("bigquery mock: table.load() puts an NDJSON file's rows in the warehouse", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const rows = [
    {
      usage_key: "m1:r1",
      model: "opus",
      total_tokens: 10,
      timestamp: "2025-01-02T03:04:05.000Z",
      tool_names: ["Bash"],
    },
    { usage_key: "m2:r2", model: "haiku", total_tokens: "7", event_date: "2025-01-02", extra: { a: [1] } },
  ];
  const path = await ndjson(rows);
  const size = (await Deno.stat(path)).size;
  const [job] = await h.bq.dataset("d").table("usage").load(path, {
    sourceFormat: "NEWLINE_DELIMITED_JSON",
    schema: { fields: USAGE_SCHEMA },
    timePartitioning: { type: "DAY", field: "event_date" },
    writeDisposition: "WRITE_TRUNCATE",
  });
  await Deno.remove(path);
  assert.equal(job.status?.state, "DONE");
  assert.equal(job.statistics?.load?.outputRows, "2");
  assert.deepEqual(h.mock.rows("d", "usage"), [
    {
      usage_key: "m1:r1",
      model: "opus",
      total_tokens: 10,
      timestamp: "2025-01-02T03:04:05.000Z",
      event_date: null,
      tool_names: ["Bash"],
      extra: null,
    },
    {
      usage_key: "m2:r2",
      model: "haiku",
      total_tokens: 7,
      timestamp: null,
      event_date: "2025-01-02",
      tool_names: [],
      extra: { a: [1] },
    },
  ]);
  assert.deepEqual(h.mock.table("d", "usage")?.timePartitioning, { type: "DAY", field: "event_date" });
  assert.deepEqual(h.mock.counters(), {
    loadJobs: 1,
    queryJobs: 0,
    dmlConflicts: 0,
    dmlQueueFull: 0,
    dmlMaxOutstanding: 0,
    bytesBilled: 0,
    streamingInserts: 0,
    failedJobs: 0,
    bytesUploaded: size,
  });
  assert.deepEqual(h.mock.calls.slice(1).map((c) => c.kind), ["jobs.insert.load", "jobs.get"]);
  assert.equal(h.mock.calls[1].path, `/upload/bigquery/v2/projects/${P}/jobs`);
});

Deno.test("bigquery mock: a bad row fails the load job with BigQuery's error shape and loads nothing", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  await loadRows(h.bq, "usage", [{ usage_key: "k0" }], { schema: { fields: USAGE_SCHEMA } });
  const err = await rejection(loadRows(h.bq, "usage", [{ usage_key: "k1", total_tokens: 3 }, {
    usage_key: "k2",
    total_tokens: "many",
  }]));
  const errors = err.errors as { reason: string; location?: string; message: string }[];
  assert.equal(errors[0].reason, "invalid");
  assert.match(
    errors[0].message,
    /^Error while reading data, error message: JSON table encountered too many errors/,
  );
  assert.equal(typeof errors[0].location, "string");
  assert.match(
    errors[1].message,
    /JSON parsing error in row starting at position \d+: Could not convert value 'string_value: "many"' to integer\. Field: total_tokens; Value: many/,
  );
  assert.match(err.message, /too many errors.*Field: total_tokens/s);
  const missing = await rejection(loadRows(h.bq, "usage", [{ model: "opus" }]));
  assert.match(missing.message, /Missing required field: usage_key\./);
  const unknown = await rejection(loadRows(h.bq, "usage", [{ usage_key: "k3", nope: 1 }]));
  assert.match(unknown.message, /No such field: nope\./);
  assert.deepEqual(h.mock.rows("d", "usage").map((r) => r.usage_key), ["k0"]);
  assert.equal(h.mock.counters().failedJobs, 3);
});

Deno.test("bigquery mock: load dispositions and ALLOW_FIELD_ADDITION follow BigQuery's rules", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const base = [{ name: "k", type: "STRING", mode: "REQUIRED" }];
  await loadRows(h.bq, "t", [{ k: "a" }, { k: "b" }], { schema: { fields: base } });
  await loadRows(h.bq, "t", [{ k: "c" }]);
  assert.equal(h.mock.rows("d", "t").length, 3);
  await loadRows(h.bq, "t", [{ k: "z" }], { writeDisposition: "WRITE_TRUNCATE" });
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "z" }]);
  const wider = [...base, { name: "n", type: "INTEGER" }];
  const refused = await rejection(loadRows(h.bq, "t", [{ k: "y", n: 1 }], { schema: { fields: wider } }));
  assert.match(
    refused.message,
    /Provided Schema does not match Table test-project:d\.t\. Cannot add fields \(field: n\)/,
  );
  await loadRows(h.bq, "t", [{ k: "y", n: 1 }], {
    schema: { fields: wider },
    schemaUpdateOptions: ["ALLOW_FIELD_ADDITION"],
  });
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "z", n: null }, { k: "y", n: 1 }]);
  const never = await rejection(
    loadRows(h.bq, "missing", [{ k: "x" }], { createDisposition: "CREATE_NEVER" }),
  );
  assert.match(never.message, /Not found: Table test-project:d\.missing/);
  const noSchema = await rejection(loadRows(h.bq, "missing", [{ k: "x" }]));
  assert.match(noSchema.message, /No schema specified on job or table/);
});

const MERGE_USAGE = `MERGE \`${P}.d.usage\` T USING \`${P}.d.usage_staging\` S ON T.usage_key = S.usage_key
WHEN MATCHED AND S.total_tokens > T.total_tokens THEN UPDATE SET model = S.model, total_tokens = S.total_tokens,
  timestamp = COALESCE(S.timestamp, T.timestamp), tool_names = S.tool_names
WHEN NOT MATCHED THEN INSERT (usage_key, model, total_tokens, timestamp, event_date, tool_names, extra)
  VALUES (S.usage_key, S.model, S.total_tokens, S.timestamp, S.event_date, S.tool_names, S.extra)`;

Deno.test("bigquery mock: a MERGE run twice leaves the same rows", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  await loadRows(h.bq, "usage", [
    { usage_key: "a", model: "opus", total_tokens: 5, timestamp: "2025-01-01T00:00:00Z" },
    { usage_key: "b", model: "opus", total_tokens: 9 },
  ], { schema: { fields: USAGE_SCHEMA } });
  await loadRows(h.bq, "usage_staging", [
    { usage_key: "a", model: "opus-2", total_tokens: 8 },
    { usage_key: "b", model: "ignored", total_tokens: 3 },
    { usage_key: "c", model: "haiku", total_tokens: 1, tool_names: ["Read", "Edit"] },
  ], { schema: { fields: USAGE_SCHEMA }, writeDisposition: "WRITE_TRUNCATE" });
  // First run as a query job (jobs.insert + polling), second through jobs.query: both paths apply MERGE.
  const [job] = await h.bq.createQueryJob({ query: MERGE_USAGE, maximumBytesBilled: "100000000" });
  await job.promise();
  assert.deepEqual(job.metadata.statistics.query.dmlStats, {
    insertedRowCount: "1",
    updatedRowCount: "1",
    deletedRowCount: "0",
  });
  // A table has no row order (BigQuery's neither): compare sorted by key.
  const sorted = () =>
    h.mock.rows("d", "usage").sort((x, y) => String(x.usage_key).localeCompare(String(y.usage_key)));
  const afterFirst = sorted();
  assert.deepEqual(afterFirst.map((r) => [r.usage_key, r.model, r.total_tokens, r.timestamp]), [
    ["a", "opus-2", 8, "2025-01-01T00:00:00.000Z"],
    ["b", "opus", 9, null],
    ["c", "haiku", 1, null],
  ]);
  await h.bq.query({ query: MERGE_USAGE, maximumBytesBilled: "100000000" });
  assert.deepEqual(sorted(), afterFirst);
  const merges = h.mock.calls.filter((c) => c.kind === "jobs.query" || c.kind === "jobs.insert.query");
  assert.deepEqual(merges.map((c) => c.kind), ["jobs.insert.query", "jobs.query"]);
  assert.equal(merges[1].statement, MERGE_USAGE);
  assert.equal(h.mock.counters().queryJobs, 2);
});

Deno.test("bigquery mock: MERGE keeps a sticky group with IF and fails when a target row matches twice", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const schema = [
    { name: "uuid", type: "STRING", mode: "REQUIRED" },
    { name: "text", type: "STRING" },
    { name: "corrected_text", type: "STRING" },
    { name: "correction_status", type: "STRING" },
  ];
  await loadRows(h.bq, "messages", [{
    uuid: "u1",
    text: "helo",
    corrected_text: "hello",
    correction_status: "ok",
  }], {
    schema: { fields: schema },
  });
  await loadRows(h.bq, "staging", [{ uuid: "u1", text: "helo!" }], { schema: { fields: schema } });
  const sticky = (col: string) =>
    `${col} = IF(S.corrected_text IS NULL AND T.corrected_text IS NOT NULL, T.${col}, S.${col})`;
  const merge = `MERGE \`${P}.d.messages\` T USING \`${P}.d.staging\` S ON T.uuid = S.uuid
    WHEN MATCHED THEN UPDATE SET text = S.text, ${sticky("corrected_text")}, ${sticky("correction_status")}
    WHEN NOT MATCHED THEN INSERT (uuid, text, corrected_text, correction_status)
      VALUES (S.uuid, S.text, S.corrected_text, S.correction_status)`;
  await h.bq.query(merge);
  assert.deepEqual(h.mock.rows("d", "messages"), [
    { uuid: "u1", text: "helo!", corrected_text: "hello", correction_status: "ok" },
  ]);
  await loadRows(h.bq, "staging", [{ uuid: "u1", text: "x" }, { uuid: "u1", text: "y" }], {
    writeDisposition: "WRITE_TRUNCATE",
  });
  const twice = await rejection(h.bq.query(merge));
  assert.equal(twice.code, 400);
  assert.match(twice.message, /UPDATE\/MERGE must match at most one source row for each target row/);
  assert.equal((twice.errors as { reason: string }[])[0].reason, "invalidQuery");
  assert.equal(h.mock.rows("d", "messages")[0].text, "helo!");
});

Deno.test("bigquery mock: SELECT COUNT with a parameter, SELECT 1 and DROP TABLE IF EXISTS", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  await loadRows(h.bq, "usage", [{ usage_key: "a", model: "opus" }, { usage_key: "b", model: "haiku" }, {
    usage_key: "c",
    model: "opus",
  }], { schema: { fields: USAGE_SCHEMA } });
  const [all] = await h.bq.query(`SELECT COUNT(*) AS n FROM \`${P}.d.usage\``);
  assert.deepEqual(all, [{ n: 3 }]);
  const [opus] = await h.bq.query({
    query: `SELECT COUNT(*) AS n FROM \`${P}.d.usage\` WHERE model = @model`,
    params: { model: "opus" },
  });
  assert.deepEqual(opus, [{ n: 2 }]);
  const [one] = await h.bq.query("SELECT 1");
  assert.deepEqual(one, [{ f0_: 1 }]);
  const noParam = await rejection(h.bq.query(`SELECT COUNT(*) AS n FROM \`${P}.d.usage\` WHERE model = @m`));
  assert.equal(noParam.code, 400);
  assert.match(noParam.message, /Query parameter 'm' not found/);
  await h.bq.query(`DROP TABLE IF EXISTS \`${P}.d.usage\``);
  await h.bq.query(`DROP TABLE IF EXISTS \`${P}.d.usage\``);
  assert.equal(h.mock.table("d", "usage"), undefined);
  const missing = await rejection(h.bq.query(`DROP TABLE \`${P}.d.usage\``));
  assert.equal(missing.code, 404);
});

Deno.test("bigquery mock: the sessions refresh MERGE recomputes aggregates from messages", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const messages = [
    { name: "uuid", type: "STRING", mode: "REQUIRED" },
    { name: "session_id", type: "STRING" },
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "kind", type: "STRING" },
    { name: "type", type: "STRING" },
    { name: "tool_names", type: "STRING", mode: "REPEATED" },
  ];
  await loadRows(h.bq, "messages", [
    { uuid: "1", session_id: "s1", timestamp: "2025-03-01T10:00:00Z", kind: "human_prompt", type: "user" },
    {
      uuid: "2",
      session_id: "s1",
      timestamp: "2025-03-01T09:00:00Z",
      kind: "tool_use",
      type: "assistant",
      tool_names: ["Bash", "Read"],
    },
    {
      uuid: "3",
      session_id: "s1",
      timestamp: "2025-03-02T01:00:00Z",
      kind: "assistant_text",
      type: "assistant",
    },
    { uuid: "4", session_id: "s2", timestamp: "2025-03-05T00:00:00Z", kind: "human_prompt", type: "user" },
  ], { schema: { fields: messages } });
  const sessions = [
    { name: "session_id", type: "STRING", mode: "REQUIRED" },
    { name: "first_timestamp", type: "TIMESTAMP" },
    { name: "last_timestamp", type: "TIMESTAMP" },
    { name: "event_date", type: "DATE" },
    { name: "message_count", type: "INTEGER" },
    { name: "human_prompt_count", type: "INTEGER" },
    { name: "assistant_count", type: "INTEGER" },
    { name: "tool_use_count", type: "INTEGER" },
  ];
  await loadRows(h.bq, "sessions", [{ session_id: "s1", message_count: 0 }, {
    session_id: "s2",
    message_count: 0,
  }], {
    schema: { fields: sessions },
  });
  await loadRows(h.bq, "sessions_staging", [{ session_id: "s1" }], { schema: { fields: sessions } });
  const refresh = `MERGE \`${P}.d.sessions\` T USING (
      SELECT session_id, MIN(timestamp) AS first_timestamp, MAX(timestamp) AS last_timestamp,
        DATE(MIN(timestamp)) AS event_date, COUNT(*) AS message_count,
        COUNTIF(kind = 'human_prompt') AS human_prompt_count, COUNTIF(type = 'assistant') AS assistant_count,
        SUM(ARRAY_LENGTH(tool_names)) AS tool_use_count
      FROM \`${P}.d.messages\`
      WHERE session_id IN (SELECT session_id FROM \`${P}.d.sessions_staging\`)
      GROUP BY session_id) S
    ON T.session_id = S.session_id
    WHEN MATCHED THEN UPDATE SET first_timestamp = S.first_timestamp, last_timestamp = S.last_timestamp,
      event_date = S.event_date, message_count = S.message_count, human_prompt_count = S.human_prompt_count,
      assistant_count = S.assistant_count, tool_use_count = S.tool_use_count`;
  await h.bq.query(refresh);
  assert.deepEqual(h.mock.rows("d", "sessions"), [
    {
      session_id: "s1",
      first_timestamp: "2025-03-01T09:00:00.000Z",
      last_timestamp: "2025-03-02T01:00:00.000Z",
      event_date: "2025-03-01",
      message_count: 3,
      human_prompt_count: 1,
      assistant_count: 2,
      tool_use_count: 2,
    },
    {
      session_id: "s2",
      first_timestamp: null,
      last_timestamp: null,
      event_date: null,
      message_count: 0,
      human_prompt_count: null,
      assistant_count: null,
      tool_use_count: null,
    },
  ]);
});

Deno.test("bigquery mock: bills referenced columns with a 10 MB minimum per table and enforces maximumBytesBilled", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  await loadRows(h.bq, "usage", [{ usage_key: "a".repeat(200), model: "opus" }], {
    schema: { fields: USAGE_SCHEMA },
  });
  const query = `SELECT usage_key FROM \`${P}.d.usage\``;
  const err = await rejection(h.bq.query({ query, maximumBytesBilled: "100" }));
  assert.equal((err.errors as { reason: string }[])[0].reason, "bytesBilledLimitExceeded");
  assert.equal(err.message, "Query exceeded limit for bytes billed: 100. 10485760 or higher required.");
  const [job] = await h.bq.createQueryJob({ query, maximumBytesBilled: "10485760" });
  await job.promise();
  // usage_key only: a STRING is 2 bytes plus its UTF-8 length; billed at the 10 MB floor.
  assert.equal(job.metadata.statistics.query.totalBytesProcessed, "202");
  assert.equal(job.metadata.statistics.query.totalBytesBilled, "10485760");
  assert.equal(h.mock.counters().failedJobs, 1);
});

Deno.test("bigquery mock: an unsupported statement answers invalidQuery quoting it", async () => {
  await using h = start();
  const sql =
    "CREATE OR REPLACE TABLE `test-project.d.t` AS SELECT * FROM `test-project.d.other` -- and a long tail";
  const err = await rejection(h.bq.query(sql));
  assert.equal(err.code, 400);
  assert.equal((err.errors as { reason: string }[])[0].reason, "invalidQuery");
  assert.ok(err.message.includes(sql.slice(0, 80)), err.message);
  const missing = await rejection(
    h.bq.query("SELECT a FROM `test-project.d.t` JOIN `test-project.d.u` USING (a)"),
  );
  assert.equal((missing.errors as { reason: string }[])[0].reason, "notFound");
});

Deno.test("bigquery mock: jobs.get reports PENDING, RUNNING, then DONE", async () => {
  await using h = start({ jobPollsUntilDone: 3 });
  const base = `https://bigquery.googleapis.com/bigquery/v2/projects/${P}`;
  const inserted = await (await fetch(`${base}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ configuration: { query: { query: "SELECT 1 AS x", useLegacySql: false } } }),
  })).json();
  assert.equal(inserted.status.state, "PENDING");
  const id = inserted.jobReference.jobId;
  const states: string[] = [];
  for (let i = 0; i < 4; i++) {
    states.push((await (await fetch(`${base}/jobs/${id}`)).json()).status.state);
  }
  assert.deepEqual(states, ["PENDING", "RUNNING", "DONE", "DONE"]);
  const results = await (await fetch(`${base}/queries/${id}`)).json();
  assert.deepEqual(results.rows, [{ f: [{ v: "1" }] }]);
  // The SDK polls the same way: createQueryJob + getQueryResults finishes after the configured polls.
  const [job] = await h.bq.createQueryJob({ query: "SELECT 2 AS y" });
  const [rows] = await job.getQueryResults();
  assert.deepEqual(rows, [{ y: 2 }]);
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.getQueryResults" && c.jobId === job.id).length, 3);
});

Deno.test("bigquery mock: the per-table daily load-job quota refuses job N+1 until the next day", async () => {
  let now = Date.UTC(2025, 5, 1, 12);
  await using h = start({ loadJobsPerTablePerDay: 2, now: () => now });
  await h.bq.createDataset("d");
  const schema = { fields: [{ name: "k", type: "STRING" }] };
  await loadRows(h.bq, "t", [{ k: "1" }], { schema });
  await loadRows(h.bq, "t", [{ k: "2" }]);
  await loadRows(h.bq, "other", [{ k: "x" }], { schema });
  const err = await rejection(loadRows(h.bq, "t", [{ k: "3" }]));
  const errors = err.errors as { reason: string; message: string }[];
  assert.equal(errors[0].reason, "quotaExceeded");
  assert.match(
    errors[0].message,
    /Quota exceeded: Your table exceeded quota for imports or query appends per table/,
  );
  assert.equal(h.mock.rows("d", "t").length, 2);
  now += 24 * 3600_000;
  await loadRows(h.bq, "t", [{ k: "3" }]);
  assert.equal(h.mock.rows("d", "t").length, 3);
  assert.deepEqual([h.mock.counters().loadJobs, h.mock.counters().failedJobs], [5, 1]);
});

Deno.test("bigquery mock: http500, http503 and rateLimitExceeded faults answer like BigQuery", async () => {
  await using h = start({
    faults: [
      { fault: "http500", calls: [1], match: "GET /bigquery/v2/projects/test-project/datasets" },
      { fault: "http503", calls: [2], match: "GET /bigquery/v2/projects/test-project/datasets" },
      { fault: "rateLimitExceeded", calls: [1], match: "POST /bigquery/v2/projects/test-project/queries" },
    ],
  });
  const e500 = await rejection(h.bq.dataset("d").get());
  assert.equal(e500.code, 500);
  const e503 = await rejection(h.bq.dataset("d").get());
  assert.equal(e503.code, 503);
  assert.equal((await h.bq.dataset("d").exists())[0], false);
  const rate = await rejection(h.bq.query("SELECT 1"));
  assert.equal(rate.code, 403);
  assert.equal((rate.errors as { reason: string }[])[0].reason, "rateLimitExceeded");
  assert.deepEqual((await h.bq.query("SELECT 1"))[0], [{ f0_: 1 }]);
  assert.deepEqual(h.mock.calls.map((c) => c.status), [500, 503, 404, 403, 200]);
});

Deno.test("bigquery mock: a load_job_errors fault ends the job DONE with errors and loads nothing", async () => {
  await using h = start({ faults: [{ fault: "load_job_errors", calls: [2] }] });
  await h.bq.createDataset("d");
  await loadRows(h.bq, "t", [{ k: "1" }], { schema: { fields: [{ name: "k", type: "STRING" }] } });
  const err = await rejection(loadRows(h.bq, "t", [{ k: "2" }]));
  const errors = err.errors as { reason: string; message: string; location?: string }[];
  assert.equal(errors[0].reason, "invalid");
  assert.match(errors[0].message, /JSON table encountered too many errors/);
  assert.match(errors[1].message, /Field: k/);
  await loadRows(h.bq, "t", [{ k: "3" }]);
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "1" }, { k: "3" }]);
  assert.equal(h.mock.counters().failedJobs, 1);
});

Deno.test("bigquery mock: an upload_cut fault drops the connection and creates no job", async () => {
  await using h = start({ faults: [{ fault: "upload_cut", calls: [1] }] });
  await h.bq.createDataset("d");
  const err = await rejection(
    loadRows(h.bq, "t", [{ k: "1" }], { schema: { fields: [{ name: "k", type: "STRING" }] } }),
  );
  assert.match(err.message, /Network error|failed/i);
  assert.equal(h.mock.table("d", "t"), undefined);
  assert.equal(h.mock.calls.at(-1)?.status, 0);
  assert.equal(h.mock.calls.some((c) => c.kind === "jobs.get"), false);
  await loadRows(h.bq, "t", [{ k: "1" }], { schema: { fields: [{ name: "k", type: "STRING" }] } });
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "1" }]);
  assert.equal(h.mock.counters().loadJobs, 1);
});

Deno.test("bigquery mock: a resumable upload survives a cut chunk and resumes from the acknowledged range", async () => {
  await using h = start({ faults: [{ fault: "upload_cut", calls: [2], match: "PUT /upload" }] });
  await h.bq.createDataset("d");
  const upload = `https://bigquery.googleapis.com/upload/bigquery/v2/projects/${P}/jobs`;
  const started = await fetch(`${upload}?uploadType=resumable`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      configuration: {
        load: {
          destinationTable: { projectId: P, datasetId: "d", tableId: "t" },
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          schema: { fields: [{ name: "k", type: "STRING" }] },
        },
      },
    }),
  });
  await started.body?.cancel();
  const session = started.headers.get("location")!;
  assert.match(session, /uploadType=resumable&upload_id=/);
  const data = new TextEncoder().encode('{"k":"a"}\n{"k":"b"}\n{"k":"c"}\n');
  const total = data.byteLength;
  const put = (from: number, to: number) =>
    fetch(session, {
      method: "PUT",
      // msw's fetch interceptor follows a 308 even without a Location header; real fetch would not.
      redirect: "manual",
      headers: { "content-range": `bytes ${from}-${to - 1}/${total}` },
      body: data.slice(from, to),
    });
  const first = await put(0, 10);
  assert.equal(first.status, 308);
  assert.equal(first.headers.get("range"), "bytes=0-9");
  await rejection(put(10, total));
  const status = await fetch(session, {
    method: "PUT",
    redirect: "manual",
    headers: { "content-range": `bytes */${total}` },
  });
  assert.equal(status.status, 308);
  const acknowledged = Number(/bytes=0-(\d+)/.exec(status.headers.get("range")!)![1]) + 1;
  assert.ok(acknowledged > 10 && acknowledged < total);
  const done = await put(acknowledged, total);
  assert.equal(done.status, 200);
  const job = await done.json();
  assert.equal(job.configuration.jobType, "LOAD");
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "a" }, { k: "b" }, { k: "c" }]);
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 1);
});

Deno.test("bigquery mock: streaming inserts are answered and counted", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  await h.bq.dataset("d").createTable("t", { schema: { fields: [{ name: "k", type: "STRING" }] } });
  await h.bq.dataset("d").table("t").insert([{ k: "a" }]);
  assert.equal(h.mock.counters().streamingInserts, 1);
  assert.deepEqual(h.mock.rows("d", "t"), [{ k: "a" }]);
  const [rows] = await h.bq.dataset("d").table("t").getRows();
  assert.deepEqual(rows, [{ k: "a" }]);
});

Deno.test("bigquery mock: unhandled requests are errors", async () => {
  await using h = start();
  await assert.rejects(fetch("https://example.com/"));
  await assert.rejects(fetch(`https://bigquery.googleapis.com/bigquery/v2/projects/${P}/models`));
  await assert.rejects(fetch("http://bq.test/bigquery/v2/projects/test-project/datasets"));
  assert.equal(h.mock.calls.length, 0);
});

Deno.test("bigquery mock: baseUrls serve an endpoint override and the token endpoint answers", async () => {
  await using h = start({ baseUrls: ["http://bq.test"] }, "http://bq.test");
  await h.bq.createDataset("d");
  assert.ok(h.mock.table("d", "t") === undefined);
  assert.equal(h.mock.calls[0].path, `/bigquery/v2/projects/${P}/datasets`);
  const token =
    await (await fetch("https://oauth2.googleapis.com/token", { method: "POST", body: "grant_type=x" }))
      .json();
  assert.equal(token.token_type, "Bearer");
  assert.equal(h.mock.calls.at(-1)?.kind, "oauth.token");
});

Deno.test("bigquery mock: an expired table disappears and reset() empties everything", async () => {
  let now = Date.UTC(2025, 0, 1);
  await using h = start({ now: () => now });
  await h.bq.createDataset("d");
  await h.bq.dataset("d").createTable("staging", {
    schema: { fields: [{ name: "k", type: "STRING" }] },
    expirationTime: String(now + 3600_000),
  });
  assert.ok(h.mock.table("d", "staging"));
  now += 3600_001;
  assert.equal(h.mock.table("d", "staging"), undefined);
  assert.equal((await h.bq.dataset("d").table("staging").exists())[0], false);
  h.mock.reset();
  assert.deepEqual([h.mock.calls.length, h.mock.counters().loadJobs], [0, 0]);
  assert.equal((await h.bq.dataset("d").exists())[0], false);
});

Deno.test("createBigQueryMock() validates its options", () => {
  assert.throws(() => createBigQueryMock({ jobPollsUntilDone: -1 }), RangeError);
  assert.throws(() => createBigQueryMock({ loadJobsPerTablePerDay: 1.5 }), RangeError);
  assert.throws(() => createBigQueryMock({ faults: [{ fault: "http500", rate: 2 }] }), RangeError);
  assert.throws(() => createBigQueryMock({ faults: [{ fault: "nope" as never }] }), TypeError);
  assert.throws(() => createBigQueryMock({ baseUrls: ["not a url"] }), TypeError);
});

Deno.test("bigquery mock: MERGE on a two-column key, with array parameters and NULL keys that never match", async () => {
  await using h = start();
  await h.bq.createDataset("d");
  const schema = {
    fields: [{ name: "a", type: "STRING" }, { name: "b", type: "INTEGER" }, { name: "v", type: "STRING" }],
  };
  await loadRows(h.bq, "t", [{ a: "x", b: 1, v: "old" }, { a: "x", b: 2, v: "old" }, {
    a: null,
    b: 3,
    v: "old",
  }], {
    schema,
  });
  await loadRows(h.bq, "s", [{ a: "x", b: 2, v: "new" }, { a: "y", b: 1, v: "new" }, {
    a: null,
    b: 3,
    v: "new",
  }], {
    schema,
  });
  await h.bq.query({
    query: `MERGE \`${P}.d.t\` T USING \`${P}.d.s\` S ON T.a = S.a AND T.b = S.b
      WHEN MATCHED THEN UPDATE SET v = S.v
      WHEN NOT MATCHED AND S.a IN UNNEST(@keep) THEN INSERT (a, b, v) VALUES (S.a, S.b, S.v)`,
    params: { keep: ["y"] },
  });
  assert.deepEqual(h.mock.rows("d", "t").map((r) => `${r.a}/${r.b}/${r.v}`), [
    "x/1/old",
    "x/2/new",
    "null/3/old",
    "y/1/new",
  ]);
});

Deno.test("bigquery mock: a job in another location than its dataset is 'not found in location'", async () => {
  await using h = start();
  await h.bq.createDataset("d", { location: "EU" });
  await loadRows(h.bq, "t", [{ k: "a" }], { schema: { fields: [{ name: "k", type: "STRING" }] } });
  const err = await rejection(
    h.bq.query({ query: `SELECT COUNT(*) AS n FROM \`${P}.d.t\``, location: "US" }),
  );
  assert.equal(err.message, "Not found: Dataset test-project:d was not found in location US");
  const [rows] = await h.bq.query({ query: `SELECT COUNT(*) AS n FROM \`${P}.d.t\``, location: "EU" });
  assert.deepEqual(rows, [{ n: 1 }]);
  const [job] = await h.bq.dataset("d", { location: "US" }).table("t").createLoadJob(
    await ndjson([{ k: "b" }]),
    {
      sourceFormat: "NEWLINE_DELIMITED_JSON",
    },
  );
  const failed = await rejection(job.promise());
  assert.match(failed.message, /Not found: Dataset test-project:d was not found in location US/);
});

Deno.test("bigquery mock: a reused job id is refused with 409 Already Exists", async () => {
  await using h = start();
  await h.bq.createQueryJob({ query: "SELECT 1", jobId: "ccpipe_q_1" });
  const err = await rejection(h.bq.createQueryJob({ query: "SELECT 1", jobId: "ccpipe_q_1" }));
  assert.equal(err.code, 409);
  assert.match(err.message, /Already Exists: Job test-project:US\.ccpipe_q_1/);
});

Deno.test("bigquery mock: dataset default expirations reach new tables and expire their rows", async () => {
  let now = Date.UTC(2026, 7, 10);
  await using h = start({ now: () => now });
  const day = 86_400_000;
  await h.bq.createDataset("d", {
    defaultTableExpirationMs: String(10 * day),
    defaultPartitionExpirationMs: String(2 * day),
  });
  await loadRows(h.bq, "usage", [
    { usage_key: "old", event_date: "2026-08-01" },
    { usage_key: "new", event_date: "2026-08-10" },
    { usage_key: "none" },
  ], { schema: { fields: USAGE_SCHEMA }, timePartitioning: { type: "DAY", field: "event_date" } });
  assert.equal(h.mock.table("d", "usage")?.expirationTime, String(now + 10 * day));
  assert.deepEqual(h.mock.table("d", "usage")?.timePartitioning?.expirationMs, String(2 * day));
  assert.deepEqual(h.mock.rows("d", "usage").map((r) => r.usage_key).sort(), ["new", "none"]);
  now += 3 * day;
  assert.deepEqual(h.mock.rows("d", "usage").map((r) => r.usage_key), ["none"]);
  now += 8 * day;
  assert.equal(h.mock.table("d", "usage"), undefined);
});

Deno.test("bigquery mock: concurrent DML on one table runs 2 at a time, queues 20, conflicts on shared partitions", async () => {
  await using h = start({ jobPollsUntilDone: 1 });
  await h.bq.createDataset("d");
  await loadRows(h.bq, "t", [{ k: "a", n: 0, day: "2026-08-10" }, { k: "b", n: 0, day: "2026-08-11" }], {
    schema: {
      fields: [{ name: "k", type: "STRING" }, { name: "n", type: "INTEGER" }, { name: "day", type: "DATE" }],
    },
    timePartitioning: { type: "DAY", field: "day" },
  });
  const update = (k: string) => `UPDATE \`${P}.d.t\` SET n = n + 1 WHERE k = '${k}'`;
  // Two statements start together; both write partition 2026-08-10: the first to finish wins.
  const [first] = await h.bq.createQueryJob({ query: update("a") });
  const [second] = await h.bq.createQueryJob({ query: update("a") });
  // A third one on another partition does not conflict (it waits for a slot, then runs).
  const [third] = await h.bq.createQueryJob({ query: update("b") });
  assert.equal(third.metadata.status.state, "PENDING");
  await first.promise();
  const err = await rejection(second.promise());
  assert.equal(err.message, "Could not serialize access to table test-project:d.t due to concurrent update");
  await third.promise();
  assert.deepEqual(h.mock.rows("d", "t").map((r) => [r.k, r.n]).sort(), [["a", 1], ["b", 1]]);
  // 2 running + 20 queued: the 23rd is refused at once.
  const jobs = [];
  for (let i = 0; i < 22; i++) jobs.push((await h.bq.createQueryJob({ query: update("b") }))[0]);
  const full = await rejection(h.bq.createQueryJob({ query: update("b") }).then(([job]) => job.promise()));
  assert.match(
    full.message,
    /Too many DML statements outstanding against table test-project:d\.t, limit is 20/,
  );
  assert.deepEqual(
    [h.mock.counters().dmlConflicts, h.mock.counters().dmlQueueFull, h.mock.counters().dmlMaxOutstanding],
    [1, 1, 22],
  );
});
