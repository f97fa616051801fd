import assert from "node:assert/strict";
import { join } from "node:path";
import { setupServer } from "msw/node";
import { type BigQueryMock, createBigQueryMock, fakeAuthClient } from "../../mocks/bigquery.ts";
import { SinkError } from "../errors.ts";
import type { Clock } from "../ports.ts";
import type { RejectRow, RunRow, TableName } from "../schema/tables.ts";
import type { StagedTable } from "./sink.ts";
import { type BigQueryConfig, parseBigQueryConfig } from "./bigquery_config.ts";
import { createBigQueryClient, createBigQuerySink, planBigQueryLoad } from "./bigquery.ts";
import { messageRow, sessionRow, usageRow } from "../testing/rows.ts";

const DATASET = "ccpipe";
const START = Date.parse("2026-08-10T12:00:00Z");

/** A clock that never waits: sleeps are recorded and time advances by them. */
function fakeClock(): Clock & { sleeps: number[] } {
  let now = START;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep(ms: number, signal?: AbortSignal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

interface Harness extends AsyncDisposable {
  mock: BigQueryMock;
  clock: Clock & { sleeps: number[] };
  dir: string;
  stateDir: string;
  config: BigQueryConfig;
  logs: string[];
  sink(
    runId: string,
    extra?: {
      config?: Partial<BigQueryConfig>;
      signal?: AbortSignal;
      onLog?: (line: string) => void;
      machineId?: string;
    },
  ): ReturnType<typeof createBigQuerySink>;
  stage(runId: string, table: TableName, rows: object[]): Promise<StagedTable>;
}

async function harness(mockOptions: Parameters<typeof createBigQueryMock>[0] = {}): Promise<Harness> {
  const clock = fakeClock();
  const mock = createBigQueryMock({ now: () => clock.now(), jobPollsUntilDone: 2, ...mockOptions });
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: "error" });
  const dir = await Deno.makeTempDir({ prefix: "ccpipe_bq_" });
  const config = parseBigQueryConfig({ project: "test-project", dataset: DATASET });
  const logs: string[] = [];
  return {
    mock,
    clock,
    dir,
    stateDir: join(dir, "state"),
    config,
    logs,
    sink(runId, extra = {}) {
      const merged = { ...config, ...extra.config };
      return createBigQuerySink({
        config: merged,
        runId,
        ...(extra.machineId ? { machineId: extra.machineId } : {}),
        stateDir: join(dir, "state"),
        client: createBigQueryClient(merged, { authClient: fakeAuthClient() }),
        clock,
        signal: extra.signal,
        log: (line) => {
          logs.push(line);
          extra.onLog?.(line);
        },
      });
    },
    async stage(runId, table, rows) {
      await Deno.mkdir(join(dir, "runs", runId), { recursive: true });
      const path = join(dir, "runs", runId, `${table}.ndjson`);
      const text = rows.map((row) => JSON.stringify(row) + "\n").join("");
      await Deno.writeTextFile(path, text);
      return { table, path, rows: rows.length, bytes: new TextEncoder().encode(text).byteLength };
    },
    async [Symbol.asyncDispose]() {
      server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function rejectRow(i: number, runId: string): RejectRow {
  return {
    reject_key: `/a.jsonl:${i * 100}`,
    source_file: "/a.jsonl",
    line_number: i + 1,
    byte_offset: i * 100,
    error: "Unexpected end of JSON input",
    prefix: '{"type":"us',
    line_bytes: 11,
    run_id: runId,
    machine_id: "m-test",
  };
}

function runRow(runId: string): RunRow {
  return {
    run_id: runId,
    machine_id: "m-test",
    started_at: new Date(START).toISOString(),
    finished_at: new Date(START + 5000).toISOString(),
    status: "completed",
    sources: ["/home/dana/.claude/projects"],
    files: 2,
    bytes_read: 12345,
    lines_read: 30,
    records_parsed: 28,
    rejects: 2,
    blank_lines: 0,
    unique_records: 20,
    duplicate_records: 8,
    usage_rows: 10,
    prompts: 10,
    llm_calls: 1,
    llm_cache_hits: 0,
    llm_tokens_in: 100,
    llm_tokens_out: 50,
    llm_cost_usd: 0.0001,
    duration_ms: 5000,
    stats: { stage: { extract: 1 } },
  };
}

async function stageAll(h: Harness, runId: string, messages = 20): Promise<StagedTable[]> {
  return [
    await h.stage(runId, "messages", Array.from({ length: messages }, (_, i) => messageRow(i, runId))),
    await h.stage(runId, "usage", Array.from({ length: 10 }, (_, i) => usageRow(i, runId))),
    await h.stage(runId, "sessions", [0, 1, 2].map((n) => sessionRow(n, runId))),
    await h.stage(runId, "rejects", [0, 1].map((i) => rejectRow(i, runId))),
    await h.stage(runId, "runs", [runRow(runId)]),
  ];
}

const MERGE_JOBS = "POST /bigquery/v2/projects/test-project/jobs";

Deno.test("BigQuerySink.prepare() creates the dataset and tables with partitioning and clustering", async () => {
  await using h = await harness();
  await using sink = h.sink("r1");
  assert.equal(sink.name, "bigquery");
  assert.equal(sink.location, "test-project.ccpipe");
  await sink.prepare();
  const messages = h.mock.table(DATASET, "messages");
  assert.deepEqual(messages?.timePartitioning, { type: "DAY", field: "event_date" });
  assert.deepEqual(messages?.clustering, { fields: ["session_id", "kind"] });
  const toolNames = messages?.schema.find((f) => f.name === "tool_names");
  assert.equal(toolNames?.mode, "REPEATED");
  assert.equal(messages?.schema.find((f) => f.name === "extra")?.type, "JSON");
  assert.equal(messages?.schema.find((f) => f.name === "uuid")?.mode, "REQUIRED");
  const usage = h.mock.table(DATASET, "usage");
  assert.deepEqual(usage?.timePartitioning, { type: "DAY", field: "event_date" });
  assert.deepEqual(usage?.clustering, { fields: ["model"] });
  for (const name of ["sessions", "rejects", "runs"]) {
    const table = h.mock.table(DATASET, name);
    assert.ok(table, name);
    assert.equal(table.timePartitioning, undefined);
  }
  // Preparing again changes nothing and creates nothing.
  const inserts = h.mock.calls.filter((c) => c.kind === "tables.insert").length;
  await sink.prepare();
  assert.equal(h.mock.calls.filter((c) => c.kind === "tables.insert").length, inserts);
  assert.equal(h.mock.calls.filter((c) => c.kind.startsWith("jobs.")).length, 0, "prepare runs no job");
});

Deno.test("BigQuerySink.load() loads a first run with one load job per table and a rerun adds no row", async () => {
  await using h = await harness();
  const staged = await stageAll(h, "r1");
  {
    await using sink = h.sink("r1");
    for (const s of staged) {
      const result = await sink.load(s);
      assert.equal(result.rowsBefore, 0, s.table);
      assert.equal(result.rowsStaged, s.rows, s.table);
      assert.equal(result.rowsAfter, s.rows, s.table);
      assert.ok(result.bytes > 0 && result.bytes === s.bytes, s.table);
    }
    assert.deepEqual(await sink.counts(), { messages: 20, usage: 10, sessions: 3, rejects: 2, runs: 1 });
  }
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 5, "one load job per table");
  for (const s of staged) {
    assert.equal(h.mock.table(DATASET, `_stg_${s.table}_r1`), undefined, `staging of ${s.table} dropped`);
  }
  const row = h.mock.rows(DATASET, "messages").find((r) => r.uuid === "uuid-5");
  assert.deepEqual(row?.tool_names, ["Bash", "Read"]);
  assert.deepEqual(h.mock.rows(DATASET, "messages").find((r) => r.uuid === "uuid-0")?.extra, { note: "n0" });

  // The session aggregates come from `messages`, not from the staged (wrong) values.
  const sessions = new Map(h.mock.rows(DATASET, "sessions").map((r) => [r.session_id, r]));
  const messages = Array.from({ length: 20 }, (_, i) => messageRow(i, "r1"));
  for (const n of [0, 1, 2]) {
    const mine = messages.filter((m) => m.session_id === `session-${n}`);
    const times = mine.map((m) => m.timestamp!).sort();
    const s = sessions.get(`session-${n}`)!;
    assert.equal(s.message_count, mine.length);
    assert.equal(s.human_prompt_count, mine.filter((m) => m.kind === "human_prompt").length);
    assert.equal(s.assistant_count, mine.filter((m) => m.type === "assistant").length);
    assert.equal(s.tool_use_count, mine.reduce((sum, m) => sum + m.tool_names.length, 0));
    assert.equal(s.first_timestamp, times[0]);
    assert.equal(s.last_timestamp, times.at(-1));
    assert.equal(s.event_date, times[0].slice(0, 10));
  }

  // A rerun over the same data changes no row count, whether it resumes the run id or not.
  for (const runId of ["r1", "r2"]) {
    await using sink = h.sink(runId);
    for (const s of staged) {
      const result = await sink.load(s);
      assert.equal(result.rowsAfter, result.rowsBefore, s.table);
    }
    assert.deepEqual(await sink.counts(), { messages: 20, usage: 10, sessions: 3, rejects: 2, runs: 1 });
  }
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 15);
  assert.equal(h.mock.counters().streamingInserts, 0);
  assert.equal(
    h.mock.calls.filter((c) => c.kind === "tabledata.insertAll").length,
    0,
    "never streaming inserts",
  );
  assert.equal(h.mock.counters().failedJobs, 0);
});

Deno.test("BigQuerySink.load() honours the merge rules on a key match", async () => {
  await using h = await harness();
  {
    await using sink = h.sink("r1");
    await sink.load(
      await h.stage("r1", "messages", [
        messageRow(0, "r1", {
          corrected_text: "fixed text",
          correction_status: "corrected",
          correction_model: "m1",
        }),
      ]),
    );
    await sink.load(
      await h.stage("r1", "usage", [usageRow(0, "r1", { total_tokens: 100, output_tokens: 85 })]),
    );
    await sink.load(await h.stage("r1", "sessions", [sessionRow(0, "r1", { title: "Kept title" })]));
  }
  await using sink = h.sink("r2");
  // A rerun without Stage 4 (NULL correction) keeps the correction group, but updates other columns.
  await sink.load(await h.stage("r2", "messages", [messageRow(0, "r2", { text: "new text" })]));
  const message = h.mock.rows(DATASET, "messages")[0];
  assert.equal(message.corrected_text, "fixed text");
  assert.equal(message.correction_status, "corrected");
  assert.equal(message.correction_model, "m1");
  assert.equal(message.text, "new text");
  assert.equal(message.run_id, "r2");
  // A smaller copy of the same API response does not replace the max-token one; a bigger one does.
  await sink.load(await h.stage("r2", "usage", [usageRow(0, "r2", { total_tokens: 50, output_tokens: 35 })]));
  assert.equal(h.mock.rows(DATASET, "usage")[0].total_tokens, 100);
  await sink.load(
    await h.stage("r2", "usage", [usageRow(0, "r2", { total_tokens: 120, output_tokens: 105 })]),
  );
  assert.equal(h.mock.rows(DATASET, "usage")[0].total_tokens, 120);
  // prefer_new_non_null keeps the old title over a NULL.
  await sink.load(
    await h.stage("r2", "sessions", [sessionRow(0, "r2", { title: null, summary: "A summary" })]),
  );
  const session = h.mock.rows(DATASET, "sessions")[0];
  assert.equal(session.title, "Kept title");
  assert.equal(session.summary, "A summary");
});

Deno.test("BigQuerySink.prepare() adds the missing nullable columns to an existing table", async () => {
  await using h = await harness();
  const client = createBigQueryClient(h.config, { authClient: fakeAuthClient() });
  await client.createDataset(DATASET, { location: "US" });
  const { bigQueryTableShapeOf } = await import("./bigquery_schema.ts");
  const { Tables } = await import("../schema/tables.ts");
  const shape = bigQueryTableShapeOf(Tables.messages);
  const older = shape.schema.fields.filter((f) =>
    !["correction_model", "extra", "cc_version"].includes(f.name)
  );
  await client.dataset(DATASET).createTable("messages", { ...shape, schema: { fields: older } });

  const plan = await planBigQueryLoad({ config: h.config, staged: [], client });
  const messagesPlan = plan.tables.find((t) => t.table === "messages")!;
  assert.equal(messagesPlan.action, "alter");
  assert.deepEqual(messagesPlan.add, ["cc_version", "correction_model", "extra"]);

  await using sink = h.sink("r1");
  await sink.prepare();
  const schema = h.mock.table(DATASET, "messages")!.schema;
  assert.equal(schema.length, shape.schema.fields.length);
  for (const name of ["correction_model", "extra", "cc_version"]) {
    assert.equal(schema.find((f) => f.name === name)?.mode, "NULLABLE", name);
  }
  assert.ok(h.logs.some((l) => l.includes("added cc_version, correction_model, extra")));
  const result = await sink.load(await h.stage("r1", "messages", [messageRow(0, "r1", { extra: { a: 1 } })]));
  assert.equal(result.rowsAfter, 1);
  assert.deepEqual(h.mock.rows(DATASET, "messages")[0].extra, { a: 1 });
});

Deno.test("BigQuerySink.load() refuses a type conflict before any data moves", async () => {
  await using h = await harness();
  const client = createBigQueryClient(h.config, { authClient: fakeAuthClient() });
  await client.createDataset(DATASET, { location: "US" });
  await client.dataset(DATASET).createTable("usage", {
    schema: {
      fields: [
        { name: "usage_key", type: "STRING", mode: "REQUIRED" },
        { name: "input_tokens", type: "STRING", mode: "NULLABLE" },
      ],
    },
  });
  await using sink = h.sink("r1");
  const staged = await h.stage("r1", "messages", [messageRow(0, "r1")]);
  await assert.rejects(
    () => sink.load(staged),
    (e: unknown) =>
      e instanceof SinkError && e.message.includes("test-project.ccpipe.usage.input_tokens") &&
      e.message.includes("STRING NULLABLE") && e.message.includes("INT64"),
  );
  assert.equal(h.mock.calls.filter((c) => c.kind.startsWith("jobs.")).length, 0, "no job ran");
  assert.equal(h.mock.table(DATASET, "messages"), undefined, "nothing was created either");
  assert.equal(h.mock.table(DATASET, "usage")?.schema.length, 2, "the conflicting table is untouched");
});

Deno.test("BigQuerySink.load() killed between the load and the MERGE leaves the target untouched, and the resumed run completes", async () => {
  await using h = await harness();
  const staged = await h.stage("r1", "messages", Array.from({ length: 12 }, (_, i) => messageRow(i, "r1")));
  const controller = new AbortController();
  {
    await using sink = h.sink("r1", {
      signal: controller.signal,
      onLog: (line) => {
        if (line.startsWith("bigquery: loaded ")) controller.abort(new Error("killed"));
      },
    });
    await assert.rejects(() => sink.load(staged), /killed/);
  }
  assert.equal(h.mock.rows(DATASET, "messages").length, 0, "target untouched");
  assert.equal(h.mock.rows(DATASET, "_stg_messages_r1").length, 12, "staging table left behind");
  const staging = h.mock.table(DATASET, "_stg_messages_r1")!;
  const expiresIn = Number(staging.expirationTime) - START;
  assert.ok(
    expiresIn >= 24 * 60 * 60 * 1000 && expiresIn < 24 * 60 * 60 * 1000 + 60_000,
    "it expires in 24 h",
  );
  assert.equal(h.mock.calls.filter((c) => c.statement?.startsWith("MERGE")).length, 0);

  // The resumed run (same run id) overwrites the staging table and completes.
  await using sink = h.sink("r1");
  const result = await sink.load(staged);
  assert.equal(result.rowsAfter, 12);
  assert.equal(h.mock.rows(DATASET, "messages").length, 12);
  assert.equal(h.mock.table(DATASET, "_stg_messages_r1"), undefined);
});

Deno.test("BigQuerySink.load() failing at the MERGE leaves the target untouched, and the resumed run completes", async () => {
  await using h = await harness();
  const staged = await h.stage("r1", "usage", Array.from({ length: 7 }, (_, i) => usageRow(i, "r1")));
  // Query job inserts: 1 and 2 = the MERGE and its retry (row counts read table metadata, no job).
  h.mock.configure({ faults: [{ fault: "http500", match: MERGE_JOBS, calls: [1, 2] }] });
  {
    await using sink = h.sink("r1", {
      config: { retries: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000, dmlMaxAttempts: 2 } },
    });
    await assert.rejects(
      () => sink.load(staged),
      (e: unknown) =>
        e instanceof SinkError && e.transient && /merge .* after 2 attempts: HTTP 500/.test(e.message),
    );
  }
  assert.equal(h.mock.rows(DATASET, "usage").length, 0);
  assert.equal(h.mock.rows(DATASET, "_stg_usage_r1").length, 7);
  h.mock.configure({ faults: [] });
  await using sink = h.sink("r1");
  assert.equal((await sink.load(staged)).rowsAfter, 7);
  assert.equal(h.mock.table(DATASET, "_stg_usage_r1"), undefined);
});

