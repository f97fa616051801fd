import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { SinkError } from "../errors.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { DuckDbSink, openDuckDbSink } from "../sinks/duckdb.ts";
import type { Sink } from "../sinks/sink.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { runPipeline } from "./run_pipeline.ts";

const fs = denoFileSystem();

function baseTree() {
  const p1 = userPrompt("fix teh loader", { uuid: "p1", sessionId: "s1" });
  const a1 = assistantLine("msg_1", "req_1", { input: 4, output: 9 }, { uuid: "a1", sessionId: "s1" });
  const a2 = assistantLine("msg_1", "req_1", { input: 4, output: 212 }, { uuid: "a2", sessionId: "s1" });
  const p2 = userPrompt("yes", { uuid: "p2", sessionId: "s1" });
  // A resumed session repeats the first two records of s1 (same uuids) and continues.
  const resumed = [
    { ...p1, sessionId: "s2" },
    { ...a1, sessionId: "s2" },
    userPrompt("continue", { uuid: "p3", sessionId: "s2" }),
  ];
  return {
    "projects/-home-a-proj/s1.jsonl": jsonl([p1, a1, a2, p2]) + '{"type":"user","uuid":"x","mess\n\n',
    "projects/-home-a-proj/s2.jsonl": jsonl(resumed) +
      jsonl([{ type: "ai-title", aiTitle: "Loader fixes", sessionId: "s2" }]),
  };
}

async function counts(dbPath: string): Promise<Record<string, number>> {
  await using sink = await openDuckDbSink(dbPath);
  return await sink.counts();
}

Deno.test("runPipeline() reconciles every line and loads deduplicated tables", async () => {
  await using tree = await writeTree(baseTree());
  const dataDir = tree.join("data");
  const summary = await runPipeline({
    sources: [tree.join("projects")],
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    runId: "run-1",
  });
  const r = summary.reconciliation;
  assertEquals(r.lines, { read: 10, records: 8, rejects: 1, blank: 1, glued: 0, balanced: true });
  assertEquals(r.records, {
    ran: true,
    parsed: 8,
    unique: 5,
    duplicates: 2,
    withoutUuid: 1,
    invalid: 0,
    balanced: true,
  });
  assertEquals([r.prompts.total, r.prompts.skipped, r.prompts.balanced], [3, 3, true]);
  assertEquals(summary.status, "completed");
  assertEquals(await counts(`${dataDir}/ccpipe.duckdb`), {
    messages: 5,
    usage: 1,
    sessions: 2,
    rejects: 1,
    runs: 1,
  });
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const usage = await db.query("SELECT usage_key, output_tokens FROM usage");
  assertEquals(usage, [{ usage_key: "msg_1:req_1", output_tokens: "212" }]);
  const sessions = await db.query(
    "SELECT session_id, message_count, human_prompt_count, title FROM sessions ORDER BY session_id",
  );
  assertEquals(sessions, [
    { session_id: "s1", message_count: "4", human_prompt_count: "2", title: null },
    { session_id: "s2", message_count: "1", human_prompt_count: "1", title: "Loader fixes" },
  ]);
  const turns = await db.query(
    "SELECT uuid, turn FROM messages WHERE session_id = 's1' ORDER BY source_line",
  );
  assertEquals(turns.map((t) => t.turn), ["1", "1", "1", "2"]);
});

Deno.test("runPipeline() twice over the same input adds no row to any data table", async () => {
  await using tree = await writeTree(baseTree());
  const dataDir = tree.join("data");
  const options = {
    sources: [tree.join("projects")],
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
  };
  await runPipeline(options);
  const before = await counts(`${dataDir}/ccpipe.duckdb`);
  const second = await runPipeline(options);
  const after = await counts(`${dataDir}/ccpipe.duckdb`);
  assertEquals(second.reconciliation.lines.read, 0);
  assertEquals(second.status, "nothing_new");
  assertEquals(after, before);
});

