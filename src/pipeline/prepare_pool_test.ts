import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { InputError } from "../errors.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { LOCAL_MACHINE } from "../io/machine.ts";
import type { SourceFile } from "../schema/mod.ts";
import { Inventory } from "../stages/inventory.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import type { PreparedChunk } from "./prepare.ts";
import { preparedChunks, type PrepareSource } from "./prepare_pool.ts";

const options = {
  runId: "r1",
  untilStage: 3,
  promptStatus: "skipped_no_llm" as const,
  machine: LOCAL_MACHINE,
  withText: true,
};

/** Transcripts of varied sizes, some with bad lines, a few non-ASCII. */
function transcripts(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let f = 0; f < count; f++) {
    const records: unknown[] = [];
    for (let i = 0; i < (f * 7) % 23 + 1; i++) {
      records.push(
        userPrompt(`prompt ${f}.${i} ${"é".repeat(f % 3)}`, { sessionId: `s${f % 4}`, cwd: `/p/ü${f}` }),
      );
      records.push(assistantLine(`m${f}.${i}`, `q${i}`, { input: i, output: f }, { sessionId: `s${f % 4}` }));
    }
    files[`proj/s${f}.jsonl`] = jsonl(records) + (f % 5 === 0 ? "{broken\n" : "");
  }
  return files;
}

async function sourceOf(root: string, threads: number): Promise<PrepareSource> {
  const fs = denoFileSystem();
  const files: SourceFile[] = [];
  for await (const file of fs.walk(root)) files.push(file);
  files.sort((a, b) => a.path < b.path ? -1 : 1);
  return {
    files,
    watermarks: new Map(),
    fs,
    options,
    inventory: new Inventory([root], files),
    progress: { fileStarted() {}, bytesRead() {}, fileDone() {} },
    threads,
  };
}

/** A chunk as plain data (typed arrays and bytes as lists), to compare across threads. */
function plain(chunk: PreparedChunk): unknown {
  return { ...chunk, ints: [...chunk.ints], bytes: new TextDecoder().decode(chunk.bytes) };
}

Deno.test("preparedChunks() on workers gives the chunks and the inventory of one thread, in file order", async () => {
  await using tree = await writeTree(transcripts(40));
  const results = [];
  for (const threads of [0, 1, 3]) {
    const source = await sourceOf(tree.path, threads);
    const started: string[] = [];
    source.progress = { fileStarted: (path) => started.push(path), bytesRead() {}, fileDone() {} };
    const chunks = [];
    for await (const chunk of preparedChunks(source)) chunks.push(plain(chunk));
    const manifest = source.inventory.manifest(new Date(0));
    assertEquals(started, source.files.map((f) => f.path));
    results.push({ chunks, manifest });
  }
  assertEquals(results[1], results[0]);
  assertEquals(results[2], results[0]);
});

Deno.test("preparedChunks() on workers fails with the worker's error, as the class the exit code needs", async () => {
  await using tree = await writeTree(transcripts(6));
  const source = await sourceOf(tree.path, 2);
  // A directory where a transcript was: reading it fails in a worker.
  await Deno.remove(source.files[3]!.path);
  await Deno.mkdir(source.files[3]!.path);
  await rejects(async () => {
    for await (const _ of preparedChunks(source)) { /* drain */ }
  }, (error: Error) => error instanceof InputError && error.message.includes(source.files[3]!.path));
});

Deno.test("preparedChunks() on workers stops when the run is aborted", async () => {
  await using tree = await writeTree(transcripts(30));
  const source = await sourceOf(tree.path, 2);
  const controller = new AbortController();
  source.signal = controller.signal;
  let seen = 0;
  await rejects(async () => {
    for await (const _ of preparedChunks(source)) if (++seen === 2) controller.abort(new Error("stop"));
  }, /stop/);
  assertEquals(seen, 2);
});
