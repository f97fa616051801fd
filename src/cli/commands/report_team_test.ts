// Per-machine and per-user reports: the 100-message fixture split between two machines loading one data
// dir (alpha, with --user dana: the blog-site and invoice-api projects; beta, no label: ml-notebooks).
// Expected figures by hand from fixtures/claude_code_100: beta is exactly the 2026-05-09 and 2026-05-10
// days of the daily report (8 responses; 1,602 × $3 + 11,770 × $3.75 + 36,340 × $0.30 + 816 × $15 per M,
// all Sonnet 4.5, = $0.0720855); alpha is the rest of the $0.4480877 total, $0.3760022.
import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { denoFileSystem } from "../../io/file_system.ts";
import { runPipeline } from "../../pipeline/run_pipeline.ts";
import { DuckDbSink, openDuckDbSink } from "../../sinks/duckdb.ts";
import { fixtureFiles } from "../../testing/fixture_files.ts";
import { type Tree, writeTree } from "../../testing/write_tree.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

const projects = new URL("../../../fixtures/claude_code_100/projects", import.meta.url).pathname;
const ALPHA = ["-home-dana-code-blog-site/", "-home-dana-code-invoice-api/"];
const BETA = ["-home-dana-code-ml-notebooks/"];

async function cli(args: string[]) {
  const output = recordingOutput();
  const code = await main(args, { output, env: () => undefined });
  assertEquals(code, 0, output.stderr.join("\n"));
  return output.stdout;
}

async function corpora(): Promise<Tree> {
  return await writeTree({
    ...await fixtureFiles(projects, ALPHA, "alpha"),
    ...await fixtureFiles(projects, BETA, "beta"),
  });
}

async function twoMachines(): Promise<Tree> {
  const tree = await corpora();
  const data = ["--data-dir", tree.join("data"), "--no-llm", "--json"];
  await cli(["run", "--source", tree.join("alpha"), ...data, "--machine-name", "alpha", "--user", "dana"]);
  await cli(["run", "--source", tree.join("beta"), ...data, "--machine-name", "beta"]);
  return tree;
}

Deno.test("ccpipe report machine and user: one row per machine or label, an unlabelled one as (unknown)", async () => {
  await using tree = await twoMachines();
  const data = ["--data-dir", tree.join("data")];
  assertEquals(await cli(["report", "machine", ...data]), [
    "Machine  Input  Output  Cache wr  Cache rd    Total  Cost USD",
    "-------  -----  ------  --------  --------  -------  --------",
    "alpha       86   3,312    50,860   282,692  336,950   $0.3760",
    "beta     1,602     816    11,770    36,340   50,528   $0.0721",
    "-------  -----  ------  --------  --------  -------  --------",
    "Total    1,688   4,128    62,630   319,032  387,478   $0.4481",
    "33 API responses; cost from @pydantic/genai-prices 0.1.8",
  ]);
  const users = await cli(["report", "user", ...data]);
  assertMatch(users[2], /^dana\s.*\$0\.3760$/);
  assertMatch(users[3], /^\(unknown\)\s+1,602\s.*\$0\.0721$/);
  assertEquals(await cli(["report", "user", "--csv", ...data]), [
    "user_label,models,responses,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,total_tokens,cache_creation_1h_input_tokens,web_search_requests,cost_usd",
    "dana,claude-sonnet-4-5-20250929 claude-opus-4-5-20251101 claude-haiku-4-5-20251001,25,86,3312,50860,282692,336950,0,0,0.3760022",
    ",claude-sonnet-4-5-20250929,8,1602,816,11770,36340,50528,0,0,0.0720855",
  ]);
  const json = JSON.parse((await cli(["report", "machine", "--json", ...data]))[0]);
  assertEquals(json.rows.map((r: Record<string, unknown>) => [r.machine_id, r.responses, r.cost_usd]), [
    ["alpha", 25, 0.3760022],
    ["beta", 8, 0.0720855],
  ]);
  assertEquals([json.schema_version, json.report, json.machine, json.user, json.breakdown], [
    1,
    "machine",
    null,
    null,
    null,
  ]);
});

Deno.test("ccpipe report --machine and --user keep one machine's or one person's rows in every report", async () => {
  await using tree = await twoMachines();
  const data = ["--data-dir", tree.join("data")];
  const beta = JSON.parse((await cli(["report", "daily", "--json", "--machine", "beta", ...data]))[0]);
  assertEquals(beta.rows.map((r: { date: string }) => r.date), ["2026-05-09", "2026-05-10"]);
  assertEquals([beta.machine, beta.totals.responses, beta.totals.cost_usd], ["beta", 8, 0.0720855]);
  const dana = JSON.parse((await cli(["report", "session", "--json", "--user", "dana", ...data]))[0]);
  assertEquals([dana.user, dana.rows.length, dana.totals.cost_usd], ["dana", 5, 0.3760022]); // 7 sessions, 2 in ml-notebooks
  const nobody = JSON.parse((await cli(["report", "model", "--json", "--machine", "gamma", ...data]))[0]);
  assertEquals([nobody.rows, nobody.totals.responses], [[], 0]);
});

