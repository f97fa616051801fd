// How ccpipe's daily totals differ from ccusage's on claude_code_100, with the numbers.
//
// ccusage's figures below were recorded from ccusage 20.0.24 (the npm build that installs here) on
// 2026-11-30 with:
//   CLAUDE_CONFIG_DIR=<dir holding a copy of fixtures/claude_code_100/projects> \
//     npx -y ccusage@20.0.24 daily --json --offline
// Set CCPIPE_CCUSAGE_CHECK=1 (with npm reachable) to rerun ccusage and check the recording as well.
//
// ccusage keys a response on `message.id:requestId` and treats a line without `requestId` as never a
// duplicate. C1 (ml-notebooks, 2026-05-09) was written by a gateway that drops `requestId`, and its answer
// spans two lines (thinking + text) repeating one usage: ccusage counts it twice, ccpipe once (keyed on
// message.id alone; expected.json: 33 responses). Every other day agrees to the token and the cent.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { denoFileSystem } from "../src/io/file_system.ts";
import { runPipeline } from "../src/pipeline/run_pipeline.ts";
import { buildReport } from "../src/report/build_report.ts";
import { openDuckDbWarehouse, readUsage } from "../src/report/warehouse.ts";
import { openDuckDbSink } from "../src/sinks/duckdb.ts";
import { writeTree } from "../src/testing/write_tree.ts";

const fixture = new URL("../fixtures/claude_code_100/projects", import.meta.url).pathname;

/** ccusage 20.0.24 daily: date → [input, output, cache write, cache read, total, cost]. */
const CCUSAGE_DAILY: Record<string, number[]> = {
  "2026-05-04": [25, 1005, 12610, 124912, 138552, 0.0949087],
  "2026-05-05": [12, 540, 5750, 58210, 64512, 0.0471615],
  "2026-05-06": [15, 689, 10500, 38590, 49794, 0.061332],
  "2026-05-07": [34, 1078, 22000, 60980, 84092, 0.1726],
  "2026-05-09": [1597, 518, 7280, 31890, 41285, 0.049428],
  "2026-05-10": [9, 313, 5130, 9570, 15022, 0.0268305],
};
/** ccusage 20.0.24's daily totals; its `session` command reports 409,738 tokens and $0.4596842 instead. */
const CCUSAGE_TOTAL = [1692, 4143, 63270, 324152, 393257, 0.4522607];

const round = (n: number) => Math.round(n * 1e7) / 1e7;

Deno.test("ccpipe's daily totals on the fixture: ccusage's, less C1's answer it counts twice", async () => {
  await using data = await writeTree({});
  await runPipeline({
    sources: [fixture],
    dataDir: data.path,
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(data.join("ccpipe.duckdb")),
  });
  await using warehouse = await openDuckDbWarehouse(data.join("ccpipe.duckdb"));
  const report = buildReport(await readUsage(warehouse), { kind: "daily" });
  const ours = Object.fromEntries(report.rows.map((r) => [r.date, [
    r.input_tokens,
    r.output_tokens,
    r.cache_creation_input_tokens,
    r.cache_read_input_tokens,
    r.total_tokens,
    r.cost_usd,
  ]]));
  // The one difference: C1's second line, 4 input, 15 output, 640 cache-write and 5,120 cache-read tokens,
  // $0.004173 at Sonnet 4.5's rates (4×3 + 15×15 + 640×3.75 + 5120×0.30 = 4,173 µ$).
  const c1Line = [4, 15, 640, 5120, 5779, 0.004173];
  const expected = { ...CCUSAGE_DAILY };
  expected["2026-05-09"] = CCUSAGE_DAILY["2026-05-09"].map((v, i) => round(v - c1Line[i]));
  assertEquals(ours, expected);
  const t = report.totals;
  assertEquals(
    [
      t.input_tokens,
      t.output_tokens,
      t.cache_creation_input_tokens,
      t.cache_read_input_tokens,
      t.total_tokens,
      t
        .cost_usd,
    ],
    CCUSAGE_TOTAL.map((v, i) => round(v - c1Line[i])),
  );
  assertEquals(t.cost_usd, 0.4480877);

  if (Deno.env.get("CCPIPE_CCUSAGE_CHECK") === "1") {
    await using config = await writeTree({});
    await Deno.symlink(fixture, config.join("projects"));
    const out = await new Deno.Command("npx", {
      args: ["-y", "ccusage@20.0.24", "daily", "--json", "--offline"],
      env: { CLAUDE_CONFIG_DIR: config.path },
      stderr: "null",
    }).output();
    const live = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      daily: {
        period: string;
        inputTokens: number;
        outputTokens: number;
        cacheCreationTokens: number;
        cacheReadTokens: number;
        totalTokens: number;
        totalCost: number;
      }[];
    };
    assertEquals(
      Object.fromEntries(live.daily.map((d) => [d.period, [
        d.inputTokens,
        d.outputTokens,
        d.cacheCreationTokens,
        d.cacheReadTokens,
        d.totalTokens,
        round(d.totalCost),
      ]])),
      CCUSAGE_DAILY,
    );
  }
});
