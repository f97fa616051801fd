import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { writeTree } from "../testing/write_tree.ts";
import { messageRow } from "../testing/rows.ts";
import type { MessageRow } from "../schema/mod.ts";
import {
  type PendingRef,
  queueHoldsText,
  readPendingQueue,
  resolvePendingQueue,
  writePendingQueue,
} from "./pending_queue.ts";

const ndjson = (rows: unknown[]) => rows.map((row) => JSON.stringify(row) + "\n").join("");

Deno.test("writePendingQueue() turns whole rows into references with a warehouse and keeps them without", async () => {
  const row = messageRow(0, "r1", { uuid: "a", text: "AKIA secret" });
  await using tree = await writeTree({
    "old.ndjson": ndjson([row, { uuid: "b", event_date: null }]),
    "new.ndjson": ndjson([messageRow(2, "r2", { uuid: "c", event_date: "2026-01-03" })]),
  });
  assertEquals(await queueHoldsText(tree.join("old.ndjson")), true);
  const sources = [tree.join("old.ndjson"), null, tree.join("new.ndjson")];
  assertEquals(await writePendingQueue(tree.join("refs.ndjson"), sources, { refs: true }), 3);
  assertEquals(
    await Deno.readTextFile(tree.join("refs.ndjson")),
    '{"uuid":"a","event_date":"2026-08-10"}\n{"uuid":"b","event_date":null}\n{"uuid":"c","event_date":"2026-01-03"}\n',
  );
  assertEquals(await queueHoldsText(tree.join("refs.ndjson")), false);
  assertEquals((await Deno.stat(tree.join("refs.ndjson"))).mode! & 0o777, 0o600);
  assertEquals(await writePendingQueue(tree.join("rows.ndjson"), sources, { refs: false }), 3);
  const kept = await Array.fromAsync(readPendingQueue(tree.join("rows.ndjson")));
  assertEquals(kept[0], row);
  assertEquals(kept[1], { uuid: "b", event_date: null });
  assertEquals(await queueHoldsText(null), false);
});

Deno.test("writePendingQueue() without references copies each entry's line as it is, blank lines dropped", async () => {
  const long = JSON.stringify(messageRow(0, "r1", { uuid: "a", text: "é".repeat(700_000) }));
  await using tree = await writeTree({
    "a.ndjson": `${long}\n\n{"uuid":"b","event_date":null}`,
    "b.ndjson": '{"uuid":"c", "event_date":"2026-01-03"}\n',
  });
  const target = tree.join("out.ndjson");
  const written = await writePendingQueue(target, [tree.join("a.ndjson"), tree.join("b.ndjson")], {
    refs: false,
  });
  assertEquals(written, 3);
  assertEquals(
    await Deno.readTextFile(target),
    `${long}\n{"uuid":"b","event_date":null}\n{"uuid":"c", "event_date":"2026-01-03"}\n`,
  );
});

Deno.test("resolvePendingQueue() reads references back in batches and reports the ones it cannot resolve", async () => {
  const whole = messageRow(0, "r1", { uuid: "w" });
  const refs = ["a", "b", "gone", "c"].map((uuid) => ({ uuid, event_date: "2026-08-10" }));
  await using tree = await writeTree({ "q.ndjson": ndjson([refs[0], whole, ...refs.slice(1)]) });
  const batches: string[][] = [];
  const read = (batch: PendingRef[]): Promise<MessageRow[]> => {
    batches.push(batch.map((ref) => ref.uuid));
    // The warehouse answers in its own order and lacks "gone".
    return Promise.resolve(
      batch.filter((ref) => ref.uuid !== "gone").reverse().map((ref) =>
        messageRow(1, "r1", { uuid: ref.uuid })
      ),
    );
  };
  const unresolved: string[] = [];
  const rows = resolvePendingQueue(tree.join("q.ndjson"), {
    read,
    batchSize: 2,
    onUnresolved: (ref) => void unresolved.push(ref.uuid),
  });
  assertEquals((await Array.fromAsync(rows)).map((row) => row.uuid), ["w", "a", "b", "c"]);
  assertEquals(batches, [["a", "b"], ["gone", "c"]]);
  assertEquals(unresolved, ["gone"]);

  // Without a warehouse, whole rows still come back and every reference is left for later.
  const left: string[] = [];
  const alone = resolvePendingQueue(tree.join("q.ndjson"), {
    read: null,
    onUnresolved: (ref) => void left.push(ref.uuid),
  });
  assertEquals((await Array.fromAsync(alone)).map((row) => row.uuid), ["w"]);
  assertEquals(left, ["a", "b", "gone", "c"]);
});