Deno.test("ccpipe report --breakdown machine|user splits each period; --breakdown alone stays per model", async () => {
  await using tree = await twoMachines();
  const data = ["--data-dir", tree.join("data")];
  const monthly = JSON.parse(
    (await cli(["report", "monthly", "--json", "--breakdown", "machine", ...data]))[0],
  );
  assertEquals(monthly.breakdown, "machine");
  assertEquals(
    monthly.rows.map((r: { month: string; breakdown: Record<string, unknown>[] }) => [
      r.month,
      r.breakdown.map((b) => [b.machine_id, b.responses, b.cost_usd]),
    ]),
    [["2026-05", [["alpha", 25, 0.3760022], ["beta", 8, 0.0720855]]]],
  );
  assertEquals(
    await cli(["report", "daily", "--csv", "--breakdown=user", "--since", "2026-05-09", ...data]),
    [
      "date,user_label,responses,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,total_tokens,cache_creation_1h_input_tokens,web_search_requests,cost_usd",
      "2026-05-09,,5,1593,503,6640,26770,35506,0,0,0.045255",
      "2026-05-10,,3,9,313,5130,9570,15022,0,0,0.0268305",
    ],
  );
  const weekly = await cli(["report", "weekly", "--breakdown", "machine", ...data]);
  assertEquals(weekly.slice(0, 5), [
    "Week of     Input  Output  Cache wr  Cache rd    Total  Cost USD",
    "----------  -----  ------  --------  --------  -------  --------",
    "2026-05-04  1,688   4,128    62,630   319,032  387,478   $0.4481",
    "  alpha        86   3,312    50,860   282,692  336,950   $0.3760",
    "  beta      1,602     816    11,770    36,340   50,528   $0.0721",
  ]);
  const byModel = JSON.parse((await cli(["report", "monthly", "--json", "--breakdown", ...data]))[0]);
  assertEquals(byModel.breakdown, "model");
  assertEquals(byModel.rows[0].breakdown.map((b: { model: string }) => b.model), [
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-haiku-4-5-20251001",
  ]);
});

Deno.test("ccpipe sql: machine_usage and user_usage views in the DuckDB file", async () => {
  await using tree = await twoMachines();
  const data = ["--data-dir", tree.join("data")];
  assertEquals(
    await cli([
      "sql",
      "SELECT machine_id, responses, cost_usd FROM machine_usage ORDER BY 1",
      "--csv",
      ...data,
    ]),
    ["machine_id,responses,cost_usd", "alpha,25,0.3760022", "beta,8,0.0720855"],
  );
  assertEquals(
    await cli([
      "sql",
      "SELECT user_label, responses FROM user_usage ORDER BY 1 NULLS LAST",
      "--csv",
      ...data,
    ]),
    ["user_label,responses", "dana,25", ",8"],
  );
});

Deno.test("ccpipe report on a usage table from before machine ids: (unknown), then the next run adds the columns", async () => {
  await using tree = await corpora();
  await runPipeline({
    sources: [tree.join("alpha")],
    dataDir: tree.join("data"),
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(tree.join("data", "ccpipe.duckdb")),
  });
  {
    await using db = await DuckDbSink.open({ path: tree.join("data", "ccpipe.duckdb") });
    await db.query("ALTER TABLE usage DROP COLUMN machine_id");
    await db.query("ALTER TABLE usage DROP COLUMN user_label");
  }
  const data = ["--data-dir", tree.join("data")];
  const old = await cli(["report", "machine", ...data]);
  assertMatch(old[2], /^\(unknown\)\s+86\s+3,312\s.*\$0\.3760$/);
  const none = JSON.parse((await cli(["report", "daily", "--json", "--machine", "alpha", ...data]))[0]);
  assertEquals(none.rows, []);
  await cli(["run", "--source", tree.join("beta"), ...data, "--no-llm", "--json", "--machine-name", "beta"]);
  const json = JSON.parse((await cli(["report", "machine", "--json", ...data]))[0]);
  assertEquals(json.rows.map((r: Record<string, unknown>) => [r.machine_id, r.responses, r.cost_usd]), [
    [null, 25, 0.3760022],
    ["beta", 8, 0.0720855],
  ]);
});

Deno.test("ccpipe report html: a cost-by-machine chart only when more than one machine is present", async () => {
  await using tree = await twoMachines();
  const data = ["--data-dir", tree.join("data")];
  const both = JSON.parse(
    (await cli(["report", "html", "--json", "--out", tree.join("both.html"), ...data]))[0],
  );
  assertEquals(both.sessions, 7);
  const page = await Deno.readTextFile(tree.join("both.html"));
  assertEquals(page.includes('<canvas id="chart-machines"'), true);
  assertEquals(
    page.includes(
      '"by_machine":[{"machine_id":"alpha","total_tokens":336950,"cost_usd":0.3760022},{"machine_id":"beta","total_tokens":50528,"cost_usd":0.0720855}]',
    ),
    true,
  );
  const one = JSON.parse(
    (await cli(["report", "html", "--json", "--machine", "beta", "--out", tree.join("beta.html"), ...data]))[
      0
    ],
  );
  assertEquals(one.sessions, 2); // ml-notebooks' two sessions
  const betaPage = await Deno.readTextFile(tree.join("beta.html"));
  assertEquals([betaPage.includes('<canvas id="chart-machines"'), betaPage.includes('"by_machine"')], [
    false,
    false,
  ]);
  assertEquals(betaPage.includes("machine beta"), true);
});
