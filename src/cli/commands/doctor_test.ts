import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startMocks } from "../../../mocks/mod.ts";
import { writeTree } from "../../testing/write_tree.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

const KEY = "AIzaSyTEST-doctor-key-0123456789abcdefgh";

async function doctor(args: string[], env: Record<string, string>) {
  const output = recordingOutput();
  const code = await main(["doctor", ...args], { output, env: (name) => env[name] });
  return { code, text: [...output.stdout, ...output.stderr].join("\n") };
}

Deno.test("doctor finds the key and the model, and never prints the key", async () => {
  using _mocks = startMocks({ gemini: {} });
  await using tree = await writeTree({});
  const ok = await doctor(["--data-dir", tree.join("d")], { GEMINI_API_KEY: KEY });
  assertEquals(ok.code, 0, ok.text);
  assert(ok.text.includes("API key from GEMINI_API_KEY"));
  assert(ok.text.includes("gemini-2.5-flash-lite"));
  assert(!ok.text.includes(KEY), "the key must not be printed");
  const missing = await doctor(["--data-dir", tree.join("d"), "--model", "gemini-0-nope"], {
    GEMINI_API_KEY: KEY,
  });
  assertEquals(missing.code, 1);
  assert(
    /FAIL\s+gemini model\s+gemini-0-nope: model 'gemini-0-nope' not found/.test(missing.text),
    missing.text,
  );
  assert(!missing.text.includes(KEY));
});

Deno.test("doctor reports a missing key and an unwritable data dir", async () => {
  await using tree = await writeTree({ "blocker": "file" });
  const result = await doctor(["--data-dir", tree.join("blocker", "d"), "--json"], {});
  assertEquals(result.code, 1);
  const report = JSON.parse(result.text);
  assertEquals(report.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [
    ["data dir", false],
    ["cache", false],
    ["gemini credentials", false],
  ]);
});
