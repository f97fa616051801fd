import assert from "node:assert/strict";
import { InputError } from "../errors.ts";
import { denoFileSystem, type FileSystem } from "../io/file_system.ts";
import type { SourceFile } from "../schema/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { compareCodePoints, discover } from "./discover.ts";

Deno.test("discover() lists transcripts of every root sorted by path, subagents included", async () => {
  await using one = await writeTree({
    "proj-b/s2.jsonl": "{}\n",
    "proj-a/s1.jsonl": "{}\n",
    "proj-a/s1/subagents/agent-x.jsonl": "{}\n",
    "proj-a/s1/subagents/agent-x.meta.json": "{}",
  });
  await using two = await writeTree({ "proj-c/s3.jsonl": "{}\n" });
  const files = await discover([two.path, one.path], { fs: denoFileSystem() });
  const expected = [
    one.join("proj-a/s1.jsonl"),
    one.join("proj-a/s1/subagents/agent-x.jsonl"),
    one.join("proj-b/s2.jsonl"),
    two.join("proj-c/s3.jsonl"),
  ].sort(compareCodePoints);
  assert.deepEqual(files.map((f) => f.path), expected);
  assert.equal(files.find((f) => f.path === two.join("proj-c/s3.jsonl"))?.root, two.path);
});

Deno.test("discover() lists a file once when roots overlap", async () => {
  await using tree = await writeTree({ "p/s.jsonl": "{}\n" });
  const files = await discover([tree.path, tree.join("p")], { fs: denoFileSystem() });
  assert.deepEqual(files.map((f) => [f.path, f.root]), [[tree.join("p/s.jsonl"), tree.path]]);
});

Deno.test("discover() returns no files for an empty root", async () => {
  await using tree = await writeTree({ "p/": "" });
  assert.deepEqual(await discover([tree.path], { fs: denoFileSystem() }), []);
});

Deno.test("discover() throws InputError for a missing root or a root that is not a directory", async () => {
  await using tree = await writeTree({ "file.jsonl": "{}\n" });
  await assert.rejects(
    () => discover([tree.path, tree.join("missing")], { fs: denoFileSystem() }),
    (error: unknown) => error instanceof InputError && error.message.includes(tree.join("missing")),
  );
  await assert.rejects(
    () => discover([tree.join("file.jsonl")], { fs: denoFileSystem() }),
    (error: unknown) => error instanceof InputError && error.message.includes("is not a directory"),
  );
});

Deno.test("discover() sorts by code point, not by UTF-16 unit", async () => {
  const file = (path: string): SourceFile => ({ path, root: "/r", size: 0, mtimeMs: 0 });
  const fs: FileSystem = {
    async *walk() {
      yield* [file("/r/\u{1F600}.jsonl"), file("/r/\uFF01.jsonl"), file("/r/a.jsonl")];
    },
    stat: () => Promise.reject(new Error("unused")),
    read: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("unused")) }) }),
    readRange: () => Promise.reject(new Error("unused")),
  };
  const files = await discover(["/r"], { fs });
  assert.deepEqual(files.map((f) => f.path), ["/r/a.jsonl", "/r/\uFF01.jsonl", "/r/\u{1F600}.jsonl"]);
});

Deno.test("compareCodePoints() orders astral characters after U+FFFF and prefixes first", () => {
  assert.ok(compareCodePoints("\u{10000}", "\uFFFF") > 0);
  assert.ok(compareCodePoints("ab", "abc") < 0);
  assert.equal(compareCodePoints("x", "x"), 0);
});
