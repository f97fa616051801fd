import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { messageRow } from "../testing/rows.ts";
import { writeTree } from "../testing/write_tree.ts";
import type { PackageRow } from "./normalise.ts";
import { stagePackage } from "./stage_package.ts";

async function* rows(items: PackageRow[]): AsyncGenerator<PackageRow> {
  yield* items;
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(path)).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("stagePackage() stages each table, routes prompts, and records what the row guard changed", async () => {
  await using tree = await writeTree({ "run/": "" });
  const prompt = messageRow(0, "r1", { text: "cut \ud83d", timestamp: "+275760-09-13T00:00:00.000Z" });
  const tool = messageRow(1, "r1");
  const reject = {
    reject_key: "k",
    source_file: "/s.jsonl",
    line_number: 1,
    byte_offset: 0,
    error: "bad",
    prefix: "{",
    line_bytes: 1,
    run_id: "r1",
  };
  const pkg = await stagePackage(
    rows([{ table: "messages", row: prompt }, { table: "rejects", row: reject }, {
      table: "messages",
      row: tool,
    }]),
    { runDir: tree.join("run"), prompts: "stage4" },
  );
  assertEquals(
    Object.values(pkg.tables).map((t) => [t.table, t.rows]),
    [["messages", 2], ["usage", 0], ["sessions", 0], ["rejects", 1]],
  );
  assertEquals(pkg.sanitised, { "messages.text": 1, "messages.timestamp": 1 });
  const [staged] = await lines(pkg.tables.messages.path);
  assertEquals([staged.text, staged.timestamp], ["cut \uFFFD", null]);
  assertEquals(staged.extra, {
    note: "n0",
    ccpipe_sanitised: [
      "timestamp: +275760-09-13T00:00:00.000Z is out of range",
      "text: lone surrogate replaced",
    ],
  });
  // Only the typed prompt goes to Stage 4, sanitised.
  assertEquals(await lines(pkg.prompts!.path), [{ uuid: "uuid-0", text: "cut \uFFFD" }]);
  assertEquals(pkg.waiting, null);
});
