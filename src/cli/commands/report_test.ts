// `ccpipe report` and `ccpipe sql` over the 100-message fixture loaded into DuckDB once. Expected figures
// are written by hand: token counts from fixtures/claude_code_100/expected.json, costs worked out by hand
// at list price in its README.
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert/strict";
import { denoFileSystem } from "../../io/file_system.ts";
import { runPipeline } from "../../pipeline/run_pipeline.ts";
import { DuckDbSink, openDuckDbSink } from "../../sinks/duckdb.ts";
import { writeTree } from "../../testing/write_tree.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

const fixture = new URL("../../../fixtures/claude_code_100/", import.meta.url).pathname;
const expected = JSON.parse(await Deno.readTextFile(`${fixture}expected.json`));

async function cli(args: string[], env: Record<string, string> = {}) {
  const output = recordingOutput();
  const code = await main(args, { output, env: (name) => env[name] });
  return { code, stdout: output.stdout, stderr: output.stderr };
}

async function loadedFixture() {
  const tree = await writeTree({});
  await runPipeline({
    sources: [`${fixture}projects`],
    dataDir: tree.path,
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(tree.join("ccpipe.duckdb")),
  });
  return tree;
}

Deno.test("ccpipe report daily: an aligned table within 80 columns, a totals row, the price data named", async () => {
  await using data = await loadedFixture();
  const { code, stdout } = await cli(["report", "daily", "--data-dir", data.path]);
  assertEquals(code, 0);
  assertEquals(stdout, [
    "Date        Input  Output  Cache wr  Cache rd    Total  Cost USD",
    "----------  -----  ------  --------  --------  -------  --------",
    "2026-05-04     25   1,005    12,610   124,912  138,552   $0.0949",
    "2026-05-05     12     540     5,750    58,210   64,512   $0.0472",
    "2026-05-06     15     689    10,500    38,590   49,794   $0.0613",
    "2026-05-07     34   1,078    22,000    60,980   84,092   $0.1726",
    "2026-05-09  1,593     503     6,640    26,770   35,506   $0.0453",
    "2026-05-10      9     313     5,130     9,570   15,022   $0.0268",
    "----------  -----  ------  --------  --------  -------  --------",
    "Total       1,688   4,128    62,630   319,032  387,478   $0.4481",
    "33 API responses; cost from @pydantic/genai-prices 0.1.8; days in UTC",
  ]);
  for (const kind of ["weekly", "monthly", "session", "project", "model"]) {
    const out = await cli(["report", kind, "--breakdown", "--data-dir", data.path]);
    assertEquals(out.code, 0, kind);
    assert(
      out.stdout.every((line) => line.length <= 80),
      `${kind} fits 80 columns:\n${out.stdout.join("\n")}`,
    );
    assertMatch(out.stdout.at(-2)!, /^Total\s+1,688\s+4,128\s+62,630\s+319,032\s+387,478\s+\$0\.4481$/);
  }
});

Deno.test("ccpipe report model --json: the documented contract, per-model cost as worked out by hand", async () => {
  await using data = await loadedFixture();
  const { code, stdout } = await cli(["report", "model", "--json", "--data-dir", data.path]);
  assertEquals(code, 0);
  const report = JSON.parse(stdout.join("\n"));
  assertEquals(
    [report.schema_version, report.report, report.timezone, report.prices],
    [1, "model", "UTC", "@pydantic/genai-prices 0.1.8"],
  );
  const byModel = expected.usage.by_model as Record<string, Record<string, number>>;
  assertEquals(report.rows.length, Object.keys(byModel).length);
  for (const row of report.rows) {
    const want = byModel[row.model];
    for (const field of ["responses", "input_tokens", "output_tokens", "cache_creation_input_tokens"]) {
      assertEquals(row[field], want[field], `${row.model} ${field}`);
    }
    assertEquals(row.cost_usd, want.cost_usd, `${row.model} cost`);
  }
  assertEquals(report.totals.cost_usd, expected.usage.cost_usd);
  assertEquals(report.totals.responses, expected.usage.responses);
});

Deno.test("ccpipe report daily --csv and --timezone, --since/--until and --project filter the rows", async () => {
  await using data = await loadedFixture();
  const csv = await cli(["report", "daily", "--csv", "--data-dir", data.path, "--since", "2026-05-09"]);
  assertEquals(csv.stdout, [
    "date,models,responses,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,total_tokens,cache_creation_1h_input_tokens,web_search_requests,cost_usd",
    "2026-05-09,claude-sonnet-4-5-20250929,5,1593,503,6640,26770,35506,0,0,0.045255",
    "2026-05-10,claude-sonnet-4-5-20250929,3,9,313,5130,9570,15022,0,0,0.0268305",
  ]);
  const project = await cli([
    "report",
    "project",
    "--json",
    "--project",
    "ml_notebooks",
    "--data-dir",
    data.path,
  ]);
  assertEquals(JSON.parse(project.stdout[0]).rows.map((r: { project: string }) => r.project), [
    "/home/dana/code/ml_notebooks",
  ]);
  const tokyo = await cli(["report", "daily", "--json", "--timezone", "Asia/Tokyo", "--data-dir", data.path]);
  const report = JSON.parse(tokyo.stdout[0]);
  assertEquals(report.timezone, "Asia/Tokyo");
  assertEquals(report.totals.cost_usd, expected.usage.cost_usd);
  const until = await cli(["report", "daily", "--json", "--until", "2026-05-04", "--data-dir", data.path]);
  assertEquals(JSON.parse(until.stdout[0]).rows.map((r: { date: string }) => r.date), ["2026-05-04"]);
});

