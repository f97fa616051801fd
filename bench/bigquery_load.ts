/**
 * Measures the BigQuery sink on a generated corpus: rows and bytes loaded per table, load/query jobs,
 * wall time and the peak RSS of the process running the sink, through the real SDK against the
 * BigQuery mock.
 *
 * The staged NDJSON files are generated from a seed into a temp dir (streamed to disk, never built
 * in memory) and deleted afterwards. By default the mock runs in a child process behind a local HTTP
 * server (`_mock_server.ts`), because it keeps every table in memory and reads each upload whole: that
 * way the RSS measured here is the sink's and the SDK's alone. `--in-process` runs the mock through
 * MSW in this process instead (then the peak RSS includes the mock's warehouse).
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-sys --allow-run=deno --allow-net=127.0.0.1 bench/bigquery_load.ts [--messages 100000] [--seed 1] [--in-process] [--json]`
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setupServer } from "msw/node";
import { createBigQueryMock, fakeAuthClient } from "../mocks/bigquery.ts";
import type { Clock } from "../src/ports.ts";
import type { MessageRow, SessionRow, TableName, UsageRow } from "../src/schema/tables.ts";
import type { LoadResult, StagedTable } from "../src/sinks/sink.ts";
import { parseBigQueryConfig } from "../src/sinks/bigquery_config.ts";
import { createBigQueryClient, createBigQuerySink } from "../src/sinks/bigquery.ts";
import { mulberry32 } from "../mocks/_random.ts";
import { serveMocks } from "./_mock_server.ts";
import { emptySessionRow } from "../src/stages/identify.ts";
import { messageRow, usageRow } from "../src/testing/rows.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    "in-process": { type: "boolean", default: false },
  },
});

const MESSAGES = Number(values.messages);
const SEED = Number(values.seed);
if (!Number.isInteger(MESSAGES) || MESSAGES < 1) {
  throw new RangeError(
    `Cannot run the bench as '--messages' must be a positive integer: current value is ${values.messages}`,
  );
}

const random = mulberry32(SEED);
const words = [
  "fix",
  "the",
  "test",
  "deploy",
  "refactor",
  "parser",
  "why",
  "does",
  "this",
  "fail",
  "add",
  "docs",
];
const text = (n: number) =>
  Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(" ");
const START = Date.parse("2026-05-01T00:00:00Z");
const SESSION_SIZE = 200;
const RUN_ID = "bench";

/** Streams rows as NDJSON to a file, in buffered chunks. */
async function writeNdjson(path: string, table: TableName, rows: Iterable<object>): Promise<StagedTable> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let count = 0;
  let bytes = 0;
  let buffer = "";
  for (const row of rows) {
    buffer += JSON.stringify(row) + "\n";
    count++;
    if (buffer.length > 1 << 20) {
      const chunk = encoder.encode(buffer);
      bytes += chunk.byteLength;
      await file.write(chunk);
      buffer = "";
    }
  }
  const chunk = encoder.encode(buffer);
  bytes += chunk.byteLength;
  await file.write(chunk);
  file.close();
  return { table, path, rows: count, bytes };
}

function* messages(): Generator<MessageRow> {
  for (let i = 0; i < MESSAGES; i++) {
    const timestamp = new Date(START + i * 7_000).toISOString();
    const assistant = i % 2 === 1;
    const prompt = !assistant && random() < 0.3;
    const session = Math.floor(i / SESSION_SIZE);
    // Fields are listed in the order they draw from `random`, so the same seed gives the same rows.
    yield messageRow(i, RUN_ID, {
      uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      message_key: `k${i}`,
      parent_uuid: i % SESSION_SIZE === 0
        ? null
        : `00000000-0000-4000-8000-${(i - 1).toString(16).padStart(12, "0")}`,
      session_id: `session-${session}`,
      project_id: `proj-${session % 7}`,
      project: `/home/dana/code/p${session % 7}`,
      turn: i % SESSION_SIZE,
      timestamp,
      event_date: timestamp.slice(0, 10),
      kind: assistant
        ? (random() < 0.5 ? "tool_use" : "assistant_text")
        : prompt
        ? "human_prompt"
        : "tool_result",
      text: text(5 + Math.floor(random() * 60)),
      tool_names: assistant && random() < 0.5 ? ["Bash"] : [],
      source_file: `/home/dana/.claude/projects/p/session-${session}.jsonl`,
      source_line: (i % SESSION_SIZE) + 1,
      source_offset: (i % SESSION_SIZE) * 900,
      corrected_text: prompt ? text(8) : null,
      correction_status: prompt ? "corrected" : null,
      correction_model: prompt ? "gemini-2.5-flash-lite" : null,
      extra: null,
    });
  }
}

function* usage(): Generator<UsageRow> {
  for (let i = 1; i < MESSAGES; i += 2) {
    const timestamp = new Date(START + i * 7_000).toISOString();
    const input = Math.floor(random() * 5000);
    const output = Math.floor(random() * 2000);
    const session = Math.floor(i / SESSION_SIZE);
    yield usageRow(i, RUN_ID, {
      session_id: `session-${session}`,
      project_id: `proj-${session % 7}`,
      timestamp,
      event_date: timestamp.slice(0, 10),
      input_tokens: input,
      output_tokens: output,
      cache_read_input_tokens: 0,
      total_tokens: input + output,
      source_uuid: `u${i}`,
    });
  }
}

