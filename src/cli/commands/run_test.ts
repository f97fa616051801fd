import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { jsonl, userPrompt } from "../../testing/records.ts";
import { writeTree } from "../../testing/write_tree.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

Deno.test("ccpipe run exits 1 and says so when every Gemini call failed, though the tables loaded", async () => {
  await using tree = await writeTree({
    "projects/-home-a/s1.jsonl": jsonl([
      userPrompt("fix teh loader", { uuid: "p1" }),
      userPrompt("recieve it", { uuid: "p2" }),
    ]),
  });
  const output = recordingOutput();
  // Nothing listens on port 9 of the loopback: every call fails at once, as with a wrong endpoint.
  const code = await main([
    "run",
    "--source",
    tree.join("projects"),
    "--data-dir",
    tree.join("data"),
    "--gemini-endpoint",
    "http://127.0.0.1:9",
    "--max-retries",
    "0",
    "--json",
  ], { output, env: (name) => (name === "GEMINI_API_KEY" ? "test-key" : undefined) });
  assertEquals(code, 1);
  assertEquals(output.stderr, [
    "ccpipe: every Gemini call failed (2 failed_network); the tables loaded and those prompts stay pending for the next run: check the key and endpoint with 'ccpipe doctor'",
  ]);
  assertEquals(JSON.parse(output.stdout[0]).status, "completed");
});

Deno.test("ccpipe run --threads loads the same tables on workers as on the main thread, and refuses a bad count", async () => {
  const records = [];
  for (let i = 0; i < 12; i++) {
    records.push(userPrompt(`prompt ${i}`, { uuid: `p${i}`, sessionId: `s${i % 3}` }));
  }
  await using tree = await writeTree({
    "projects/-home-a/s0.jsonl": jsonl(records.slice(0, 5)),
    "projects/-home-a/s1.jsonl": jsonl(records.slice(5, 9)),
    "projects/-home-b/s2.jsonl": jsonl(records.slice(9)),
  });
  const summaries = [];
  for (const threads of ["0", "2"]) {
    const output = recordingOutput();
    const args = ["run", "--source", tree.join("projects"), "--data-dir", tree.join(`data${threads}`)];
    const code = await main([...args, "--sink", "none", "--threads", threads, "--json"], {
      output,
      env: () => undefined,
    });
    assertEquals(code, 0);
    const summary = JSON.parse(output.stdout[0]);
    const messages = await Deno.readTextFile(`${summary.runDir}/messages.ndjson`);
    summaries.push({
      reconciliation: summary.reconciliation,
      rows: messages.trim().split("\n").map((line) => {
        const { run_id: _, ...row } = JSON.parse(line);
        return row;
      }),
    });
  }
  assertEquals(summaries[1], summaries[0]);
  assertEquals(summaries[0].rows.map((r) => r.turn), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);

  const output = recordingOutput();
  const bad = ["run", "--source", tree.join("projects"), "--data-dir", tree.join("bad"), "--threads", "many"];
  const code = await main(bad, {
    output,
    env: () => undefined,
  });
  assertEquals(code, 2);
  assertEquals(output.stderr, ["ccpipe: --threads must be an integer from 0 to 16: got 'many'"]);

  // CCPIPE_THREADS is checked the same way; the flag, when given, is the one that counts.
  const runWith = async (threads: string, extra: string[] = []) => {
    const output = recordingOutput();
    const args = ["run", "--source", tree.join("projects"), "--data-dir", tree.join(`env${threads}`)];
    const env = (name: string) => name === "CCPIPE_THREADS" ? threads : undefined;
    const code = await main([...args, "--sink", "none", "--json", ...extra], { output, env });
    return { code, stderr: output.stderr };
  };
  for (const threads of ["two", "17", "-1", "1.5"]) {
    assertEquals(await runWith(threads), {
      code: 2,
      stderr: [`ccpipe: CCPIPE_THREADS must be an integer from 0 to 16: got '${threads}'`],
    });
  }
  assertEquals(await runWith("1"), { code: 0, stderr: [] });
  assertEquals(await runWith("two", ["--threads", "0"]), { code: 0, stderr: [] });
});
