// Hostile but real-world lines next to ordinary records: the run goes on (exit 0), every ordinary record
// loads, and each hostile line is accounted for: loaded sanitised (with the change recorded in the row) or
// kept as a reject with its reason. Each of these blocked every rerun before (issue 9, item 1).
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { recordingOutput } from "../cli/logger.ts";
import { main } from "../cli/main.ts";
import { DuckDbSink } from "../sinks/duckdb.ts";
import { jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";

const ok = (n: number) => userPrompt(`ordinary prompt ${n}`, { uuid: `ok-${n}` });

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

// Each hostile line as Claude Code (or a damaged disk) writes it, JSON text exactly.
const hostile = {
  loneSurrogate:
    '{"type":"user","uuid":"h-surrogate","sessionId":"s1","timestamp":"2026-05-02T09:00:00.000Z","message":{"role":"user","content":"cut \\ud83d"}}',
  farTimestamp:
    '{"type":"user","uuid":"h-time","sessionId":"s1","timestamp":"+275760-09-13T00:00:00.000Z","message":{"role":"user","content":"far future"}}',
  hugeTokens:
    '{"type":"assistant","uuid":"h-tokens","sessionId":"s1","requestId":"r1","timestamp":"2026-05-02T09:00:01.000Z","message":{"id":"m1","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":1e300,"output_tokens":1}}}',
  deepNesting:
    `{"type":"user","uuid":"h-deep","sessionId":"s1","timestamp":"2026-05-02T09:00:02.000Z","message":{"role":"user","content":"deep"},"weird":${
      nested(10_000)
    }}`,
  // Malformed at an emoji (V8 quotes half of it), with an emoji across the 200th byte of the prefix.
  splitEmoji: `{"type":"user","uuid":"h-emoji","xy":${"\u{1F600}".repeat(100)}`,
};

async function cli(args: string[]) {
  const output = recordingOutput();
  const code = await main(args, { output, env: () => undefined });
  return { code, stderr: output.stderr.join("\n") };
}

Deno.test("run with hostile lines exits 0, loads every ordinary record and accounts for each hostile line", async () => {
  const lines = [
    jsonl([ok(1)]),
    hostile.loneSurrogate + "\n",
    jsonl([ok(2)]),
    hostile.farTimestamp + "\n",
    hostile.hugeTokens + "\n",
    jsonl([ok(3)]),
    hostile.deepNesting + "\n",
    hostile.splitEmoji + "\n",
    jsonl([ok(4)]),
  ];
  await using tree = await writeTree({ "projects/-home-a/s1.jsonl": lines.join("") });
  const dataDir = tree.join("data");
  const args = ["run", "--source", tree.join("projects"), "--data-dir", dataDir, "--no-llm", "--json"];
  const first = await cli(args);
  assertEquals([first.code, first.stderr], [0, ""]);
  // A rerun is not blocked either (it used to fail the same way every time).
  assertEquals((await cli(args)).code, 0);

  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const messages = await db.query(
    "SELECT uuid, text, timestamp::VARCHAR AS ts, event_date::VARCHAR AS day, json_extract(extra, '$.ccpipe_sanitised') AS notes FROM messages ORDER BY source_line",
  );
  assertEquals(messages, [
    { uuid: "ok-1", text: "ordinary prompt 1", ts: "2026-05-02 09:00:00", day: "2026-05-02", notes: null },
    {
      uuid: "h-surrogate",
      text: "cut \uFFFD",
      ts: "2026-05-02 09:00:00",
      day: "2026-05-02",
      notes: '["text: lone surrogate replaced"]',
    },
    { uuid: "ok-2", text: "ordinary prompt 2", ts: "2026-05-02 09:00:00", day: "2026-05-02", notes: null },
    {
      uuid: "h-time",
      text: "far future",
      ts: null,
      day: null,
      notes:
        '["timestamp: +275760-09-13T00:00:00.000Z is out of range","event_date: +275760-09 is out of range"]',
    },
    { uuid: "ok-3", text: "ordinary prompt 3", ts: "2026-05-02 09:00:00", day: "2026-05-02", notes: null },
    {
      uuid: "h-deep",
      text: "deep",
      ts: "2026-05-02 09:00:02",
      day: "2026-05-02",
      notes: '["nested deeper than 200 levels"]',
    },
    { uuid: "ok-4", text: "ordinary prompt 4", ts: "2026-05-02 09:00:00", day: "2026-05-02", notes: null },
  ]);
  // The deep field is kept down to the cap, then marked.
  const [deep] = await db.query(
    `SELECT json_extract_string(extra, '$.weird${
      ".a".repeat(199)
    }') AS cut FROM messages WHERE uuid = 'h-deep'`,
  );
  assertEquals(deep, { cut: "[ccpipe: nested too deep, dropped]" });

  const rejects = await db.query("SELECT line_number, error, prefix FROM rejects ORDER BY line_number");
  assertEquals(rejects.map((r) => r.line_number), ["5", "8"]);
  assertEquals(
    rejects[0].error,
    "Record does not match the transcript envelope: message.usage.input_tokens: Too big: expected int to be <=9007199254740991",
  );
  // The prefix is cut by code point: the 41st emoji straddles byte 200, so 37 + 40 × 4 = 197 bytes stay.
  assertEquals(rejects[1].prefix, `{"type":"user","uuid":"h-emoji","xy":${"\u{1F600}".repeat(40)}`);
  // V8 quotes the first half of the emoji it stopped at: stored as U+FFFD, not as a lone surrogate.
  assertEquals(
    rejects[1].error,
    `Unexpected token '\uFFFD', ..."oji","xy":${"\u{1F600}".repeat(5)}"... is not valid JSON`,
  );
  // Each value is replaced once, in its messages row: the session is built from the safe row.
  const [run] = await db.query("SELECT json_extract(stats, '$.sanitised') AS s FROM runs");
  assertEquals(
    JSON.parse(run.s as string),
    { "messages.event_date": 1, "messages.text": 1, "messages.timestamp": 1 },
  );
  assertEquals(await db.counts(), { messages: 7, usage: 0, sessions: 1, rejects: 2, runs: 1 });
});
