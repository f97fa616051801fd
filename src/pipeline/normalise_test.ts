import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { denoFileSystem } from "../io/file_system.ts";
import { LOCAL_MACHINE } from "../io/machine.ts";
import type { MessageRow } from "../schema/mod.ts";
import { Inventory } from "../stages/inventory.ts";
import { FingerprintSet } from "../state/fingerprint_set.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { createRunCounts, normalise, type PackageRow } from "./normalise.ts";
import { type PreparedChunk, prepareFile } from "./prepare.ts";

const options = {
  runId: "r1",
  untilStage: 3,
  promptStatus: "skipped_no_llm" as const,
  machine: LOCAL_MACHINE,
  withText: false,
};

async function* prepared(path: string, size: number, untilStage = 3): AsyncGenerator<PreparedChunk> {
  const file = { path, root: "/", size, mtimeMs: 0 };
  yield* prepareFile(
    file,
    0,
    undefined,
    denoFileSystem(),
    { ...options, untilStage },
    new Inventory([], [file]),
  );
}

/** The `messages` rows a package holds, parsed back from its blocks. */
function messagesOf(rows: PackageRow[]): MessageRow[] {
  const decoder = new TextDecoder();
  return rows.flatMap((r) =>
    "block" in r ? decoder.decode(r.block.bytes).trimEnd().split("\n").map((line) => JSON.parse(line)) : []
  );
}

Deno.test("normalise() merges a prepared file into rows: dedupes, numbers turns, counts every line", async () => {
  const text = jsonl([
    userPrompt("fix teh bug", { uuid: "new", sessionId: "s1" }),
    assistantLine("m1", "q1", { input: 3, output: 5 }, { uuid: "a1", sessionId: "s1" }),
    assistantLine("m1", "q1", { input: 3, output: 5 }, { uuid: "a2", sessionId: "s1" }),
    userPrompt("again", { uuid: "old", sessionId: "s1" }),
  ]) + "{not json\n\n" + jsonl([userPrompt("more", { uuid: "new2", sessionId: "s1" })]);
  await using tree = await writeTree({ "p/s1.jsonl": text });
  const seen = new FingerprintSet(16);
  seen.add("old"); // loaded by an earlier run
  const turns = new Map([["s1", 4]]);
  const counts = createRunCounts(new Map());
  const rows: PackageRow[] = [];
  const path = tree.join("p/s1.jsonl");
  const state = { runId: "r1", untilStage: 3, seen, turns };
  for await (const row of normalise(prepared(path, text.length), state, counts)) {
    // A block's bytes are reused by the next one: keep a copy.
    rows.push("block" in row ? { ...row, block: { ...row.block, bytes: row.block.bytes.slice() } } : row);
  }

  assertEquals(rows.map((r) => r.table), [
    "messages",
    "prompt",
    "rejects",
    "messages",
    "prompt",
    "usage",
    "sessions",
  ]);
  const messages = messagesOf(rows);
  assertEquals(messages.map((m) => [m.uuid, m.turn, m.kind]), [
    ["new", 5, "human_prompt"],
    ["a1", 5, "assistant_text"],
    ["a2", 5, "assistant_text"],
    ["new2", 6, "human_prompt"],
  ]);
  assertEquals(messages[0].machine_id, "local");
  const prompts = rows.flatMap((r) => r.table === "prompt" ? [r.row] : []);
  assertEquals(prompts.map((p) => [p.uuid, p.turn, p.correction_status]), [
    ["new", 5, "skipped_no_llm"],
    ["new2", 6, "skipped_no_llm"],
  ]);
  const usage = rows.flatMap((r) => r.table === "usage" ? [r.row] : []);
  assertEquals(usage.map((u) => [u.usage_key, u.total_tokens, u.source_uuid]), [["m1:q1", 8, "a1"]]);
  const session = rows.flatMap((r) => r.table === "sessions" ? [r.row] : [])[0];
  assertEquals([session.message_count, session.human_prompt_count, session.assistant_count], [4, 2, 2]);
  assertEquals(
    [counts.lines, counts.records, counts.rejects, counts.blank, counts.prompts, counts.clean.duplicates],
    [7, 5, 1, 1, 2, 1],
  );
  assertEquals([...counts.watermarks.values()].map((w) => [w.path, w.offset]), [[path, text.length]]);
  assertEquals([seen.has("new"), seen.has("new2"), turns.get("s1")], [true, true, 6]);
});

Deno.test("normalise() before Stage 3 counts records and usage but writes no messages", async () => {
  const text = jsonl([userPrompt("hi", { uuid: "u1" }), assistantLine("m1", null, { input: 1, output: 1 })]);
  await using tree = await writeTree({ "s.jsonl": text });
  const counts = createRunCounts(new Map());
  const rows: PackageRow[] = [];
  const state = { runId: "r1", untilStage: 2, seen: new FingerprintSet(16), turns: new Map() };
  for await (const row of normalise(prepared(tree.join("s.jsonl"), text.length, 2), state, counts)) {
    rows.push(row);
  }
  assertEquals(rows.map((r) => r.table), ["usage"]);
  assertEquals([counts.records, counts.prompts, counts.clean.unique], [2, 0, 2]);
});