for (const fault of ["http500", "http503", "rateLimitExceeded"] as const) {
  Deno.test(`BigQuerySink.load() retries with backoff on ${fault} (upload, job insert, poll, table read)`, async () => {
    await using h = await harness({
      faults: [
        { fault, match: "POST /upload", calls: [1] },
        { fault, match: MERGE_JOBS, calls: [1] },
        { fault, match: "GET /bigquery/v2/projects/test-project/jobs/", calls: [1] },
        { fault, match: "GET /bigquery/v2/projects/test-project/datasets/ccpipe/tables/", calls: [1] },
      ],
    });
    await using sink = h.sink("r1");
    const result = await sink.load(
      await h.stage("r1", "messages", [0, 1, 2].map((i) => messageRow(i, "r1"))),
    );
    assert.equal(result.rowsAfter, 3);
    assert.equal(h.mock.rows(DATASET, "messages").length, 3);
    const faulted = h.mock.calls.filter((c) => c.status >= 403 && c.status !== 404);
    assert.equal(faulted.length, 4, "every injected fault fired");
    // One retry per fault, each after a backoff of at most 2 s (1 s base doubling, full jitter) on the injected clock.
    const backoffs = h.logs.map((l) => /; retry [12]\/4 in (\d+) ms$/.exec(l)?.[1]).filter(Boolean).map(
      Number,
    );
    assert.equal(backoffs.length, 4, h.logs.join("\n"));
    for (const ms of backoffs) {
      assert.ok(ms >= 0 && ms <= 2000, `backoff ${ms}`);
      assert.ok(h.clock.sleeps.includes(ms), "slept on the injected clock");
    }
    assert.equal(h.mock.counters().streamingInserts, 0);
  });
}

