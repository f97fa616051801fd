import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { denoFileSystem } from "../io/file_system.ts";
import type { MessageRow } from "../schema/mod.ts";
import { Inventory } from "../stages/inventory.ts";
import { FingerprintSet } from "../state/fingerprint_set.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { createRunCounts, normalise } from "./normalise.ts";
import { type PreparedChunk, prepareFile } from "./prepare.ts";

const machine = { machine_id: "m-1", user_label: "dana" };

/** A session whose project path and texts are far past ASCII, so UTF-8 offsets differ from UTF-16 ones. */
function transcript(): string {
  const records: unknown[] = [];
  for (let i = 0; i < 40; i++) {
    const cwd = `/home/zoë/プロジェクト-${i % 3}/🚀`;
    records.push(
      userPrompt(`prompt ${i} — naïve café ${"ж".repeat(i)}`, { uuid: `p${i}`, sessionId: "s", cwd }),
    );
    records.push(
      assistantLine(`m${i}`, `q${i}`, { input: i, output: 2 * i }, { uuid: `a${i}`, sessionId: "s", cwd }),
    );
  }
  return jsonl(records);
}

async function rowsOf(
  path: string,
  chunkBytes: number,
  ownBytes: boolean,
): Promise<{ rows: MessageRow[]; chunks: number }> {
  const file = { path, root: "/", size: (await Deno.stat(path)).size, mtimeMs: 0 };
  const options = {
    runId: "r",
    untilStage: 3,
    promptStatus: "pending" as const,
    machine,
    withText: false,
    ownBytes,
    chunkBytes,
  };
  let chunks = 0;
  async function* counted(): AsyncGenerator<PreparedChunk> {
    for await (
      const chunk of prepareFile(file, 0, undefined, denoFileSystem(), options, new Inventory([], []))
    ) {
      chunks++;
      yield chunk;
    }
  }
  const state = { runId: "r", untilStage: 3, seen: new FingerprintSet(16), turns: new Map([["s", 7]]) };
  const decoder = new TextDecoder();
  const rows: MessageRow[] = [];
  for await (const item of normalise(counted(), state, createRunCounts(new Map()))) {
    if ("block" in item) {
      for (const line of decoder.decode(item.block.bytes).trimEnd().split("\n")) rows.push(JSON.parse(line));
    }
  }
  return { rows, chunks };
}

Deno.test("prepareFile() and normalise() write each row's turn in place, past non-ASCII text, in one chunk or many", async () => {
  await using tree = await writeTree({ "s.jsonl": transcript() });
  const path = tree.join("s.jsonl");
  const whole = await rowsOf(path, 4 << 20, false);
  assertEquals(whole.chunks, 1);
  assertEquals(whole.rows.length, 80);
  // The earlier runs left the session at turn 7: prompt i opens turn 8 + i, its answer stays in it.
  assertEquals(whole.rows.map((r) => r.turn), Array.from({ length: 80 }, (_, i) => 8 + (i >> 1)));
  assertEquals(whole.rows[3].project, "/home/zoë/プロジェクト-1/🚀");
  assertEquals([whole.rows[0].machine_id, whole.rows[0].user_label], ["m-1", "dana"]);
  // Keys in the order of the row built in one piece.
  assertEquals(Object.keys(whole.rows[0]).slice(6, 9), ["project", "turn", "timestamp"]);
  for (const [chunkBytes, ownBytes] of [[500, false], [500, true], [1, false]] as const) {
    const split = await rowsOf(path, chunkBytes, ownBytes);
    assertEquals(split.chunks > 10, true, `chunkBytes ${chunkBytes}`);
    assertEquals(split.rows, whole.rows);
  }
});