function* sessions(): Generator<SessionRow> {
  for (let s = 0; s * SESSION_SIZE < MESSAGES; s++) {
    yield {
      ...emptySessionRow(`session-${s}`, RUN_ID),
      project_id: `proj-${s % 7}`,
      project: `/home/dana/code/p${s % 7}`,
      title: text(4),
      git_branch: "main",
      cc_version: "2.1.0",
    };
  }
}

let peakRss = Deno.memoryUsage().rss;
let peakExternal = 0;
const sample = () => {
  const memory = Deno.memoryUsage();
  peakRss = Math.max(peakRss, memory.rss);
  peakExternal = Math.max(peakExternal, memory.external);
};
const sampler = setInterval(sample, 10);

const dir = await Deno.makeTempDir({ prefix: "ccpipe_bq_bench_" });
const rssBefore = Deno.memoryUsage().rss;
const staged = [
  await writeNdjson(join(dir, "messages.ndjson"), "messages", messages()),
  await writeNdjson(join(dir, "usage.ndjson"), "usage", usage()),
  await writeNdjson(join(dir, "sessions.ndjson"), "sessions", sessions()),
];
// With `--v8-flags=--expose-gc`, collect the generator's garbage so the load phase starts clean.
(globalThis as { gc?: () => void }).gc?.();
sample();
const rssAfterGeneration = Deno.memoryUsage().rss;
peakRss = rssAfterGeneration;
peakExternal = 0;

// A clock whose sleeps return at once: polling and backoff cost no wall time here.
let now = Date.now();
const clock: Clock = {
  now: () => now,
  sleep: (ms) => {
    now += ms;
    return Promise.resolve();
  },
};
let mockRss: number | undefined;
let counters: { loadJobs: number; queryJobs: number; streamingInserts: number; bytesBilled: number };
let endpoint: string | undefined;
let stopMock: () => Promise<void>;
if (values["in-process"]) {
  const mock = createBigQueryMock({ now: () => now, jobPollsUntilDone: 1 });
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: "error" });
  counters = mock.counters();
  stopMock = () => {
    counters = mock.counters();
    server.close();
    return Promise.resolve();
  };
} else {
  const served = await serveMocks();
  endpoint = served.url;
  counters = { loadJobs: 0, queryJobs: 0, streamingInserts: 0, bytesBilled: 0 };
  stopMock = async () => {
    try {
      const stats = await served.stats();
      counters = stats.bigquery;
      mockRss = stats.peakRss;
    } finally {
      await served[Symbol.asyncDispose]();
    }
  };
}
const config = parseBigQueryConfig({ project: "test-project", dataset: "ccpipe_bench", endpoint });
const results: LoadResult[] = [];
const started = performance.now();
try {
  await using sink = createBigQuerySink({
    config,
    runId: RUN_ID,
    stateDir: join(dir, "state"),
    client: createBigQueryClient(config, { authClient: fakeAuthClient() }),
    clock,
  });
  for (const s of staged) results.push(await sink.load(s));
} finally {
  clearInterval(sampler);
  sample();
  await stopMock();
  await Deno.remove(dir, { recursive: true });
}
const seconds = (performance.now() - started) / 1000;
const mib = (n: number) => Math.round(n / 1024 / 1024 * 10) / 10;
const report = {
  messages: MESSAGES,
  seed: SEED,
  tables: results.map((r) => ({
    table: r.table,
    rows: r.rowsStaged,
    bytes: r.bytes,
    rowsAfter: r.rowsAfter,
  })),
  rowsLoaded: results.reduce((sum, r) => sum + r.rowsStaged, 0),
  bytesLoaded: results.reduce((sum, r) => sum + r.bytes, 0),
  loadJobs: counters.loadJobs,
  queryJobs: counters.queryJobs,
  streamingInserts: counters.streamingInserts,
  // On-demand bytes billed by the mock's model (referenced columns, scanned partitions, 10 MB per table).
  bytesBilled: counters.bytesBilled,
  seconds: Math.round(seconds * 100) / 100,
  mock: values["in-process"] ? "in process (MSW)" : "child process (HTTP)",
  rssMiB: {
    beforeGeneration: mib(rssBefore),
    afterGeneration: mib(rssAfterGeneration),
    peak: mib(peakRss),
    peakExternal: mib(peakExternal),
    ...(mockRss ? { mockPeak: mib(mockRss) } : {}),
  },
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  console.log(`BigQuery sink load, ${MESSAGES} messages (seed ${SEED}), mock ${report.mock}`);
  for (const t of report.tables) {
    console.log(
      `  ${t.table.padEnd(9)} ${String(t.rows).padStart(8)} rows ${String(t.bytes).padStart(11)} bytes`,
    );
  }
  console.log(
    `  total     ${String(report.rowsLoaded).padStart(8)} rows ${
      String(report.bytesLoaded).padStart(11)
    } bytes`,
  );
  console.log(
    `  jobs: ${report.loadJobs} load, ${report.queryJobs} query, ${report.streamingInserts} streaming inserts; ${report.seconds} s`,
  );
  console.log(
    `  bytes billed (on demand, the mock's model): ${report.bytesBilled} (${mib(report.bytesBilled)} MiB)`,
  );
  console.log(
    `  RSS of the sink's process: ${report.rssMiB.beforeGeneration} MiB at start, ${report.rssMiB.afterGeneration} MiB after generation, peak during the load ${report.rssMiB.peak} MiB ` +
      `(external buffers peak ${report.rssMiB.peakExternal} MiB)` +
      (mockRss ? ` (mock process peak ${report.rssMiB.mockPeak} MiB)` : ""),
  );
}
// An MSW server can keep the process alive after close(): end explicitly.
Deno.exit(0);