Deno.test("BigQuerySink.load() retries an upload whose connection was cut", async () => {
  await using h = await harness({ faults: [{ fault: "upload_cut", calls: [1, 2] }] });
  await using sink = h.sink("r1");
  const result = await sink.load(await h.stage("r1", "rejects", [0, 1, 2, 3].map((i) => rejectRow(i, "r1"))));
  assert.equal(result.rowsAfter, 4);
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load" && c.status === 0).length, 2);
  assert.equal(h.mock.counters().loadJobs, 1);
});

Deno.test("BigQuerySink.load() gives up after maxAttempts on a persistent 503", async () => {
  await using h = await harness();
  await using sink = h.sink("r1", {
    config: { retries: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, dmlMaxAttempts: 3 } },
  });
  await sink.prepare();
  h.mock.configure({ faults: [{ fault: "http503", match: "POST /upload" }] });
  await assert.rejects(
    () => h.stage("r1", "runs", [runRow("r1")]).then((s) => sink.load(s)),
    (e: unknown) => e instanceof SinkError && e.transient && e.message.includes("after 3 attempts: HTTP 503"),
  );
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 3);
  assert.equal(h.mock.rows(DATASET, "runs").length, 0);
});

Deno.test("BigQuerySink.load() fails on a load job with errors, quoting them, and merges nothing", async () => {
  await using h = await harness({ faults: [{ fault: "load_job_errors" }] });
  await using sink = h.sink("r1");
  const staged = await h.stage("r1", "messages", [messageRow(0, "r1")]);
  await assert.rejects(
    () => sink.load(staged),
    (e: unknown) =>
      e instanceof SinkError && !e.transient && e.message.includes("Cannot load messages") &&
      e.message.includes(staged.path) && e.message.includes("Field: uuid") &&
      e.message.includes("nothing was merged"),
  );
  assert.equal(h.mock.rows(DATASET, "messages").length, 0);
  assert.equal(h.mock.calls.filter((c) => c.statement?.startsWith("MERGE")).length, 0);
  assert.equal(h.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 1, "terminal: not retried");
});