Deno.test("runPipeline() reads only appended bytes and completes a pending last line", async () => {
  await using tree = await writeTree(baseTree());
  const dataDir = tree.join("data");
  const file = tree.join("projects/-home-a-proj/s2.jsonl");
  const half = JSON.stringify(userPrompt("wich file?", { uuid: "p4", sessionId: "s2" }));
  await Deno.writeTextFile(file, half.slice(0, 20), { append: true });
  const options = {
    sources: [tree.join("projects")],
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
  };
  const first = await runPipeline(options);
  assertEquals(first.reconciliation.lines.rejects, 1);
  await Deno.writeTextFile(file, half.slice(20) + "\n", { append: true });
  const second = await runPipeline(options);
  assertEquals(second.reconciliation.lines, {
    read: 1,
    records: 1,
    rejects: 0,
    blank: 0,
    glued: 0,
    balanced: true,
  });
  assertEquals(second.reconciliation.records.unique, 1);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const [row] = await db.query("SELECT turn, text FROM messages WHERE uuid = 'p4'");
  assertEquals(row, { turn: "2", text: "wich file?" });
});

Deno.test("runPipeline() after a failed load reruns to the same rows as an uninterrupted run", async () => {
  await using tree = await writeTree(baseTree());
  const failingDir = tree.join("failing");
  const cleanDir = tree.join("clean");
  const failOnUsage = async (): Promise<Sink> => {
    const real = await openDuckDbSink(`${failingDir}/ccpipe.duckdb`);
    return {
      name: real.name,
      location: real.location,
      prepare: () => real.prepare(),
      load: (staged) =>
        staged.table === "usage" ? Promise.reject(new SinkError("disk full")) : real.load(staged),
      counts: () => real.counts(),
      readMessages: (refs) => real.readMessages(refs),
      [Symbol.asyncDispose]: () => real[Symbol.asyncDispose](),
    };
  };
  const sources = [tree.join("projects")];
  await assertRejects(
    () => runPipeline({ sources, dataDir: failingDir, fs, openSink: failOnUsage, runId: "failed-run" }),
    SinkError,
  );
  const left = [...Deno.readDirSync(`${failingDir}/runs/failed-run`)].map((e) => e.name);
  assertEquals(left.filter((name) => name.endsWith(".ndjson")), []);
  await runPipeline({
    sources,
    dataDir: failingDir,
    fs,
    openSink: () => openDuckDbSink(`${failingDir}/ccpipe.duckdb`),
  });
  await runPipeline({
    sources,
    dataDir: cleanDir,
    fs,
    openSink: () => openDuckDbSink(`${cleanDir}/ccpipe.duckdb`),
  });
  // Written by hand from baseTree(): the failed run's messages were merged again, not added twice.
  const expected = { messages: 5, usage: 1, sessions: 2, rejects: 1, runs: 1 };
  assertEquals(await counts(`${failingDir}/ccpipe.duckdb`), expected);
  assertEquals(await counts(`${cleanDir}/ccpipe.duckdb`), expected);
  const q = "SELECT uuid, session_id, kind, turn FROM messages ORDER BY uuid";
  const rows = [
    { uuid: "a1", session_id: "s1", kind: "assistant_text", turn: "1" },
    { uuid: "a2", session_id: "s1", kind: "assistant_text", turn: "1" },
    { uuid: "p1", session_id: "s1", kind: "human_prompt", turn: "1" },
    { uuid: "p2", session_id: "s1", kind: "human_prompt", turn: "2" },
    { uuid: "p3", session_id: "s2", kind: "human_prompt", turn: "1" },
  ];
  await using dbA = await DuckDbSink.open({ path: `${failingDir}/ccpipe.duckdb` });
  await using dbB = await DuckDbSink.open({ path: `${cleanDir}/ccpipe.duckdb` });
  assertEquals(await dbA.query(q), rows);
  assertEquals(await dbB.query(q), rows);
});

Deno.test("runPipeline() with no sink stages NDJSON files and still advances state", async () => {
  await using tree = await writeTree(baseTree());
  const dataDir = tree.join("data");
  const summary = await runPipeline({ sources: [tree.join("projects")], dataDir, fs, openSink: null });
  assertEquals(summary.status, "staged");
  const messages = summary.staged.find((s) => s.table === "messages");
  assert(messages && messages.rows === 5);
  const lines = (await Deno.readTextFile(messages.path)).trim().split("\n");
  assertEquals(lines.length, 5);
});

Deno.test("runPipeline() refuses a source tree with no transcripts", async () => {
  await using tree = await writeTree({ "projects/": "" });
  await assertRejects(
    () => runPipeline({ sources: [tree.join("projects")], dataDir: tree.join("d"), fs, openSink: null }),
    /No Claude Code transcripts/,
  );
});

