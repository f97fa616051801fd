// `ccpipe run --sink bigquery` end to end against the BigQuery mock, through the SDK's real
// application-default credentials chain (an authorized-user credentials file, refreshed at the mock's
// token endpoint), as a user would run it.
import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { FAKE_ADC_FILE, startMocks } from "../mocks/mod.ts";
import { recordingOutput } from "../src/cli/logger.ts";
import { main } from "../src/cli/main.ts";
import { writeTree } from "../src/testing/write_tree.ts";

const fixture = new URL("../fixtures/claude_code_100/projects", import.meta.url).pathname;

Deno.test("ccpipe run --sink bigquery loads the fixture once, idempotently, with load jobs only", async () => {
  using mocks = startMocks({ bigquery: { projectId: "ccpipe-test", jobPollsUntilDone: 1 } });
  await using tree = await writeTree({
    "adc.json": FAKE_ADC_FILE,
    // Project and dataset from the environment below; the poll interval from the config file.
    "ccpipe.json": JSON.stringify({ bigquery: { jobPollIntervalMs: 5 } }),
  });
  const saved = Deno.env.get("GOOGLE_APPLICATION_CREDENTIALS");
  Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", tree.join("adc.json"));
  try {
    const run = async () => {
      const output = recordingOutput();
      const code = await main(
        [
          "run",
          "--source",
          fixture,
          "--data-dir",
          tree.join("data"),
          "--sink",
          "bigquery",
          "--config",
          tree.join("ccpipe.json"),
          "--json",
          "--no-llm",
        ],
        {
          output,
          env: (name) =>
            ({ CCPIPE_BIGQUERY_PROJECT: "ccpipe-test", CCPIPE_BIGQUERY_DATASET: "claude" })[name],
        },
      );
      assertEquals(code, 0, output.stderr.join("\n"));
      return JSON.parse(output.stdout[0]);
    };
    const first = await run();
    const rows = (t: string) => mocks.bigquery.rows("claude", t).length;
    assertEquals(first.reconciliation.records.unique, rows("messages"));
    assertEquals([rows("usage"), rows("sessions"), rows("rejects"), rows("runs")], [33, 7, 2, 1]);
    const messages = mocks.bigquery.table("claude", "messages");
    assertEquals(messages?.timePartitioning?.field, "event_date");
    assertEquals(messages?.clustering?.fields, ["session_id", "kind"]);

    // A rerun over the same files (state removed, so every line is read again) adds no row.
    await Deno.remove(tree.join("data"), { recursive: true });
    await run();
    assertEquals([rows("messages"), rows("usage"), rows("sessions"), rows("rejects")], [104, 33, 7, 2]);
    assertEquals(mocks.bigquery.counters().streamingInserts, 0);
    assertMatch(
      mocks.bigquery.calls.filter((c) => c.kind === "jobs.insert.load").map((c) => c.path).join("\n"),
      /upload\/bigquery\/v2\/projects\/ccpipe-test\/jobs/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("GOOGLE_APPLICATION_CREDENTIALS");
    else Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", saved);
  }
});

Deno.test("ccpipe run --sink bigquery without a dataset explains what is missing", async () => {
  await using tree = await writeTree({});
  const output = recordingOutput();
  const code = await main(["run", "--source", fixture, "--data-dir", tree.join("d"), "--sink", "bigquery"], {
    output,
    env: () => undefined,
  });
  assertEquals(code, 2);
  assertMatch(output.stderr[0], /needs a project: pass --project/);
});

Deno.test("ccpipe doctor checks BigQuery access through the credentials chain", async () => {
  using _mocks = startMocks({ bigquery: { projectId: "ccpipe-test" } });
  await using tree = await writeTree({
    "adc.json": FAKE_ADC_FILE,
  });
  const saved = Deno.env.get("GOOGLE_APPLICATION_CREDENTIALS");
  Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", tree.join("adc.json"));
  try {
    const output = recordingOutput();
    const code = await main(
      ["doctor", "--data-dir", tree.join("d"), "--project", "ccpipe-test", "--dataset", "claude", "--json"],
      { output, env: () => undefined },
    );
    const report = JSON.parse(output.stdout[0]);
    const bigquery = report.checks.filter((c: { name: string }) => c.name.startsWith("bigquery"));
    assertEquals(bigquery.length > 0, true);
    assertEquals(bigquery.every((c: { ok: boolean }) => c.ok), true, JSON.stringify(bigquery));
    // No Gemini key was given and nothing asks for Stage 4: a note, not a failure.
    assertEquals(report.checks.find((c: { name: string }) => c.name === "gemini credentials").status, "note");
    assertEquals(code, 0);
  } finally {
    if (saved === undefined) Deno.env.delete("GOOGLE_APPLICATION_CREDENTIALS");
    else Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", saved);
  }
});