Deno.test("BigQuerySink.load() quotes the row and field of bad data", async () => {
  await using h = await harness();
  await using sink = h.sink("r1");
  const rows: object[] = [messageRow(0, "r1"), { ...messageRow(1, "r1"), source_line: "not a number" }];
  const staged = await h.stage("r1", "messages", rows);
  const error = await sink.load(staged).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof SinkError);
  assert.match(error.message, /source_line/);
  assert.match(error.message, /row|line|position/i);
  assert.equal(h.mock.rows(DATASET, "messages").length, 0);
});

Deno.test("BigQuerySink sets maximumBytesBilled on every query", async () => {
  await using h = await harness();
  {
    await using sink = h.sink("r1");
    await sink.load(await h.stage("r1", "usage", Array.from({ length: 50 }, (_, i) => usageRow(i, "r1"))));
  }
  await using capped = h.sink("r2", { config: { maximumBytesBilled: 1 } });
  await assert.rejects(
    () => h.stage("r2", "usage", [usageRow(1, "r2")]).then((s) => capped.load(s)),
    (e: unknown) =>
      e instanceof SinkError && /bytesBilledLimitExceeded|maximum bytes billed|billing/i.test(e.message),
  );
  assert.equal(h.mock.rows(DATASET, "usage").length, 50);
});

