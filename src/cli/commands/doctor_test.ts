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

Deno.test("doctor reports an unwritable data dir; a missing key is a note unless --llm asks for Gemini", async () => {
  await using tree = await writeTree({ "blocker": "file" });
  const result = await doctor(["--data-dir", tree.join("blocker", "d"), "--json"], {});
  assertEquals(result.code, 1);
  const report = JSON.parse(result.text);
  assertEquals(report.schema_version, 1);
  assertEquals(report.checks.map((c: { name: string; status: string }) => [c.name, c.status]), [
    ["data dir", "fail"],
    ["cache", "fail"],
    ["last run", "note"],
    ["gemini credentials", "note"],
  ]);
  const duckdbOnly = await doctor(["--data-dir", tree.join("d")], {});
  assertEquals(duckdbOnly.code, 0, duckdbOnly.text);
  assert(/^note {2}gemini credentials .*runs skip Stage 4/m.test(duckdbOnly.text), duckdbOnly.text);
  const wanted = await doctor(["--data-dir", tree.join("d"), "--llm"], {});
  assertEquals(wanted.code, 1);
  assert(/^FAIL {2}gemini credentials .*Stage 4 is configured/m.test(wanted.text), wanted.text);
});

Deno.test("doctor warns when the last run is older than half of Claude Code's cleanupPeriodDays", async () => {
  const now = Date.parse("2026-11-30T12:00:00Z");
  await using tree = await writeTree({
    "d/last_run.json": JSON.stringify({
      schema_version: 1,
      run_id: "r",
      status: "completed",
      finished_at: "2026-11-10T12:00:00Z",
      time_zone: "UTC",
    }),
    "home/.claude/settings.json": JSON.stringify({ cleanupPeriodDays: 30 }),
    "home60/.claude/settings.json": JSON.stringify({ cleanupPeriodDays: 60 }),
  });
  const run = async (home: string) => {
    const output = recordingOutput();
    const code = await main(["doctor", "--data-dir", tree.join("d")], {
      output,
      env: (name) => (name === "HOME" ? tree.join(home) : undefined),
      clock: { now: () => now, sleep: () => Promise.resolve() },
    });
    return { code, text: output.stdout.join("\n") };
  };
  const stale = await run("home");
  assertEquals(stale.code, 0, "a warning does not fail doctor");
  assert(
    stale.text.includes(
      "warn  last run             2026-11-10 12:00 UTC (20 days ago), more than half of Claude Code's cleanupPeriodDays (30)",
    ),
    stale.text,
  );
  const fine = await run("home60");
  assert(
    fine.text.includes(
      "ok    last run             2026-11-10 12:00 UTC (20 days ago); Claude Code keeps transcripts 60 days",
    ),
    fine.text,
  );
});
