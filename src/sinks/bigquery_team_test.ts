// A team on one dataset: eight machines, each with its own data dir and an overlapping share of twelve
// transcripts (every file is on two or three laptops, as a synced folder would be), run the whole
// pipeline at the same time into one BigQuery mock, whose DML concurrency limits (2 running and 20
// queued per table, serialisation conflicts on shared partitions) make some MERGEs fail and retry.
import { skippingClock } from "../testing/fake_clock.ts";
import assert from "node:assert/strict";
import { fakeAuthClient, startMocks } from "../../mocks/mod.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { runPipeline, type RunSummary } from "../pipeline/run_pipeline.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { parseBigQueryConfig } from "./bigquery_config.ts";
import { createBigQueryClient, createBigQuerySink } from "./bigquery.ts";

const DATASET = "team";

/** Transcript `f`: one session of two prompts and two answers on day `f % 3`; file 3 ends in a torn line. */
function transcript(f: number): string {
  const day = `2026-08-0${1 + f % 3}`;
  const at = (s: number) => `${day}T09:00:0${s}.000Z`;
  const fields = (s: number) => ({ sessionId: `s${f}`, timestamp: at(s), cwd: `/home/dev/p${f}` });
  const records = [
    userPrompt(`prompt ${f}a`, { uuid: `p${f}a`, ...fields(0) }),
    assistantLine(`msg_${f}a`, `req_${f}a`, { input: 10, output: f }, { uuid: `a${f}a`, ...fields(1) }),
    userPrompt(`prompt ${f}b`, { uuid: `p${f}b`, ...fields(2) }),
    assistantLine(`msg_${f}b`, `req_${f}b`, { input: 20, output: f }, { uuid: `a${f}b`, ...fields(3) }),
  ];
  return jsonl(records) + (f === 3 ? '{"type":"user","uuid":"torn' + "\n" : "");
}

// Which transcripts each machine holds (written by hand): together they cover files 0-11, each at least twice.
const HOLDINGS: number[][] = [
  [0, 1, 4, 8],
  [1, 2, 5, 9],
  [2, 3, 6, 10],
  [3, 4, 7, 11],
  [4, 5, 8, 0],
  [5, 6, 9, 1],
  [6, 7, 10, 2],
  [7, 8, 11, 3],
];

Deno.test("eight machines loading overlapping transcripts into one dataset at once lose and duplicate nothing", async () => {
  const clock = skippingClock(Date.parse("2026-08-10T12:00:00Z"));
  using mocks = startMocks({ bigquery: { now: () => clock.now(), jobPollsUntilDone: 2 } });
  const mock = mocks.bigquery;
  const trees = await Promise.all(
    HOLDINGS.map((files) =>
      writeTree(Object.fromEntries(files.map((f) => [`projects/-home-dev-p${f}/s${f}.jsonl`, transcript(f)])))
    ),
  );
  const retries = { count: 0 };
  const started = performance.now();
  try {
    const config = parseBigQueryConfig({
      project: "test-project",
      dataset: DATASET,
      jobPollIntervalMs: 500,
      retries: { baseDelayMs: 200, maxDelayMs: 5_000 },
    });
    const summaries: RunSummary[] = await Promise.all(trees.map((tree, m) =>
      runPipeline({
        sources: [tree.join("projects")],
        dataDir: tree.join("data"),
        fs: denoFileSystem(),
        clock,
        runId: "2026-08-10T12-00-00Z",
        machine: { machine_id: `m${m}`, user_label: m < 4 ? "alice" : "bob" },
        openSink: (runId) =>
          Promise.resolve(createBigQuerySink({
            config,
            runId,
            machineId: `m${m}`,
            stateDir: tree.join("data", "state"),
            client: createBigQueryClient(config, { authClient: fakeAuthClient() }),
            clock,
            retries,
          })),
      })
    ));
    const seconds = (performance.now() - started) / 1000;

    assert.deepEqual(summaries.map((s) => s.status), Array(8).fill("completed"));
    const rows = (table: string) => mock.rows(DATASET, table);
    // The union of the inputs, once each: 12 transcripts × 4 records, 2 answers each, 1 session each.
    assert.equal(rows("messages").length, 48);
    assert.equal(new Set(rows("messages").map((r) => r.uuid)).size, 48);
    assert.equal(rows("usage").length, 24);
    assert.equal(new Set(rows("usage").map((r) => r.usage_key)).size, 24);
    assert.deepEqual(rows("sessions").map((r) => [r.session_id, r.message_count]).sort(), [
      ["s0", 4],
      ["s1", 4],
      ["s10", 4],
      ["s11", 4],
      ["s2", 4],
      ["s3", 4],
      ["s4", 4],
      ["s5", 4],
      ["s6", 4],
      ["s7", 4],
      ["s8", 4],
      ["s9", 4],
    ]);
    // The torn line of transcript 3 is a reject on each of the three machines holding it.
    assert.deepEqual(rows("rejects").map((r) => r.machine_id).sort(), ["m2", "m3", "m7"]);
    // One run per machine, although all eight used the same run id.
    assert.deepEqual(rows("runs").map((r) => [r.machine_id, r.status]).sort(), [
      ["m0", "completed"],
      ["m1", "completed"],
      ["m2", "completed"],
      ["m3", "completed"],
      ["m4", "completed"],
      ["m5", "completed"],
      ["m6", "completed"],
      ["m7", "completed"],
    ]);
    // A record on several machines keeps the first machine that loaded it, one of those holding it.
    for (const message of rows("messages")) {
      const f = Number(/^[pa](\d+)[ab]$/.exec(String(message.uuid))![1]);
      const holders = HOLDINGS.flatMap((files, m) => files.includes(f) ? [`m${m}`] : []);
      assert.ok(holders.includes(String(message.machine_id)), `${message.uuid} from ${message.machine_id}`);
      assert.equal(message.user_label, Number(String(message.machine_id).slice(1)) < 4 ? "alice" : "bob");
    }
    const counters = mock.counters();
    assert.ok(counters.dmlConflicts > 0, "the machines' MERGEs did collide");
    assert.ok(retries.count >= counters.dmlConflicts, "every conflict was retried");
    if (Deno.env.get("CCPIPE_TEAM_SIM_REPORT")) {
      console.log(JSON.stringify({
        machines: 8,
        rows: Object.fromEntries(
          ["messages", "usage", "sessions", "rejects", "runs"].map((t) => [t, rows(t).length]),
        ),
        dmlConflicts: counters.dmlConflicts,
        dmlQueueFull: counters.dmlQueueFull,
        dmlMaxOutstanding: counters.dmlMaxOutstanding,
        retries: retries.count,
        queryJobs: counters.queryJobs,
        loadJobs: counters.loadJobs,
        wallSeconds: Math.round(seconds * 10) / 10,
      }));
    }
  } finally {
    for (const tree of trees) await tree[Symbol.asyncDispose]();
  }
});