Deno.test("BigQuerySink refuses a job past the daily budget, saying which and when it resets", async () => {
  await using h = await harness();
  const config = { loadJobsPerDay: 1 };
  {
    await using sink = h.sink("r1", { config });
    await sink.load(await h.stage("r1", "messages", [messageRow(0, "r1")]));
  }
  const loadsBefore = h.mock.counters().loadJobs;
  const callsBefore = h.mock.calls.length;
  await using sink = h.sink("r2", { config });
  await assert.rejects(
    () => h.stage("r2", "usage", [usageRow(1, "r2")]).then((s) => sink.load(s)),
    (e: unknown) =>
      e instanceof SinkError && e.message.includes("'loadJobsPerDay' (1)") &&
      e.message.includes("test-project.ccpipe._stg_usage_r2") &&
      e.message.includes("resets at 2026-08-11T00:00:00.000Z"),
  );
  assert.equal(h.mock.counters().loadJobs, loadsBefore, "no load job started");
  assert.equal(
    h.mock.calls.slice(callsBefore).filter((c) => c.kind.startsWith("jobs.")).length,
    0,
    "checked before any job",
  );
  const budget = JSON.parse(await Deno.readTextFile(join(h.stateDir, "bigquery_jobs.json")));
  assert.equal(budget.day, "2026-08-10");
  // Loads are counted on the staging table they write; the MERGE on the project (DML has no daily quota).
  assert.deepEqual(budget.load, { "test-project.ccpipe._stg_messages_r1": 1 });
  assert.deepEqual(budget.query, { "test-project.-": 1 });
});

Deno.test("BigQuerySink refuses a table whose queries exceed queryJobsPerDay before loading it", async () => {
  await using h = await harness();
  // sessions takes two query jobs (the MERGE and the aggregate refresh).
  await using sink = h.sink("r1", { config: { queryJobsPerDay: 1 } });
  await assert.rejects(
    () => h.stage("r1", "sessions", [sessionRow(0, "r1")]).then((s) => sink.load(s)),
    (e: unknown) => e instanceof SinkError && e.message.includes("'queryJobsPerDay' (1)"),
  );
  assert.equal(h.mock.counters().loadJobs, 0);
});

