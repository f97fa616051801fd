import assert from "node:assert/strict";
import { InputError } from "../errors.ts";
import type { Watermark } from "../schema/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { headHash, loadWatermarks, saveWatermarks } from "./watermarks.ts";

const mark = (path: string, offset: number): Watermark => ({
  path,
  size: offset + 5,
  mtimeMs: 1_700_000_000_000,
  offset,
  lines: 3,
  headHash: "0123456789abcdef",
});

Deno.test("loadWatermarks() returns an empty map when the file does not exist", async () => {
  await using tree = await writeTree({});
  assert.deepEqual(await loadWatermarks(tree.join("state/watermarks.json")), new Map());
});

Deno.test("saveWatermarks() round-trips through loadWatermarks(), creating the directory", async () => {
  await using tree = await writeTree({});
  const path = tree.join("state/deep/watermarks.json");
  await saveWatermarks(path, [mark("/b.jsonl", 20), mark("/a.jsonl", 10)]);
  const loaded = await loadWatermarks(path);
  assert.deepEqual(loaded, new Map([["/a.jsonl", mark("/a.jsonl", 10)], ["/b.jsonl", mark("/b.jsonl", 20)]]));
  // sorted by path on disk, so the file diffs well
  const text = await Deno.readTextFile(path);
  assert.ok(text.indexOf("/a.jsonl") < text.indexOf("/b.jsonl"));
});

Deno.test("saveWatermarks() replaces the file and leaves no temporary file behind", async () => {
  await using tree = await writeTree({});
  const path = tree.join("watermarks.json");
  await saveWatermarks(path, [mark("/a.jsonl", 10)]);
  await saveWatermarks(path, [mark("/a.jsonl", 30)]);
  assert.equal((await loadWatermarks(path)).get("/a.jsonl")?.offset, 30);
  const names = [];
  for await (const entry of Deno.readDir(tree.path)) names.push(entry.name);
  assert.deepEqual(names, ["watermarks.json"]);
});

Deno.test("saveWatermarks() throws InputError when the directory cannot be created", async () => {
  await using tree = await writeTree({ "file": "x" });
  const path = tree.join("file/watermarks.json"); // "file" is a file, not a directory
  await assert.rejects(
    () => saveWatermarks(path, []),
    (error: unknown) =>
      error instanceof InputError &&
      error.message === `Cannot save watermarks to '${path}' as it cannot be written`,
  );
});

Deno.test("loadWatermarks() throws InputError saying a non-JSON file is corrupt", async () => {
  await using tree = await writeTree({ "watermarks.json": '{"version":1,"files":[' });
  await assert.rejects(
    () => loadWatermarks(tree.join("watermarks.json")),
    (error: unknown) => error instanceof InputError && error.message.includes("is corrupt (not JSON)"),
  );
});

Deno.test("loadWatermarks() throws InputError for a wrong shape or an invalid entry", async () => {
  await using tree = await writeTree({
    "shape.json": '{"files":{}}',
    "entry.json": JSON.stringify({ version: 1, files: [{ ...mark("/a", 10), offset: -1 }] }),
    "past-end.json": JSON.stringify({ version: 1, files: [{ ...mark("/a", 10), size: 5 }] }),
  });
  for (const name of ["shape.json", "entry.json", "past-end.json"]) {
    await assert.rejects(
      () => loadWatermarks(tree.join(name)),
      (error: unknown) => error instanceof InputError && error.message.includes("is corrupt"),
      name,
    );
  }
});

Deno.test("headHash() gives 16 hex chars of SHA-256 and differs for different bytes", async () => {
  assert.equal(await headHash(new TextEncoder().encode("abc")), "ba7816bf8f01cfea");
  assert.notEqual(await headHash(new TextEncoder().encode("abd")), "ba7816bf8f01cfea");
});
