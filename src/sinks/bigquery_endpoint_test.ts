// The BigQuery sink against the mock served by another process over HTTP (bench/_mock_server.ts), the way
// `--bigquery-endpoint` reaches an emulator: no MSW in this process, no credentials, real sockets.
import assert from "node:assert/strict";
import { join } from "node:path";
import { serveMocks } from "../../bench/_mock_server.ts";
import { parseBigQueryConfig } from "./bigquery_config.ts";
import { createBigQuerySink } from "./bigquery.ts";
import type { StagedTable } from "./sink.ts";
import type { TableName } from "../schema/tables.ts";
import { messageRow } from "../testing/rows.ts";

async function stage(dir: string, table: TableName, rows: object[]): Promise<StagedTable> {
  const path = join(dir, `${table}.ndjson`);
  const text = rows.map((row) => JSON.stringify(row) + "\n").join("");
  await Deno.writeTextFile(path, text);
  return { table, path, rows: rows.length, bytes: new TextEncoder().encode(text).byteLength };
}

Deno.test("BigQuerySink loads through an endpoint override into a server in another process, without credentials", async () => {
  await using served = await serveMocks();
  const dir = await Deno.makeTempDir({ prefix: "ccpipe_bq_endpoint_" });
  try {
    // Built from the configuration alone, like the CLI does: no client, no auth client.
    const config = parseBigQueryConfig({
      project: "test-project",
      dataset: "ccpipe",
      endpoint: served.url,
      jobPollIntervalMs: 10,
    });
    await using sink = createBigQuerySink({ config, runId: "r1", stateDir: join(dir, "state") });
    const result = await sink.load(await stage(dir, "messages", [0, 1, 2].map((i) => messageRow(i, "r1"))));
    assert.equal(result.rowsAfter, 3);
    assert.equal((await served.stats()).bigquery.loadJobs, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "BigQuerySink times out a MERGE insert that gets no answer and finds the job by its id",
  // The unanswered request stays open in the SDK until the server process ends.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using served = await serveMocks();
    const dir = await Deno.makeTempDir({ prefix: "ccpipe_bq_endpoint_" });
    try {
      // The MERGE's job insert (the only query job) takes effect but is never answered.
      await served.configureBigQuery({
        faults: [{ fault: "no_answer", match: "POST /bigquery/v2/projects/test-project/jobs", calls: [1] }],
      });
      const config = parseBigQueryConfig({
        project: "test-project",
        dataset: "ccpipe",
        endpoint: served.url,
        jobPollIntervalMs: 10,
        requestTimeoutMs: 1000,
        retries: { baseDelayMs: 10, maxDelayMs: 20 },
      });
      const logs: string[] = [];
      await using sink = createBigQuerySink({
        config,
        runId: "r1",
        stateDir: join(dir, "state"),
        log: (line) => logs.push(line),
      });
      const result = await sink.load(await stage(dir, "messages", [0, 1].map((i) => messageRow(i, "r1"))));
      assert.equal(result.rowsAfter, 2);
      assert.ok(logs.some((l) => /no answer within 1000 ms/.test(l)), logs.join("\n"));
      // One MERGE: the retry found the job instead of inserting it again.
      assert.equal((await served.stats()).bigquery.queryJobs, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
