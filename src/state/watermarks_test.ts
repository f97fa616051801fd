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

Deno.test("loadWatermarks() refuses each kind of invalid entry and keeps only the known fields", async () => {
  const valid = mark("/a.jsonl", 10);
  const invalid: Record<string, unknown> = {
    "null entry": null,
    "string entry": "/a.jsonl",
    "numeric path": { ...valid, path: 7 },
    "fractional size": { ...valid, size: 10.5 },
    "negative size": { ...valid, size: -1 },
    "string mtime": { ...valid, mtimeMs: "1" },
    "null mtime": { ...valid, mtimeMs: null },
    "fractional offset": { ...valid, offset: 1.5 },
    "negative lines": { ...valid, lines: -1 },
    "fractional lines": { ...valid, lines: 0.5 },
    "numeric head hash": { ...valid, headHash: 5 },
    "offset past the size": { ...valid, offset: 16 },
  };
  await using tree = await writeTree({});
  for (const [name, entry] of Object.entries(invalid)) {
    const path = tree.join(`${name}.json`);
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, files: [valid, entry] }));
    await assert.rejects(
      () => loadWatermarks(path),
      (error: unknown) =>
        error instanceof InputError &&
        error.message ===
          `Cannot load watermarks from '${path}' as the file is corrupt (invalid entry): delete it to reread every file`,
      name,
    );
  }
  // Edges that are valid: offset equal to the size, zero counts, a fractional mtime; unknown fields dropped.
  const edge = { ...valid, size: 10, offset: 10, lines: 0, mtimeMs: 0.5, note: "x" };
  const path = tree.join("edge.json");
  await Deno.writeTextFile(path, JSON.stringify({ version: 1, files: [edge] }));
  assert.deepEqual(
    await loadWatermarks(path),
    new Map([["/a.jsonl", {
      path: "/a.jsonl",
      size: 10,
      mtimeMs: 0.5,
      offset: 10,
      lines: 0,
      headHash: valid.headHash,
    }]]),
  );
});

Deno.test("loadWatermarks() names the shape it refuses: null, another version, no file list", async () => {
  await using tree = await writeTree({
    "null.json": "null",
    "number.json": "42",
    "v2.json": JSON.stringify({ version: 2, files: [] }),
    "no-files.json": JSON.stringify({ version: 1 }),
  });
  for (const name of ["null.json", "number.json", "v2.json", "no-files.json"]) {
    const path = tree.join(name);
    await assert.rejects(
      () => loadWatermarks(path),
      (error: unknown) =>
        error instanceof InputError &&
        error.message ===
          `Cannot load watermarks from '${path}' as the file is corrupt (unexpected shape): delete it to reread every file`,
      name,
    );
  }
});

Deno.test("loadWatermarks() explains a file it cannot read, keeping the cause", async () => {
  await using tree = await writeTree({ "watermarks.json/": "" });
  const path = tree.join("watermarks.json");
  await assert.rejects(
    () => loadWatermarks(path),
    (error: unknown) =>
      error instanceof InputError &&
      error.message === `Cannot load watermarks from '${path}' as it cannot be read` &&
      error.cause instanceof Error,
  );
  await Deno.writeTextFile(tree.join("bad.json"), "{");
  await assert.rejects(
    () => loadWatermarks(tree.join("bad.json")),
    (error: unknown) => error instanceof InputError && error.cause instanceof SyntaxError,
  );
});

Deno.test("saveWatermarks() writes entries sorted by path, one key per line", async () => {
  await using tree = await writeTree({});
  const path = tree.join("watermarks.json");
  await saveWatermarks(path, ["/d", "/a", "/f", "/c", "/e", "/b"].map((p) => mark(p, 1)));
  const text = await Deno.readTextFile(path);
  assert.deepEqual(JSON.parse(text).files.map((f: Watermark) => f.path), [
    "/a",
    "/b",
    "/c",
    "/d",
    "/e",
    "/f",
  ]);
  assert.ok(text.startsWith('{\n "version": 1,\n "files": [\n  {\n   "path": "/a",\n'));
  assert.ok(text.endsWith("}\n"));
});

Deno.test("saveWatermarks() keeps the write error as the cause", async () => {
  await using tree = await writeTree({ "file": "x" });
  await assert.rejects(
    () => saveWatermarks(tree.join("file/watermarks.json"), []),
    (error: unknown) => error instanceof InputError && error.cause instanceof Error,
  );
});
