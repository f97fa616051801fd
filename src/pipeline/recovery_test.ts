// Faults an unattended run meets, each of which used to stop every later run until a person stepped in.
import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { denoFileSystem, type FileSystem } from "../io/file_system.ts";
import { DuckDbSink, openDuckDbSink } from "../sinks/duckdb.ts";
import { duckDbFileLooksCurrent } from "../sinks/duckdb_file.ts";
import type { Sink } from "../sinks/sink.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { type PipelineOptions, runPipeline } from "./run_pipeline.ts";

const fs = denoFileSystem();

function corpus() {
  return {
    "projects/-home-a/s1.jsonl": jsonl([
      userPrompt("fix teh loader", { uuid: "p1", sessionId: "s1" }),
      assistantLine("m1", "r1", { input: 3, output: 5 }, { uuid: "a1", sessionId: "s1" }),
    ]) + "{broken\n",
    "projects/-home-a/s2.jsonl": jsonl([userPrompt("yes", { uuid: "p2", sessionId: "s2" })]),
  };
}

function options(root: string, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  const dataDir = `${root}/data`;
  return {
    sources: [`${root}/projects`],
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    warehouseLooksCurrent: (last) => duckDbFileLooksCurrent(`${dataDir}/ccpipe.duckdb`, last),
    ...extra,
  };
}

async function counts(dataDir: string) {
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  return await db.counts();
}

Deno.test("runPipeline() rebuilds a deleted database from the transcripts and says so", async () => {
  await using tree = await writeTree(corpus());
  const o = options(tree.path);
  assertEquals((await runPipeline(o)).notices, []);
  await Deno.remove(`${o.dataDir}/ccpipe.duckdb`);
  const rebuilt = await runPipeline(o);
  assertEquals(rebuilt.notices, [
    `The warehouse ${o.dataDir}/ccpipe.duckdb does not hold the rows the state says were loaded (deleted, or restored from an older copy): rereading every transcript to rebuild it`,
  ]);
  assertEquals(rebuilt.reconciliation.lines.read, 4);
  assertEquals(await counts(o.dataDir), { messages: 3, usage: 1, sessions: 2, rejects: 1, runs: 1 });
  // Rebuilt once: the next run trusts the warehouse again.
  const next = await runPipeline(o);
  assertEquals([next.status, next.notices], ["nothing_new", []]);
});

Deno.test("runPipeline() opens no warehouse on a rerun with nothing new, but does once a file changed in place", async () => {
  await using tree = await writeTree(corpus());
  let opened = 0;
  const o = options(tree.path);
  const counting = { ...o, openSink: () => (opened++, o.openSink!("")) };
  await runPipeline(counting);
  assertEquals(opened, 1);
  assertEquals((await runPipeline(counting)).status, "nothing_new");
  assertEquals(opened, 1);
  // The same size, other bytes: the sizes said nothing was new, the bytes say otherwise.
  const path = tree.join("projects/-home-a/s2.jsonl");
  await Deno.writeTextFile(path, (await Deno.readTextFile(path)).replace('"yes"', '"no!"'));
  const changed = await runPipeline(counting);
  assertEquals([changed.status, changed.reconciliation.lines.read, opened], ["completed", 1, 2]);
  assertEquals(await counts(o.dataDir), { messages: 3, usage: 1, sessions: 2, rejects: 1, runs: 2 });
});

Deno.test("runPipeline() rebuilds a database restored from a copy older than the state", async () => {
  await using tree = await writeTree(corpus());
  const o = options(tree.path);
  const append = (uuid: string) =>
    Deno.writeTextFile(tree.join("projects/-home-a/s2.jsonl"), jsonl([userPrompt("more", { uuid })]), {
      append: true,
    });
  await runPipeline(o);
  await Deno.copyFile(`${o.dataDir}/ccpipe.duckdb`, tree.join("backup.duckdb"));
  await append("p3");
  await runPipeline(o);
  await Deno.copyFile(tree.join("backup.duckdb"), `${o.dataDir}/ccpipe.duckdb`);
  // With nothing new the warehouse is only looked at, not opened: the restore shows on the next load.
  assertEquals((await runPipeline(o)).notices, []);
  await append("p4");
  const rebuilt = await runPipeline(o);
  assertEquals(rebuilt.notices.length, 1);
  assertEquals(await counts(o.dataDir), { messages: 5, usage: 1, sessions: 2, rejects: 1, runs: 2 });
});