Deno.test("ccpipe report: bad input gives one line, exit 2 or 3, and writes nothing", async () => {
  await using empty = await writeTree({});
  const cases: [string[], number, RegExp][] = [
    [
      ["report", "hourly"],
      2,
      /Unknown report 'hourly'.*daily, weekly, monthly, session, project, model, machine, user or html/,
    ],
    [
      ["report", "daily", "--breakdown=host"],
      2,
      /--breakdown must be one of model, machine, user: got 'host'/,
    ],
    [["report", "html", "--breakdown"], 2, /--breakdown goes with the table reports, not html/],
    [["report"], 2, /report needs a name/],
    [
      ["report", "daily", "--since", "2026-02-30"],
      2,
      /--since must be a date as YYYY-MM-DD: got '2026-02-30'/,
    ],
    [["report", "daily", "--until", "yesterday"], 2, /--until must be a date/],
    [["report", "daily", "--since", "2026-05-10", "--until", "2026-05-01"], 2, /--since 2026-05-10 is after/],
    [["report", "daily", "--json", "--csv"], 2, /Choose one of --json and --csv/],
    [["report", "daily", "--timezone", "Mars/Olympus"], 2, /--timezone must be an IANA time zone/],
    [["report", "daily"], 3, /No ccpipe database at .*ccpipe\.duckdb: run 'ccpipe run' first/],
    [["sql", "SELECT 1"], 3, /No ccpipe database/],
    [["sql"], 2, /sql needs a query/],
  ];
  for (const [args, exit, message] of cases) {
    const { code, stdout, stderr } = await cli([...args, "--data-dir", empty.path]);
    assertEquals([code, stdout.length, stderr.length], [exit, 0, 1], args.join(" "));
    assertMatch(stderr[0], message);
  }
  assertEquals([...Deno.readDirSync(empty.path)], [], "nothing written");
  // A database without usage rows is an error too, and stays as it was.
  await using db = await DuckDbSink.open({ path: empty.join("ccpipe.duckdb") });
  await db.prepare();
  db.close();
  const { code, stderr } = await cli(["report", "daily", "--data-dir", empty.path]);
  assertEquals(code, 3);
  assertMatch(stderr.join("\n"), /The usage table in .* is empty: run 'ccpipe run' to load it/);
});

Deno.test("ccpipe sql: read-only queries as a table, JSON or CSV; the report views match the report", async () => {
  await using data = await loadedFixture();
  const refused = await cli(["sql", "DELETE FROM usage", "--data-dir", data.path]);
  assertEquals(refused.code, 2);
  assertMatch(refused.stderr[0], /DuckDB refused the query: .*read-only/);
  const json = await cli([
    "sql",
    "SELECT date, responses, cost_usd FROM daily_usage",
    "--json",
    "--data-dir",
    data.path,
  ]);
  const result = JSON.parse(json.stdout[0]);
  assertEquals(result.columns, ["date", "responses", "cost_usd"]);
  const report = JSON.parse((await cli(["report", "daily", "--json", "--data-dir", data.path])).stdout[0]);
  assertEquals(
    result.rows.map((r: Record<string, unknown>) => [r.date, Number(r.responses), r.cost_usd]),
    report.rows.map((r: Record<string, unknown>) => [r.date, r.responses, r.cost_usd]),
  );
  const models = await cli([
    "sql",
    "SELECT model, cost_usd FROM model_usage ORDER BY model",
    "--csv",
    "--data-dir",
    data.path,
  ]);
  assertEquals(models.stdout, [
    "model,cost_usd",
    "claude-haiku-4-5-20251001,0.0025012",
    "claude-opus-4-5-20251101,0.138835",
    "claude-sonnet-4-5-20250929,0.3067515",
  ]);
  const table = await cli(["sql", "SELECT week, responses FROM weekly_usage", "--data-dir", data.path]);
  assertEquals(table.stdout, ["week        responses", "----------  ---------", "2026-05-04         33"]);
});

Deno.test("ccpipe report: a model without a price shows n/a, costs null in JSON, and is named in one warning", async () => {
  await using data = await loadedFixture();
  {
    await using db = await DuckDbSink.open({ path: data.join("ccpipe.duckdb") });
    for (const i of [1, 2]) {
      await db.query(
        `INSERT INTO usage (usage_key, api_message_id, session_id, project_id, model, timestamp, event_date,
           input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, total_tokens,
           is_sidechain, source_uuid, run_id)
         VALUES ('x${i}', 'x${i}', 's', 'p', 'claude-imaginary-9', '2026-05-10 12:00:00', '2026-05-10',
           10, 10, 0, 0, 20, false, 'u${i}', 'r')`,
      );
    }
  }
  const table = await cli(["report", "model", "--data-dir", data.path]);
  assertEquals(table.code, 0);
  assertEquals(table.stderr, [
    "ccpipe: warning: @pydantic/genai-prices 0.1.8 has no price for model claude-imaginary-9; its cost is n/a",
  ]);
  assertMatch(table.stdout.find((l) => l.startsWith("imaginary-9"))!, /\s40\s+n\/a$/);
  assertMatch(table.stdout.at(-2)!, /^Total .* n\/a$/);
  const json = JSON.parse((await cli(["report", "daily", "--json", "--data-dir", data.path])).stdout[0]);
  assertEquals(json.unpriced_models, ["claude-imaginary-9"]);
  assertEquals(json.rows.at(-1).cost_usd, null);
  assertEquals(json.rows[0].cost_usd, 0.0949087);
});
