import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { ExtractEvent, RawRecord } from "../schema/mod.ts";
import { Inventory } from "../stages/inventory.ts";
import { FingerprintSet } from "../state/fingerprint_set.ts";
import { userPrompt } from "../testing/records.ts";
import { createRunCounts, normalise, type PackageRow } from "./normalise.ts";

const file = { path: "/p/s1.jsonl", root: "/p", size: 100, mtimeMs: 0 };

function record(line: number, value: Record<string, unknown>): ExtractEvent {
  const raw: RawRecord = {
    file: file.path,
    line,
    offset: line * 10,
    bytes: 10,
    type: String(value.type),
    value,
  };
  return { kind: "record", record: raw };
}

async function* events(items: ExtractEvent[]): AsyncGenerator<ExtractEvent> {
  yield* items;
}

Deno.test("normalise() alone turns Stage 1 events into table rows and counts every line", async () => {
  const seen = new FingerprintSet(16);
  seen.add("old"); // loaded by an earlier run
  const turns = new Map([["s1", 4]]);
  const counts = createRunCounts(new Map());
  const watermark = { path: file.path, size: 100, mtimeMs: 0, offset: 40, lines: 4, headHash: "h" };
  const input: ExtractEvent[] = [
    record(1, userPrompt("fix teh bug", { uuid: "new", sessionId: "s1" })),
    record(2, userPrompt("again", { uuid: "old", sessionId: "s1" })),
    {
      kind: "reject",
      reject: {
        reject_key: "k",
        source_file: file.path,
        line_number: 3,
        byte_offset: 30,
        error: "bad",
        prefix: "{",
        line_bytes: 1,
      },
    },
    { kind: "file_done", watermark, bytesRead: 40, linesRead: 4, blankLines: 1 },
  ];
  const rows: PackageRow[] = [];
  const options = {
    runId: "r1",
    untilStage: 3,
    seen,
    turns,
    watermarks: new Map(),
    promptStatus: "skipped_no_llm" as const,
    inventory: new Inventory(["/p"], [file]),
  };
  for await (const row of normalise(events(input), options, counts)) rows.push(row);
  assertEquals(rows.map((r) => [r.table, "uuid" in r.row ? r.row.uuid : r.row.run_id]), [
    ["messages", "new"],
    ["rejects", "r1"],
    ["sessions", "r1"],
  ]);
  const message = rows[0].row as { turn: number; correction_status: string };
  assertEquals([message.turn, message.correction_status], [5, "skipped_no_llm"]);
  assertEquals(
    [counts.lines, counts.records, counts.rejects, counts.blank, counts.prompts, counts.clean.duplicates],
    [4, 2, 1, 1, 1, 1],
  );
  assertEquals([...counts.watermarks.values()], [watermark]);
  assertEquals([seen.has("new"), turns.get("s1")], [true, 5]);
});