Deno.test("BigQuerySink.load() of an empty staged file starts no load job", async () => {
  await using h = await harness();
  await using sink = h.sink("r1");
  const result = await sink.load(await h.stage("r1", "rejects", []));
  assert.deepEqual(result, { table: "rejects", rowsStaged: 0, rowsBefore: 0, rowsAfter: 0, bytes: 0 });
  assert.equal(h.mock.counters().loadJobs, 0);
});

Deno.test("planBigQueryLoad() says what it would create and load, and runs no job", async () => {
  await using h = await harness();
  const staged = await stageAll(h, "r1");
  const client = createBigQueryClient(h.config, { authClient: fakeAuthClient() });
  const plan = await planBigQueryLoad({ config: h.config, staged, client });
  assert.equal(plan.inspected, true);
  assert.equal(plan.createDataset, true);
  assert.deepEqual(plan.tables.map((t) => [t.table, t.action, t.rows]), [
    ["messages", "create", 20],
    ["usage", "create", 10],
    ["sessions", "create", 3],
    ["rejects", "create", 2],
    ["runs", "create", 1],
  ]);
  assert.equal(plan.tables[0].bytes, staged[0].bytes);
  assert.equal(plan.tables[0].partitioning, "event_date");
  assert.deepEqual(plan.tables[0].clustering, ["session_id", "kind"]);
  assert.equal(plan.loadJobs, 5);
  assert.equal(plan.queryJobs, 6, "one MERGE per table, and the sessions refresh");
  assert.deepEqual([...new Set(h.mock.calls.map((c) => c.kind))], ["datasets.get"]);
  assert.equal(h.mock.table(DATASET, "messages"), undefined);
});

Deno.test("BigQuerySink runs every job in the dataset's location, not the configured default", async () => {
  await using h = await harness();
  // The dataset exists in EU; the configuration says nothing (location defaults to US).
  await createBigQueryClient(h.config, { authClient: fakeAuthClient() }).createDataset(DATASET, {
    location: "EU",
  });
  await using sink = h.sink("r1");
  for (const s of await stageAll(h, "r1", 4)) await sink.load(s);
  assert.equal(h.mock.rows(DATASET, "messages").length, 4);
  const inserts = h.mock.calls.filter((c) => c.kind.startsWith("jobs.insert"));
  assert.ok(inserts.length >= 10);
  assert.ok(inserts.every((c) => c.status === 200));
  assert.equal(h.mock.counters().failedJobs, 0, "no job ran in US");
});

Deno.test("BigQuerySink clears the dataset's default expirations on the tables it creates, and refuses an expiring table", async () => {
  await using h = await harness();
  const day = 24 * 60 * 60 * 1000;
  await createBigQueryClient(h.config, { authClient: fakeAuthClient() }).createDataset(DATASET, {
    location: "US",
    defaultTableExpirationMs: String(7 * day),
    defaultPartitionExpirationMs: String(30 * day),
  });
  {
    await using sink = h.sink("r1");
    for (const s of await stageAll(h, "r1", 4)) await sink.load(s);
  }
  assert.equal(h.mock.table(DATASET, "messages")?.expirationTime, undefined);
  assert.deepEqual(h.mock.table(DATASET, "messages")?.timePartitioning, { type: "DAY", field: "event_date" });
  assert.equal(h.mock.table(DATASET, "runs")?.expirationTime, undefined);
  // A year later every row is still there.
  await h.clock.sleep(365 * day);
  assert.equal(h.mock.rows(DATASET, "messages").length, 4);
  assert.equal(h.mock.rows(DATASET, "runs").length, 1);

  // A table someone gave an expiration is refused before anything loads.
  await createBigQueryClient(h.config, { authClient: fakeAuthClient() }).dataset(DATASET).table("usage")
    .setMetadata({ expirationTime: String(h.clock.now() + day) });
  await using sink = h.sink("r2");
  await assert.rejects(
    () => sink.prepare(),
    (e: unknown) =>
      e instanceof SinkError &&
      e.message.includes("test-project.ccpipe.usage would lose rows: the table expires at") &&
      e.message.includes("bq update --expiration 0"),
  );
});

Deno.test("BigQuerySink.load() merges a staged file with duplicate keys, keeping one row per key", async () => {
  await using h = await harness();
  await using sink = h.sink("r1");
  const twice = [messageRow(0, "r1"), messageRow(1, "r1"), messageRow(0, "r1"), messageRow(1, "r1")];
  const result = await sink.load(await h.stage("r1", "messages", twice));
  assert.equal(result.rowsAfter, 2);
  // Loading it again (the target now matches every key) still succeeds and adds nothing.
  assert.equal((await sink.load(await h.stage("r1", "messages", twice))).rowsAfter, 2);
  const bigger = { ...usageRow(0, "r1"), total_tokens: 999 };
  await sink.load(await h.stage("r1", "usage", [usageRow(0, "r1"), bigger, usageRow(0, "r1")]));
  assert.deepEqual(h.mock.rows(DATASET, "usage").map((r) => r.total_tokens), [999]);
});

