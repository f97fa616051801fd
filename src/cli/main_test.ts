import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert/strict";
import { writeTree } from "../testing/write_tree.ts";
import { jsonl, userPrompt } from "../testing/records.ts";
import { recordingOutput } from "./logger.ts";
import { main, VERSION } from "./main.ts";

async function cli(args: string[], env: Record<string, string> = {}) {
  const output = recordingOutput();
  const code = await main(args, { output, env: (name) => env[name] });
  return { code, stdout: output.stdout.join("\n"), stderr: output.stderr.join("\n"), lines: output.stderr };
}

Deno.test("main() prints the version and the help", async () => {
  assertEquals((await cli(["--version"])).stdout, `ccpipe ${VERSION}`);
  const help = await cli(["--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /Commands:\n\s+run/);
  for (const command of ["run", "discover", "demo"]) {
    const result = await cli([command, "--help"]);
    assertEquals(result.code, 0);
    assertMatch(result.stdout, new RegExp(`^Usage: ccpipe ${command}`));
  }
});

Deno.test("main() answers usage mistakes with one line and exit code 2", async () => {
  for (
    const args of [["frobnicate"], ["run", "--bogus"], ["run", "--until-stage", "9"], [
      "run",
      "--sink",
      "postgres",
    ], [
      "run",
      "extra",
    ]]
  ) {
    const result = await cli(args);
    assertEquals(result.code, 2, args.join(" "));
    assertEquals(result.lines.length, 1, result.stderr);
    assert(!result.stderr.includes("    at "), "no stack trace");
  }
  assertEquals((await cli([])).code, 2);
});

Deno.test("main() explains a missing source dir and finds no default source", async () => {
  const missing = await cli(["run", "--source", "/nonexistent/ccpipe-src"]);
  assertEquals(missing.code, 3);
  assertMatch(missing.stderr, /^ccpipe: .*\/nonexistent\/ccpipe-src/);
  const none = await cli(["run"], { HOME: "/nonexistent-home" });
  assertEquals(none.code, 2);
  assertMatch(none.stderr, /pass --source DIR/);
});

Deno.test("main() explains a data dir that cannot be written", async () => {
  await using tree = await writeTree({ "p/s.jsonl": jsonl([userPrompt("hi")]), "blocker": "a file" });
  const result = await cli(["run", "--source", tree.join("p"), "--data-dir", tree.join("blocker", "data")]);
  assertEquals(result.code, 3);
  assertMatch(result.stderr, /^ccpipe: Cannot write to the data dir .*blocker\/data/);
  assertEquals(result.lines.length, 1);
});

Deno.test("main() run --json prints one JSON object that reconciles, and discover prints a verdict", async () => {
  await using tree = await writeTree({
    "p/s.jsonl": jsonl([userPrompt("hi"), userPrompt("there")]) + "{bad\n",
  });
  const run = await cli(["run", "--source", tree.join("p"), "--data-dir", tree.join("d"), "--json"]);
  assertEquals(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assertEquals(summary.reconciliation.lines.balanced, true);
  assertEquals(summary.reconciliation.lines.read, 3);
  assertEquals(summary.tableCounts.rejects, 1);
  const discover = await cli(["discover", "--source", tree.join("p")]);
  assertEquals(discover.code, 0);
  assertMatch(discover.stdout, /^verdict: caution/);
});

Deno.test("main() suggests the closest command, flag and value for a typo", async () => {
  const command = await cli(["discoverr"]);
  assertEquals(command.code, 2);
  assertMatch(
    command.stderr,
    /^ccpipe: Unknown command 'discoverr': did you mean 'discover'\? \(expected run, discover/,
  );
  const flag = await cli(["run", "--sorce", "x"]);
  assertEquals(flag.code, 2);
  assertEquals(
    flag.stderr,
    "ccpipe: Unknown option '--sorce': did you mean '--source'? (see 'ccpipe run --help')",
  );
  const value = await cli(["run", "--sink", "duckbd"]);
  assertEquals(
    value.stderr,
    "ccpipe: --sink must be one of duckdb, bigquery, none: got 'duckbd'; did you mean 'duckdb'?",
  );
  const action = await cli(["cache", "stat"]);
  assertMatch(action.stderr, /did you mean 'stats'\?/);
});

Deno.test("main() help: 80 columns, exit codes on top, each command only its own flags, help COMMAND", async () => {
  const top = await cli(["--help"]);
  assertMatch(top.stdout, /Exit codes:\n {2}0 {4}ok\n/);
  assertMatch(top.stdout, /\n {2}75 {3}stopped on a per-day quota/);
  for (const command of ["run", "discover", "demo", "doctor", "cache", "schedule", "completions", "help"]) {
    const viaFlag = await cli([command, "--help"]);
    const viaHelp = await cli(["help", command]);
    assertEquals(viaHelp.stdout, viaFlag.stdout);
    for (const line of [...top.stdout.split("\n"), ...viaFlag.stdout.split("\n")]) {
      assert([...line].length <= 80, `${command}: ${line}`);
    }
  }
  const run = (await cli(["run", "--help"])).stdout;
  assertMatch(
    run,
    /Input:\n.*--source DIR[\s\S]*Output:\n[\s\S]*Stage 4 .*:\n[\s\S]*BigQuery:\n[\s\S]*General:\n/,
  );
  const doctor = (await cli(["doctor", "--help"])).stdout;
  assert(doctor.includes("--llm") && doctor.includes("--model ID"));
  assert(!doctor.includes("--batch-size") && !doctor.includes("--rpm"), doctor);
});

Deno.test("main() rerun: 'nothing new since' the last run, and a warning when --timezone changes", async () => {
  await using tree = await writeTree({ "p/s.jsonl": jsonl([userPrompt("hi")]) });
  const args = ["run", "--source", tree.join("p"), "--data-dir", tree.join("d"), "--no-llm"];
  const first = await cli([...args, "--timezone", "Europe/Paris"]);
  assertEquals(first.code, 0, first.stderr);
  const last = JSON.parse(await Deno.readTextFile(tree.join("d", "last_run.json")));
  assertEquals(last.time_zone, "Europe/Paris");
  const again = await cli(args);
  assertEquals(again.code, 0, again.stderr);
  assertMatch(
    again.stdout,
    /: nothing new since \d{4}-\d\d-\d\d \d\d:\d\d UTC\n {2}read {6}1 file, no new line/,
  );
  assertMatch(
    again.stderr,
    /warning: --timezone UTC differs from Europe\/Paris, the zone earlier rows were loaded with/,
  );
  // A run that loads nothing keeps the zone rows were loaded with.
  assertEquals(
    JSON.parse(await Deno.readTextFile(tree.join("d", "last_run.json"))).time_zone,
    "Europe/Paris",
  );
});

Deno.test("main() --json objects carry schema_version; discover --json is a summary unless --full", async () => {
  await using tree = await writeTree({ "p/s.jsonl": jsonl([userPrompt("hi"), userPrompt("there")]) });
  const run = JSON.parse(
    (await cli(["run", "--source", tree.join("p"), "--data-dir", tree.join("d"), "--json"])).stdout,
  );
  assertEquals(run.schema_version, 1);
  const summary = JSON.parse((await cli(["discover", "--source", tree.join("p"), "--json"])).stdout);
  assertEquals(summary.schema_version, 1);
  assertEquals(summary.verdict, "go");
  assertEquals(summary.totals.records, 2);
  assertEquals(summary.files, undefined);
  assertEquals(summary.totals.fields, undefined);
  assert(summary.totals.distinctFields > 0);
  const full = JSON.parse((await cli(["discover", "--source", tree.join("p"), "--json", "--full"])).stdout);
  assertEquals(full.schema_version, 1);
  assertEquals(full.files.length, 1);
  assertEquals(Object.keys(full.totals.fields).length, summary.totals.distinctFields);
});

Deno.test("main() run --prefilter picks the local check, from the flag or the config file", async () => {
  await using tree = await writeTree({
    "p/s.jsonl": jsonl([
      userPrompt("fix teh bug", { uuid: "x1" }),
      userPrompt("run the tests", { uuid: "x2" }),
    ]),
    "with-config/config.json": JSON.stringify({ correction: { prefilter: "none" } }),
  });
  const dryRun = async (dataDir: string, ...flags: string[]) => {
    const result = await cli([
      "run",
      "--dry-run",
      "--json",
      "--source",
      tree.join("p"),
      "--data-dir",
      dataDir,
      ...flags,
    ]);
    assertEquals(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    return [
      summary.stage4.details.prefilter,
      summary.reconciliation.prompts.cleanLocal,
      summary.stage4.pending,
    ];
  };
  assertEquals(await dryRun(tree.join("d1")), ["spell", 1, 1]);
  assertEquals(await dryRun(tree.join("d2"), "--prefilter", "none"), ["none", 0, 2]);
  assertEquals(await dryRun(tree.join("with-config")), ["none", 0, 2]);
  assertEquals(await dryRun(tree.join("with-config"), "--prefilter", "spell"), ["spell", 1, 1]);
  const bad = await cli([
    "run",
    "--prefilter",
    "grammar",
    "--source",
    tree.join("p"),
    "--data-dir",
    tree.join("d3"),
  ]);
  assertEquals([bad.code, bad.lines.length], [2, 1]);
  assertMatch(bad.stderr, /--prefilter must be one of spell, none: got 'grammar'/);
});
