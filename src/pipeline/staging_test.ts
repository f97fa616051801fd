import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { writeTree } from "../testing/write_tree.ts";
import { NdjsonWriter, readNdjson } from "./staging.ts";

const machine = { machine_id: "m-1", user_label: "dana" };
const utf8 = (text: string) => new TextEncoder().encode(text).length;

Deno.test("NdjsonWriter stamps each row, keeps order across blocks and flushes, and sizes its longest row exactly", async () => {
  await using tree = await writeTree({});
  const path = tree.join("t.ndjson");
  const small = { uuid: "a", text: "naïve café" };
  // Longer than a flush's worth, and three UTF-8 bytes per code unit: the buffer must grow for it.
  const huge = { uuid: "b", text: "€".repeat(600_000) };
  const stamped = { uuid: "c", machine_id: "other", user_label: null };
  const block = new TextEncoder().encode('{"uuid":"x"}\n{"uuid":"y"}\n');
  const writer = await NdjsonWriter.create(path, machine);
  await writer.write(small);
  await writer.writeBlock(block, 2, 12);
  await writer.write(huge);
  for (let i = 0; i < 3000; i++) await writer.write({ uuid: `r${i}`, text: "x".repeat(500) });
  await writer.write(stamped);
  const staged = await writer.close("messages");

  const lines = (await Deno.readTextFile(path)).split("\n");
  assertEquals(lines.pop(), "");
  assertEquals(lines.length, 3005);
  assertEquals(JSON.parse(lines[0]!), { ...small, ...machine });
  assertEquals(lines.slice(1, 3), ['{"uuid":"x"}', '{"uuid":"y"}']);
  assertEquals(JSON.parse(lines[3]!), { ...huge, ...machine });
  assertEquals(JSON.parse(lines[1003]!), { uuid: "r999", text: "x".repeat(500), ...machine });
  // The row's own machine columns give way to the writer's.
  assertEquals(JSON.parse(lines[3004]!), { uuid: "c", ...machine });
  assertEquals(staged.rows, 3005);
  assertEquals(staged.bytes, (await Deno.stat(path)).size);
  assertEquals(staged.maxRowBytes, utf8(lines[3]!));
  assertEquals((await Array.fromAsync(readNdjson(path))).length, 3005);
});

Deno.test("NdjsonWriter without a stamp writes rows as they are, serialised ones too; close() twice gives the same result", async () => {
  await using tree = await writeTree({});
  const path = tree.join("t.ndjson");
  const writer = await NdjsonWriter.create(path);
  await writer.write({ b: 1, a: [null, "\u{1F600}"] });
  writer.writeLine(new TextEncoder().encode('{"as":"is"}'));
  const first = await writer.close("runs");
  assertEquals(await Deno.readTextFile(path), '{"b":1,"a":[null,"\u{1F600}"]}\n{"as":"is"}\n');
  assertEquals(first, { table: "runs", path, rows: 2, bytes: 38, maxRowBytes: 25 });
  assertEquals(await writer.close("runs"), first);
});
