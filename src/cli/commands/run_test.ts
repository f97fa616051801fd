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