Deno.test("BigQuerySink.load() rewrites no identical row and bills only the staged partitions", async () => {
  await using h = await harness();
  const MiB = 1024 * 1024;
  // 30 days of messages in the target.
  const history = Array.from({ length: 300 }, (_, i) => ({
    ...messageRow(i, "r0"),
    uuid: `old-${i}`,
    timestamp: new Date(Date.parse("2026-07-01T10:00:00Z") + Math.floor(i / 10) * 86_400_000).toISOString(),
    event_date: new Date(Date.parse("2026-07-01T10:00:00Z") + Math.floor(i / 10) * 86_400_000).toISOString()
      .slice(0, 10),
    text: "x".repeat(2000),
  }));
  {
    await using sink = h.sink("r0");
    await sink.load(await h.stage("r0", "messages", history));
  }
  // A rerun of one day's rows: nothing changes, and the MERGE reads only that partition.
  const oneDay = history.filter((m) => m.event_date === "2026-07-05");
  await using sink = h.sink("r1");
  await sink.load(await h.stage("r1", "messages", oneDay));
  const merge = h.mock.calls.filter((c) => c.kind === "jobs.insert.query" && c.statement?.startsWith("MERGE"))
    .at(-1)!;
  const stats = await createBigQueryClient(h.config, { authClient: fakeAuthClient() }).job(merge.jobId!)
    .getMetadata().then(([m]) => m.statistics.query);
  assert.deepEqual(stats.dmlStats, { insertedRowCount: "0", updatedRowCount: "0", deletedRowCount: "0" });
  // Target: 10 rows of one partition, staging: 10 rows; each well under the 10 MB floor per table.
  assert.equal(Number(stats.totalBytesBilled), 20 * MiB);
  assert.ok(Number(stats.totalBytesProcessed) < 2 * 10 * 2100 + 10 * 1024, stats.totalBytesProcessed);
});

Deno.test("BigQuerySink reuses a job's id when its insert answer was lost, so the MERGE runs once", async () => {
  // The MERGE's job insert reaches BigQuery, but the connection drops before the answer.
  await using h = await harness({ faults: [{ fault: "answer_lost", match: MERGE_JOBS, calls: [1] }] });
  await using sink = h.sink("r1");
  const result = await sink.load(await h.stage("r1", "messages", [messageRow(0, "r1"), messageRow(1, "r1")]));
  assert.equal(result.rowsAfter, 2);
  const merges = new Set(
    h.mock.calls.filter((c) => c.kind === "jobs.insert.query" && c.jobId?.startsWith("ccpipe_merge_"))
      .map((c) => c.jobId),
  );
  assert.equal(merges.size, 1, "one MERGE job");
  const [id] = merges;
  assert.ok(h.mock.calls.some((c) => c.kind === "jobs.get" && c.jobId === id), "looked up by its id");
});

Deno.test("BigQuerySink stops waiting for a job past jobTimeoutMs and cancels it", async () => {
  // DML queued behind other statements: the job never reaches DONE while the sink polls.
  await using h = await harness({ jobPollsUntilDone: 1_000_000 });
  await using sink = h.sink("r1", { config: { jobTimeoutMs: 60_000, jobPollIntervalMs: 5_000 } });
  await assert.rejects(
    () => h.stage("r1", "runs", [runRow("r1")]).then((s) => sink.load(s)),
    (e: unknown) =>
      e instanceof SinkError && /did not finish within jobTimeoutMs \(60000 ms\)/.test(e.message),
  );
  assert.ok(h.mock.calls.some((c) => c.kind === "jobs.cancel"));
});

Deno.test("BigQuerySink counts each run's load on its own staging table, as BigQuery's per-table quota does", async () => {
  await using h = await harness();
  const config = { loadJobsPerTablePerDay: 1 };
  for (const runId of ["r1", "r2", "r3"]) {
    await using sink = h.sink(runId, { config });
    await sink.load(await h.stage(runId, "messages", [messageRow(0, runId)]));
  }
  assert.equal(h.mock.counters().loadJobs, 3);
  const budget = JSON.parse(await Deno.readTextFile(join(h.stateDir, "bigquery_jobs.json")));
  assert.deepEqual(Object.keys(budget.load).sort(), [
    "test-project.ccpipe._stg_messages_r1",
    "test-project.ccpipe._stg_messages_r2",
    "test-project.ccpipe._stg_messages_r3",
  ]);
});