Deno.test("runPipeline() gives the same ids whether files arrive in one run or over several", async () => {
  const files = baseTree();
  const [first, second] = Object.keys(files);
  await using tree = await writeTree(files);
  await using split = await writeTree({ [first]: files[first as keyof typeof files] });
  const ids = async (dataDir: string) => {
    await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
    return await db.query(
      "SELECT uuid, message_key, session_id, project_id, parent_uuid FROM messages ORDER BY uuid",
    );
  };
  const together = tree.join("data");
  await runPipeline({
    sources: [tree.join("projects")],
    dataDir: together,
    fs,
    openSink: () => openDuckDbSink(`${together}/ccpipe.duckdb`),
  });
  // The second file arrives in a later run.
  const apart = split.join("data");
  const options = {
    sources: [split.join("projects")],
    dataDir: apart,
    fs,
    openSink: () => openDuckDbSink(`${apart}/ccpipe.duckdb`),
  };
  await runPipeline(options);
  await Deno.mkdir(split.join("projects/-home-a-proj"), { recursive: true });
  await Deno.writeTextFile(split.join(second), files[second as keyof typeof files]);
  await runPipeline(options);
  // Pinned by hand: message_key is the uuid's 64-bit fingerprint, project_id a hash of the cwd; a
  // change to either would re-key every row users already have.
  const expected = [
    {
      uuid: "a1",
      message_key: "1c24b8a77efa5ffd",
      session_id: "s1",
      project_id: "0076b6e95a06",
      parent_uuid: null,
    },
    {
      uuid: "a2",
      message_key: "1d24ba3a92717a27",
      session_id: "s1",
      project_id: "0076b6e95a06",
      parent_uuid: null,
    },
    {
      uuid: "p1",
      message_key: "a04ed67ae466a5a9",
      session_id: "s1",
      project_id: "0076b6e95a06",
      parent_uuid: null,
    },
    {
      uuid: "p2",
      message_key: "9f4ed4e7d0f0114b",
      session_id: "s1",
      project_id: "0076b6e95a06",
      parent_uuid: null,
    },
    {
      uuid: "p3",
      message_key: "9e4ed3542cc3c3ba",
      session_id: "s2",
      project_id: "0076b6e95a06",
      parent_uuid: null,
    },
  ];
  assertEquals(await ids(together), expected);
  assertEquals(await ids(apart), expected);
});

Deno.test("runPipeline() stopped after Stage 0 or 1 still reads every line for the manifest and loads nothing", async () => {
  await using tree = await writeTree(baseTree());
  for (const untilStage of [0, 1]) {
    const dataDir = tree.join(`data-${untilStage}`);
    const summary = await runPipeline({
      sources: [tree.join("projects")],
      dataDir,
      fs,
      openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
      untilStage,
    });
    assertEquals(summary.status, "discovered");
    assertEquals(summary.manifest.verdict, "caution");
    assertEquals(summary.reconciliation.lines, {
      read: 10,
      records: 8,
      rejects: 1,
      blank: 1,
      glued: 0,
      balanced: true,
    });
    assertEquals([summary.reconciliation.records.ran, summary.reconciliation.records.balanced], [
      false,
      true,
    ]);
    assertEquals(summary.loads, []);
  }
});

Deno.test("runPipeline() dates events in the configured time zone, sessions included", async () => {
  const late = userPrompt("late night fix", { uuid: "late", timestamp: "2026-05-02T23:30:00.000Z" });
  await using tree = await writeTree({ "projects/-home-a/s1.jsonl": jsonl([late]) });
  for (const [timeZone, day] of [["UTC", "2026-05-02"], ["Pacific/Kiritimati", "2026-05-03"]]) {
    const dataDir = tree.join(`data-${timeZone.replace("/", "-")}`);
    await runPipeline({
      sources: [tree.join("projects")],
      dataDir,
      fs,
      openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
      timeZone,
    });
    await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
    const [row] = await db.query(
      "SELECT m.event_date::VARCHAR AS m, s.event_date::VARCHAR AS s FROM messages m JOIN sessions s USING (session_id)",
    );
    assertEquals(row, { m: day, s: day }, timeZone);
  }
});
