// The pending queue and the warehouse check against BigQuery (its mock): prompts queued without a key
// are read back from the dataset by a later run with one, and a deleted dataset is rebuilt.
import { skippingClock } from "../testing/fake_clock.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startMocks } from "../../mocks/mod.ts";
import { fakeAuthClient } from "../../mocks/bigquery.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { parseCorrectionConfig } from "../llm/config.ts";
import { createGeminiClient } from "../llm/gemini_client.ts";
import { parseBigQueryConfig } from "../sinks/bigquery_config.ts";
import { createBigQueryClient, createBigQuerySink } from "../sinks/bigquery.ts";
import { loadState } from "../state/state_store.ts";
import { jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { runPipeline } from "./run_pipeline.ts";
import { createStage4 } from "./stage4.ts";

const TEXTS = ["fix teh loader", "yes", "recieve the invoice", "wich test fails?"];
const DATASET = "ccpipe";

Deno.test("runPipeline() on BigQuery queues prompts by reference, reads them back later, and rebuilds a deleted dataset", async () => {
  const time = skippingClock(Date.parse("2026-08-10T12:00:00Z"));
  using mocks = startMocks({ gemini: {}, bigquery: { now: () => time.now(), jobPollsUntilDone: 1 } });
  await using t = await writeTree({
    "projects/-home-a/s1.jsonl": jsonl(
      TEXTS.map((text, i) =>
        userPrompt(text, { uuid: `p${i}`, timestamp: `2026-05-0${1 + (i % 2)}T09:00:0${i}.000Z` })
      ),
    ),
  });
  const dataDir = t.join("data");
  const config = parseBigQueryConfig({ project: "test-project", dataset: DATASET });
  const run = (key: boolean) => {
    const llm = parseCorrectionConfig({ batchSize: 10, workers: 1, maxRetries: 0, prefilter: "none" });
    return runPipeline({
      sources: [t.join("projects")],
      dataDir,
      fs: denoFileSystem(),
      clock: time,
      machine: { machine_id: "m1", user_label: null },
      stage4: createStage4({
        client: key ? createGeminiClient({ apiKey: "test-key", model: llm.model, timeoutMs: 5_000 }) : null,
        cacheDir: `${dataDir}/cache/gemini`,
        config: llm,
        clock: time,
      }),
      openSink: (runId) =>
        Promise.resolve(createBigQuerySink({
          config,
          runId,
          machineId: "m1",
          stateDir: `${dataDir}/state`,
          client: createBigQueryClient(config, { authClient: fakeAuthClient() }),
          clock: time,
        })),
    });
  };
  const selects = () =>
    mocks.bigquery.calls.filter((c) => c.kind === "jobs.insert.query" && c.statement?.startsWith("SELECT"))
      .map((c) => c.statement!);

  // No key: the prompts wait, queued as uuid and partition day.
  const first = await run(false);
  assertEquals(first.status, "completed");
  const state = await loadState(`${dataDir}/state`);
  assertEquals(
    await Deno.readTextFile(state.pending!),
    [
      '{"uuid":"p0","event_date":"2026-05-01"}',
      '{"uuid":"p1","event_date":"2026-05-02"}',
      '{"uuid":"p2","event_date":"2026-05-01"}',
      '{"uuid":"p3","event_date":"2026-05-02"}',
      "",
    ].join("\n"),
  );

  // With a key: one SELECT reads them back (after the run check), Gemini corrects them, the queue empties.
  const before = selects().length;
  const second = await run(true);
  assertEquals(second.reconciliation.prompts.carriedOver, 4);
  const read = selects().slice(before);
  assertEquals(read.length, 2);
  assert(read[0]!.includes("FROM `test-project.ccpipe.runs`"), read[0]);
  assert(read[1]!.includes("IN UNNEST(@uuids)"), read[1]);
  assertEquals((await loadState(`${dataDir}/state`)).pending, null);
  const statuses = mocks.bigquery.rows(DATASET, "messages").map((r) => [r.uuid, r.correction_status]).sort();
  assertEquals(statuses, [["p0", "corrected"], ["p1", "unchanged"], ["p2", "corrected"], [
    "p3",
    "corrected",
  ]]);

  // The dataset is deleted: the next run says so and rebuilds it from the transcripts.
  mocks.bigquery.reset();
  const third = await run(true);
  assertEquals(third.status, "completed");
  assert(third.notices.some((n) => n.includes("does not hold the rows")), third.notices.join("; "));
  assertEquals(mocks.bigquery.rows(DATASET, "messages").length, 4);
  assertEquals(mocks.bigquery.rows(DATASET, "runs").length, 1);
});
