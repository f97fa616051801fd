// The same reports against BigQuery: the fixture loaded into the BigQuery mock by `ccpipe run --sink
// bigquery`, then `ccpipe report --sink bigquery` must print what the DuckDB report prints.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { FAKE_ADC_FILE, fakeAuthClient } from "../../mocks/bigquery.ts";
import { startMocks } from "../../mocks/mod.ts";
import { recordingOutput } from "../cli/logger.ts";
import { main } from "../cli/main.ts";
import { Tables } from "../schema/tables.ts";
import { createBigQueryClient } from "../sinks/bigquery.ts";
import { parseBigQueryConfig } from "../sinks/bigquery_config.ts";
import { bigQueryTableShapeOf } from "../sinks/bigquery_schema.ts";
import { usageRow } from "../testing/rows.ts";
import { type Tree, writeTree } from "../testing/write_tree.ts";

const fixture = new URL("../../fixtures/claude_code_100/projects", import.meta.url).pathname;

/** Runs `body` with a temp tree holding application-default credentials and a config, and a CLI runner. */
async function withBigQueryCli(
  body: (tree: Tree, cli: (args: string[]) => Promise<string[]>) => Promise<void>,
) {
  await using tree = await writeTree({
    "adc.json": FAKE_ADC_FILE,
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
    await body(tree, cli);
  } finally {
    if (saved === undefined) Deno.env.delete("GOOGLE_APPLICATION_CREDENTIALS");
    else Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", saved);
  }
}

Deno.test("ccpipe report --sink bigquery gives the DuckDB report's rows and cost", async () => {
  using mocks = startMocks({ bigquery: { projectId: "ccpipe-test", jobPollsUntilDone: 1 } });
  await withBigQueryCli(async (tree, cli) => {
    const common = ["--data-dir", tree.join("data"), "--config", tree.join("ccpipe.json")];
    const machine = ["--machine-name", "laptop-1", "--user", "dana"];
    await cli([
      "run",
      "--source",
      fixture,
      ...common,
      ...machine,
      "--sink",
      "bigquery",
      "--json",
      "--no-llm",
    ]);
    const duck = ["--data-dir", tree.join("duck")];
    await cli(["run", "--source", fixture, ...duck, ...machine, "--json", "--no-llm"]);
    const reports: [string, ...string[]][] = [
      ["daily", "--breakdown"],
      ["model", "--breakdown"],
      ["session", "--breakdown"],
      ["machine"],
      ["user", "--breakdown"],
      ["weekly", "--breakdown=machine"],
      ["monthly", "--breakdown", "user", "--machine", "laptop-1"],
    ];
    for (const args of reports) {
      const fromBigQuery = JSON.parse(
        (await cli(["report", ...args, "--json", ...common, "--sink", "bigquery"]))[0],
      );
      const fromDuckDb = JSON.parse((await cli(["report", ...args, "--json", ...duck]))[0]);
      assertEquals(fromBigQuery, fromDuckDb, args.join(" "));
    }
    const machines = JSON.parse(
      (await cli(["report", "machine", "--json", ...common, "--sink", "bigquery"]))[0],
    );
    assertEquals(machines.rows.map((r: Record<string, unknown>) => [r.machine_id, r.responses, r.cost_usd]), [
      ["laptop-1", 33, 0.4480877],
    ]);
    const monthly = JSON.parse(
      (await cli([
        "report",
        "monthly",
        "--json",
        "--breakdown=user",
        "--user",
        "dana",
        ...common,
        "--sink",
        "bigquery",
      ]))[0],
    );
    assertEquals(monthly.rows[0].breakdown.map((b: Record<string, unknown>) => [b.user_label, b.cost_usd]), [
      ["dana", 0.4480877],
    ]);
    const other = JSON.parse(
      (await cli(["report", "daily", "--json", "--machine", "laptop-2", ...common, "--sink", "bigquery"]))[0],
    );
    assertEquals([other.rows, other.totals.responses], [[], 0]);
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
  });
});

Deno.test("ccpipe report --sink bigquery reads tables from before machine ids; the next run adds the columns", async () => {
  using mocks = startMocks({ bigquery: { projectId: "ccpipe-test", jobPollsUntilDone: 1 } });
  const config = parseBigQueryConfig({ project: "ccpipe-test", dataset: "claude" });
  const client = createBigQueryClient(config, { authClient: fakeAuthClient() });
  const [dataset] = await client.createDataset("claude", { location: "US" });
  for (const def of [Tables.usage, Tables.sessions]) {
    const shape = bigQueryTableShapeOf(def);
    const older = shape.schema.fields.filter((f) => f.name !== "machine_id" && f.name !== "user_label");
    await dataset.createTable(def.name, { ...shape, schema: { fields: older } });
  }
  // One Sonnet 4.5 response loaded by an older ccpipe: 1,000 in × $3/M + 1,000 out × $15/M = $0.018.
  await dataset.table("usage").insert([
    usageRow(0, "old-run", {
      model: "claude-sonnet-4-5-20250929",
      input_tokens: 1000,
      output_tokens: 1000,
      cache_read_input_tokens: 0,
      total_tokens: 2000,
    }),
  ]);
  assertEquals(mocks.bigquery.table("claude", "usage")!.schema.some((f) => f.name === "machine_id"), false);
  await withBigQueryCli(async (tree, cli) => {
    const bq = ["--data-dir", tree.join("data"), "--config", tree.join("ccpipe.json"), "--sink", "bigquery"];
    const before = await cli(["report", "machine", ...bq]);
    assertEquals(before[2].replace(/\s+/g, " "), "(unknown) 1,000 1,000 0 0 2,000 $0.0180");
    await cli(["run", "--source", fixture, ...bq, "--machine-name", "laptop-1", "--json", "--no-llm"]);
    const after = JSON.parse((await cli(["report", "machine", "--json", ...bq]))[0]);
    assertEquals(after.rows.map((r: Record<string, unknown>) => [r.machine_id, r.responses, r.cost_usd]), [
      ["laptop-1", 33, 0.4480877],
      [null, 1, 0.018],
    ]);
  });
});
