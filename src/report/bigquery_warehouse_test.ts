// The same reports against BigQuery: the fixture loaded into the BigQuery mock by `ccpipe run --sink
// bigquery`, then `ccpipe report --sink bigquery` must print what the DuckDB report prints.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { startMocks } from "../../mocks/mod.ts";
import { recordingOutput } from "../cli/logger.ts";
import { main } from "../cli/main.ts";
import { writeTree } from "../testing/write_tree.ts";

const fixture = new URL("../../fixtures/claude_code_100/projects", import.meta.url).pathname;

Deno.test("ccpipe report --sink bigquery gives the DuckDB report's rows and cost", async () => {
  using mocks = startMocks({ bigquery: { projectId: "ccpipe-test", jobPollsUntilDone: 1 } });
  await using tree = await writeTree({
    "adc.json": JSON.stringify({
      type: "authorized_user",
      client_id: "test-client.apps.googleusercontent.com",
      client_secret: "test-secret",
      refresh_token: "test-refresh-token",
    }),
    "ccpipe.json": JSON.stringify({ bigquery: { jobPollIntervalMs: 5 } }),
  });
  const env = (name: string) =>
    ({ CCPIPE_BIGQUERY_PROJECT: "ccpipe-test", CCPIPE_BIGQUERY_DATASET: "claude" })[name];
  const cli = async (args: string[]) => {
    const output = recordingOutput();
    const code = await main(args, { output, env });
    assertEquals(code, 0, output.stderr.join("\n"));
    return output.stdout;
  };
  const saved = Deno.env.get("GOOGLE_APPLICATION_CREDENTIALS");
  Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", tree.join("adc.json"));
  try {
    const common = ["--data-dir", tree.join("data"), "--config", tree.join("ccpipe.json")];
    await cli(["run", "--source", fixture, ...common, "--sink", "bigquery", "--json", "--no-llm"]);
    const duck = ["--data-dir", tree.join("duck")];
    await cli(["run", "--source", fixture, ...duck, "--json", "--no-llm"]);
    for (const kind of ["daily", "model", "session"]) {
      const fromBigQuery = JSON.parse(
        (await cli(["report", kind, "--json", "--breakdown", ...common, "--sink", "bigquery"]))[0],
      );
      const fromDuckDb = JSON.parse((await cli(["report", kind, "--json", "--breakdown", ...duck]))[0]);
      assertEquals(fromBigQuery, fromDuckDb, kind);
    }
    const since = JSON.parse(
      (await cli(["report", "daily", "--json", "--since", "2026-05-09", ...common, "--sink", "bigquery"]))[0],
    );
    assertEquals(since.rows.map((r: { date: string }) => r.date), ["2026-05-09", "2026-05-10"]);
    assertEquals(since.totals.cost_usd, 0.0720855); // 0.045255 + 0.0268305, the DuckDB daily rows
    // The HTML page from BigQuery: same sessions and totals as from DuckDB.
    const html = JSON.parse(
      (await cli([
        "report",
        "html",
        "--json",
        "--out",
        tree.join("bq.html"),
        ...common,
        "--sink",
        "bigquery",
      ]))[0],
    );
    assertEquals(html.sessions, 7);
    const page = await Deno.readTextFile(tree.join("bq.html"));
    assertEquals(page.includes('"cost_usd":0.4480877'), true);
    assertEquals(page.includes('"lines":{"read":130'), true);
    const queries = mocks.bigquery.calls.filter((c) =>
      c.kind === "jobs.query" || c.kind === "jobs.insert.query"
    );
    assertEquals(queries.length > 0, true);
  } finally {
    if (saved === undefined) Deno.env.delete("GOOGLE_APPLICATION_CREDENTIALS");
    else Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", saved);
  }
});