Deno.test("BigQuerySink.readMessages() reads back waiting prompts with one pruned, capped query", async () => {
  await using h = await harness();
  await using sink = h.sink("r2");
  // No table yet: nothing to read, no job.
  assert.deepEqual(await sink.readMessages([{ uuid: "uuid-2", event_date: "2026-08-10" }]), []);
  assert.equal(h.mock.counters().queryJobs, 0);
  // 40 days of prompts, 10 a day, each with 2 KB of text.
  const history = Array.from({ length: 400 }, (_, i) => {
    const timestamp = new Date(
      Date.parse("2026-07-01T10:00:00Z") + Math.floor(i / 10) * 86_400_000 + i * 1000,
    )
      .toISOString();
    return messageRow(i, "r1", {
      timestamp,
      event_date: timestamp.slice(0, 10),
      text: `${i} ${"x".repeat(2000)}`,
    });
  });
  {
    await using loader = h.sink("r1");
    await loader.load(
      await h.stage("r1", "messages", [
        ...history,
        messageRow(401, "r1", { timestamp: null, event_date: null }),
      ]),
    );
  }
  const queriesBefore = h.mock.counters().queryJobs;
  const rows = await sink.readMessages([
    { uuid: "uuid-42", event_date: "2026-07-05" },
    { uuid: "uuid-401", event_date: null },
    { uuid: "uuid-7", event_date: "2026-07-01" },
    { uuid: "uuid-gone", event_date: "2026-07-01" },
  ]);
  assert.equal(h.mock.counters().queryJobs, queriesBefore + 1, "one query for the batch");
  rows.sort((a, b) => a.source_line - b.source_line);
  assert.deepEqual(rows.map((r) => r.uuid), ["uuid-7", "uuid-42", "uuid-401"]);
  assert.deepEqual(rows[0], {
    ...messageRow(7, "r1", {
      timestamp: "2026-07-01T10:00:07.000Z",
      event_date: "2026-07-01",
      text: `7 ${"x".repeat(2000)}`,
    }),
    machine_id: null,
    user_label: null,
  });
  assert.deepEqual([rows[1]!.tool_names, rows[1]!.extra], [[], null]);
  assert.deepEqual([rows[2]!.timestamp, rows[2]!.event_date, rows[2]!.kind], [null, null, "tool_use"]);
  const read = h.mock.calls.filter((c) => c.kind === "jobs.insert.query").at(-1)!;
  assert.match(
    read.statement!,
    /^SELECT .* IN UNNEST\(@dates\) OR M.`event_date` IS NULL\) AND M.`uuid` IN UNNEST\(@uuids\)$/,
  );
  const stats = await createBigQueryClient(h.config, { authClient: fakeAuthClient() }).job(read.jobId!)
    .getMetadata().then(([m]) => m.statistics.query);
  // Two partitions of 10 rows (and the NULL one) read, not 40 days: the 10 MB floor is what is billed.
  assert.equal(Number(stats.totalBytesBilled), 10 * 1024 * 1024);
  assert.ok(Number(stats.totalBytesProcessed) < 25 * 2600, stats.totalBytesProcessed);
  const budget = JSON.parse(await Deno.readTextFile(join(h.stateDir, "bigquery_jobs.json")));
  assert.equal(budget.query["test-project.-"], queriesBefore + 1, "counted against the query budget");
  // Under a cap below the 10 MB floor the read is refused, and says so.
  await using capped = h.sink("r3", { config: { maximumBytesBilled: 1 } });
  await assert.rejects(
    () => capped.readMessages([{ uuid: "uuid-7", event_date: "2026-07-01" }]),
    (e: unknown) =>
      e instanceof SinkError && /bytesBilledLimitExceeded|maximum bytes billed|billing/i.test(e.message),
  );
});

Deno.test("BigQuerySink.holdsRun() answers from table metadata when it can, else with one small query", async () => {
  await using h = await harness();
  await using sink = h.sink("r2", { machineId: "m-test" });
  assert.equal(await sink.holdsRun!(null), false, "no dataset");
  await sink.prepare();
  assert.equal(await sink.holdsRun!("r1"), false, "an empty runs table");
  assert.equal(h.mock.counters().queryJobs, 0, "metadata alone answered");
  {
    await using loader = h.sink("r1", { machineId: "m-test" });
    await loader.load(await h.stage("r1", "runs", [runRow("r1")]));
  }
  const before = h.mock.counters().queryJobs;
  assert.equal(await sink.holdsRun!("r1"), true);
  assert.equal(await sink.holdsRun!("r0"), false, "another run");
  assert.equal(await sink.holdsRun!(null), true, "any run of this machine");
  await using other = h.sink("r2", { machineId: "m-other" });
  assert.equal(await other.holdsRun!("r1"), false, "the same run id from another machine");
  assert.equal(await other.holdsRun!(null), false, "no run of this machine");
  assert.equal(h.mock.counters().queryJobs, before + 5, "one query per question");
  const check = h.mock.calls.filter((c) => c.kind === "jobs.insert.query").at(-1)!;
  assert.equal(
    check.statement,
    "SELECT COUNT(*) AS n FROM `test-project.ccpipe.runs` WHERE `machine_id` = @machine_id",
  );
  // A sink without a machine id takes any row of the table.
  await using anonymous = h.sink("r2");
  assert.equal(await anonymous.holdsRun!(null), true);
  assert.equal(h.mock.counters().queryJobs, before + 5, "answered from metadata");
});
