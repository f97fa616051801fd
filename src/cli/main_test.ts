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