Deno.test("runPipeline() makes the data dir private (0700, files 0600) and prunes old runs and temp files", async () => {
  await using tree = await writeTree({
    ...corpus(),
    ...Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [`data/runs/2020${String(i).padStart(4, "0")}/x`, ""]),
    ),
    "data/state/orphan.1234.tmp": "",
  });
  const o = options(tree.path, { runId: "20990101T000000Z-0000" });
  await Deno.chmod(o.dataDir, 0o755);
  await Deno.utime(`${o.dataDir}/state/orphan.1234.tmp`, 0, 0);
  await runPipeline(o);
  const walk = async (dir: string): Promise<[string, number][]> => {
    const out: [string, number][] = [];
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const mode = (await Deno.stat(path)).mode! & 0o777;
      if (entry.isDirectory) {
        if (!entry.name.startsWith("2020")) out.push([path, mode], ...await walk(path));
      } else out.push([path, mode]);
    }
    return out;
  };
  const modes = await walk(o.dataDir);
  assert(modes.some(([path]) => path.endsWith("ccpipe.duckdb")));
  for (const [path, mode] of modes) {
    const isDir = (await Deno.stat(path)).isDirectory;
    assertEquals(mode, isDir ? 0o700 : 0o600, path);
  }
  assertEquals((await Deno.stat(o.dataDir)).mode! & 0o777, 0o700);
  const runs = [...Deno.readDirSync(`${o.dataDir}/runs`)].map((e) => e.name).sort();
  assertEquals(runs.length, 30);
  assertEquals(runs[0], "20200003");
  assertEquals(runs.at(-1), "20990101T000000Z-0000");
  await assertRejects(() => Deno.stat(`${o.dataDir}/state/orphan.1234.tmp`), Deno.errors.NotFound);
});

Deno.test("runPipeline() honours an interrupt during the load and commits nothing; the rerun completes", async () => {
  await using tree = await writeTree(corpus());
  const controller = new AbortController();
  const interruptOnUsage = async (): Promise<Sink> => {
    const real = await openDuckDbSink(`${tree.path}/data/ccpipe.duckdb`);
    return {
      name: real.name,
      location: real.location,
      prepare: () => real.prepare(),
      load: (staged) => {
        // SIGTERM arrives while the messages table is loading.
        if (staged.table === "messages") controller.abort(new DOMException("Interrupted", "AbortError"));
        return real.load(staged);
      },
      counts: () => real.counts(),
      readMessages: (refs) => real.readMessages(refs),
      holdsRun: (id) => real.holdsRun(id),
      [Symbol.asyncDispose]: () => real[Symbol.asyncDispose](),
    };
  };
  const o = options(tree.path);
  await assertRejects(
    () => runPipeline({ ...o, openSink: interruptOnUsage, signal: controller.signal }),
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
  assertEquals(await counts(o.dataDir), { messages: 3, usage: 0, sessions: 0, rejects: 0, runs: 0 });
  const rerun = await runPipeline(o);
  assertEquals(rerun.reconciliation.lines.read, 4);
  assertEquals(await counts(o.dataDir), { messages: 3, usage: 1, sessions: 2, rejects: 1, runs: 1 });
});

Deno.test("runPipeline() skips a transcript deleted after discovery and a symlink loop in the tree", async () => {
  await using tree = await writeTree(corpus());
  await Deno.symlink("b.jsonl", tree.join("projects/-home-a/a.jsonl"));
  await Deno.symlink("a.jsonl", tree.join("projects/-home-a/b.jsonl"));
  // The file system deletes s2.jsonl just after discover() listed it (Claude Code's own cleanup, say).
  const deleting: FileSystem = {
    ...fs,
    async *walk(root) {
      for await (const file of fs.walk(root)) yield file;
      await Deno.remove(tree.join("projects/-home-a/s2.jsonl"));
    },
  };
  const summary = await runPipeline(options(tree.path, { fs: deleting }));
  assertEquals(summary.status, "completed");
  // Both were listed; the deleted one is skipped without a line read (3 lines are s1's).
  assertEquals([summary.files, summary.reconciliation.lines.read], [2, 3]);
  assertEquals(await counts(`${tree.path}/data`), {
    messages: 2,
    usage: 1,
    sessions: 1,
    rejects: 1,
    runs: 1,
  });
});

Deno.test("runPipeline() over a moved transcript adds no reject row and no session twice", async () => {
  await using tree = await writeTree(corpus());
  const o = options(tree.path);
  await runPipeline(o);
  await Deno.mkdir(tree.join("projects/-home-moved"));
  await Deno.rename(tree.join("projects/-home-a/s1.jsonl"), tree.join("projects/-home-moved/s1.jsonl"));
  const moved = await runPipeline(o);
  assertEquals(moved.reconciliation.records.duplicates, 2);
  assertEquals(await counts(o.dataDir), { messages: 3, usage: 1, sessions: 2, rejects: 1, runs: 2 });
});

Deno.test("runPipeline() keeps a numeric uuid as an invalid record, not a record without uuid", async () => {
  await using tree = await writeTree({
    "projects/-home-a/s1.jsonl":
      '{"type":"user","uuid":42,"sessionId":"s1","message":{"role":"user","content":"x"}}\n',
  });
  const summary = await runPipeline(options(tree.path));
  assertEquals([summary.reconciliation.records.invalid, summary.reconciliation.records.withoutUuid], [1, 0]);
  await using db = await DuckDbSink.open({ path: `${tree.path}/data/ccpipe.duckdb` });
  const [reject] = await db.query("SELECT error FROM rejects");
  assertEquals(
    reject.error,
    "Record does not match the transcript envelope: uuid: Invalid input: expected string, received number",
  );
});
