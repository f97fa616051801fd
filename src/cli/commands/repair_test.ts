import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { DuckDbSink } from "../../sinks/duckdb.ts";
import { assistantLine, jsonl, userPrompt } from "../../testing/records.ts";
import { writeTree } from "../../testing/write_tree.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

async function cli(args: string[], env: Record<string, string> = {}) {
  const output = recordingOutput();
  const code = await main(args, { output, env: (name) => env[name] });
  return { code, stdout: output.stdout.join("\n"), stderr: output.stderr };
}

async function counts(dataDir: string) {
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  return await db.counts();
}

Deno.test("a corrupt seen set stops the run with one line naming 'ccpipe repair', which gets it going again", async () => {
  await using tree = await writeTree({
    "projects/-home-a/s1.jsonl": jsonl([
      userPrompt("fix teh loader", { uuid: "p1" }),
      assistantLine("m1", "r1", { input: 1, output: 2 }, { uuid: "a1" }),
    ]),
  });
  const dataDir = tree.join("data");
  const run = ["run", "--source", tree.join("projects"), "--data-dir", dataDir, "--no-llm", "--json"];
  assertEquals((await cli(run)).code, 0);
  const seen = `${dataDir}/state/seen.1.bin`;
  await Deno.writeFile(seen, crypto.getRandomValues(new Uint8Array((await Deno.stat(seen)).size)));

  const refused = await cli(run);
  assertEquals(refused.code, 3);
  assertEquals(refused.stderr, [
    `ccpipe: Cannot use the state in ${dataDir}/state as seen.1.bin does not match its checksum: run 'ccpipe repair --data-dir ${dataDir}' to set it aside; the next run then rereads every transcript (loads are idempotent, no row is duplicated)`,
  ]);

  const repaired = await cli(["repair", "--data-dir", dataDir]);
  assertEquals(repaired.code, 0);
  assertMatch(
    repaired.stdout,
    /^ccpipe repair: state moved to .*\/state\/set-aside-\d{8}T\d{6}Z; the next 'ccpipe run'/,
  );
  const again = await cli(run);
  assertEquals([again.code, again.stderr], [0, []]);
  assertEquals(await counts(dataDir), { messages: 2, usage: 1, sessions: 1, rejects: 0, runs: 2 });
  assertEquals(
    (await cli(["repair", "--data-dir", tree.join("empty")])).stdout,
    `ccpipe repair: no state in ${tree.join("empty")}; nothing to do`,
  );
});
