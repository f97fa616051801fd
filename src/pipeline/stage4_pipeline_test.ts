import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startMocks } from "../../mocks/mod.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { parseCorrectionConfig } from "../llm/config.ts";
import { createGeminiClient } from "../llm/gemini_client.ts";
import { DuckDbSink, openDuckDbSink } from "../sinks/duckdb.ts";
import { assistantLine, jsonl, userPrompt } from "../testing/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { runPipeline } from "./run_pipeline.ts";
import { createStage4 } from "./stage4.ts";
import { commitState, loadState } from "../state/state_store.ts";

const fs = denoFileSystem();
const TEXTS = [
  "fix teh loader",
  "yes",
  "recieve the invoice and seperate the lines",
  "yes",
  "<command-name>/clear</command-name>",
  "untill it works",
  "wich test fails?",
  "add a retry becuase it times out",
];

function tree(texts: string[], prefix = "p") {
  const records = texts.map((text, i) =>
    userPrompt(text, {
      uuid: `${prefix}${i}`,
      timestamp: `2026-05-02T09:00:${String(i).padStart(2, "0")}.000Z`,
    })
  );
  return { "projects/-home-a/s1.jsonl": jsonl(records) };
}

async function runOnce(
  dataDir: string,
  sources: string[],
  options: { model?: string; cacheDir?: string; prefilter?: "spell" | "none" } = {},
) {
  const config = parseCorrectionConfig({
    batchSize: 3,
    workers: 2,
    maxRetries: 0,
    prefilter: options.prefilter ?? "none",
    model: options.model,
  });
  const stage4 = createStage4({
    client: createGeminiClient({ apiKey: "test-key", model: config.model, timeoutMs: 5_000 }),
    cacheDir: options.cacheDir ?? `${dataDir}/cache/gemini`,
    config,
  });
  return await runPipeline({
    sources,
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    stage4,
  });
}

Deno.test("runPipeline() merges Stage 4 corrections into messages and a rerun makes no call", async () => {
  using mocks = startMocks({ gemini: {} });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  const first = await runOnce(dataDir, [t.join("projects")]);
  // 7 typed prompts (the slash command is its own kind): 1 repeated "yes" → 6 distinct → 2 batches of 3.
  assertEquals(mocks.gemini.calls.length, 2);
  assertEquals(first.reconciliation.prompts.total, 7);
  assertEquals(first.reconciliation.prompts.balanced, true);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const rows = await db.query(
    "SELECT text, corrected_text, correction_status FROM messages WHERE kind = 'human_prompt' ORDER BY timestamp",
  );
  assertEquals(rows[0], {
    text: "fix teh loader",
    corrected_text: "fix the loader",
    correction_status: "corrected",
  });
  assertEquals(rows[1], { text: "yes", corrected_text: "yes", correction_status: "unchanged" });
  db.close();

  // New prompts appended: only they are read; the repeated one comes from the cache.
  await Deno.writeTextFile(
    t.join("projects/-home-a/s1.jsonl"),
    jsonl([userPrompt("fix teh loader", { uuid: "q1" }), userPrompt("definately", { uuid: "q2" })]),
    { append: true },
  );
  mocks.gemini.reset();
  const second = await runOnce(dataDir, [t.join("projects")]);
  assertEquals(mocks.gemini.calls.length, 1);
  assertEquals([second.reconciliation.prompts.total, second.reconciliation.prompts.cacheHits], [2, 1]);
});

Deno.test("runPipeline() stops on a per-day quota, keeps what finished, and the next run resumes", async () => {
  using mocks = startMocks({ gemini: { quotas: { rpd: 1 } } });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  const first = await runOnce(dataDir, [t.join("projects")]);
  assertEquals(first.status, "stopped_daily_quota");
  assertEquals(first.stage4?.stopped, "daily_quota");
  const statuses = first.stage4?.details.statuses as Record<string, number>;
  assert(statuses.pending > 0);
  assertEquals(first.reconciliation.prompts.balanced, true);
  {
    await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
    const [counts] = await db.query(
      `SELECT COUNT(*) FILTER (WHERE correction_status = 'pending') AS pending,
              COUNT(*) FILTER (WHERE correction_status IN ('corrected', 'unchanged')) AS done
       FROM messages WHERE kind = 'human_prompt'`,
    );
    assert(Number(counts.pending) > 0 && Number(counts.done) > 0);
  }
  // The quota resets: the next run reads no new line but corrects the carried-over prompts.
  mocks.gemini.configure({ quotas: {} });
  mocks.gemini.reset();
  const second = await runOnce(dataDir, [t.join("projects")]);
  assertEquals(second.status, "completed");
  assertEquals(second.reconciliation.lines.read, 0);
  assertEquals(second.reconciliation.prompts.carriedOver, statuses.pending);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const [after] = await db.query(
    "SELECT COUNT(*) FILTER (WHERE correction_status = 'pending') AS pending, COUNT(*) AS n FROM messages",
  );
  assertEquals(after, { pending: "0", n: "8" });
});

Deno.test("runPipeline() corrects prompts of earlier runs that had no key once a key is set", async () => {
  using mocks = startMocks({ gemini: {} });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  const first = await runPipeline({
    sources: [t.join("projects")],
    dataDir,
    fs,
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    stage4: null,
  });
  assertEquals(first.reconciliation.prompts.skipped, 7);
  assertEquals(mocks.gemini.calls.length, 0);
  const second = await runOnce(dataDir, [t.join("projects")]);
  assertEquals(second.reconciliation.lines.read, 0);
  assertEquals(second.reconciliation.prompts.carriedOver, 7);
  assertEquals(mocks.gemini.calls.length, 2);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const [row] = await db.query("SELECT corrected_text, correction_status FROM messages WHERE uuid = 'p0'");
  assertEquals(row, { corrected_text: "fix the loader", correction_status: "corrected" });
  // Nothing is left waiting: a third run sends nothing.
  mocks.gemini.reset();
  const third = await runOnce(dataDir, [t.join("projects")]);
  assertEquals([third.reconciliation.prompts.carriedOver, mocks.gemini.calls.length], [0, 0]);
});

Deno.test("runPipeline() with the spell prefilter sends only prompts with a flagged word", async () => {
  using mocks = startMocks({ gemini: {} });
  const texts = [
    "fix teh loader", // flagged: teh
    "yes",
    "run the tests again please",
    "rename the zorblax module", // zorblax: unknown here, but Claude's answer below uses it twice
    "its already broken", // a real-word error (it's)
  ];
  const records = texts.map((text, i) =>
    userPrompt(text, { uuid: `p${i}`, timestamp: `2026-05-02T09:00:0${i}.000Z` })
  );
  const line = assistantLine("msg_1", "req_1", { input: 1, output: 1 }, { uuid: "a1" });
  const message = line.message as Record<string, unknown>;
  message.content = [{ type: "text", text: "The zorblax module loads zorblax plugins." }];
  await using t = await writeTree({ "projects/-home-a/s1.jsonl": jsonl([...records, line]) });
  const dataDir = t.join("data");
  const first = await runOnce(dataDir, [t.join("projects")], { prefilter: "spell" });
  // "fix teh loader" and "its already broken": 2 prompts, one batch of 3.
  assertEquals(mocks.gemini.calls.length, 1);
  const prompts = first.reconciliation.prompts;
  assertEquals([prompts.total, prompts.sent, prompts.cleanLocal, prompts.balanced], [5, 2, 3, true]);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const rows = await db.query(
    "SELECT uuid, corrected_text, correction_status, correction_model FROM messages WHERE uuid = 'p3'",
  );
  assertEquals(rows, [{
    uuid: "p3",
    corrected_text: "rename the zorblax module",
    correction_status: "unchanged_local",
    correction_model: null,
  }]);
});

async function runWith(dataDir: string, sources: string[], o: { key: boolean; sink: boolean }) {
  const config = parseCorrectionConfig({ batchSize: 3, workers: 2, maxRetries: 0, prefilter: "none" });
  const stage4 = createStage4({
    client: o.key ? createGeminiClient({ apiKey: "test-key", model: config.model, timeoutMs: 5_000 }) : null,
    cacheDir: `${dataDir}/cache/gemini`,
    config,
  });
  return await runPipeline({
    sources,
    dataDir,
    fs,
    openSink: o.sink ? () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`) : null,
    stage4,
  });
}

async function queueLines(dataDir: string): Promise<Record<string, unknown>[]> {
  const state = await loadState(`${dataDir}/state`);
  if (state.pending === null) return [];
  return (await Deno.readTextFile(state.pending)).trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("runPipeline() rewrites a queue of whole rows (earlier versions) as references, then corrects them", async () => {
  using mocks = startMocks({ gemini: {} });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  await runWith(dataDir, [t.join("projects")], { key: false, sink: true });
  // Put the queue back in the earlier form: whole rows, text included.
  const state = await loadState(`${dataDir}/state`);
  const refs = await queueLines(dataDir);
  assertEquals(refs.length, 7);
  {
    await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
    const rows = await db.readMessages(refs.map((r) => ({ uuid: String(r.uuid), event_date: "2026-05-02" })));
    await Deno.writeTextFile(t.join("old.ndjson"), rows.map((row) => JSON.stringify(row) + "\n").join(""));
  }
  await commitState(`${dataDir}/state`, state, { ...state, pending: t.join("old.ndjson") });
  assertEquals((await queueLines(dataDir)).filter((line) => "text" in line).length, 7);

  // A run with nothing new still rewrites it, as references.
  const quiet = await runWith(dataDir, [t.join("projects")], { key: false, sink: true });
  assertEquals(quiet.status, "nothing_new");
  const migrated = await queueLines(dataDir);
  assertEquals(migrated.map((line) => line.uuid).sort(), ["p0", "p1", "p2", "p3", "p5", "p6", "p7"]);
  for (const line of migrated) assertEquals(Object.keys(line), ["uuid", "event_date"]);

  // A run with a key reads them back from the warehouse and corrects every one.
  const keyed = await runWith(dataDir, [t.join("projects")], { key: true, sink: true });
  assertEquals(mocks.gemini.calls.length, 2);
  assertEquals(keyed.reconciliation.prompts.carriedOver, 7);
  assertEquals(await queueLines(dataDir), []);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const statuses = await db.query(
    "SELECT correction_status AS s, COUNT(*)::INT AS n FROM messages WHERE kind = 'human_prompt' GROUP BY s ORDER BY s",
  );
  assertEquals(statuses, [{ s: "corrected", n: 5 }, { s: "unchanged", n: 2 }]);
});

Deno.test("runPipeline() with --sink none queues whole rows and a later run with a key stages them corrected", async () => {
  using _mocks = startMocks({ gemini: {} });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  await runWith(dataDir, [t.join("projects")], { key: false, sink: false });
  const queued = await queueLines(dataDir);
  assertEquals(queued.map((line) => line.text)[0], "fix teh loader");
  const second = await runWith(dataDir, [t.join("projects")], { key: true, sink: false });
  assertEquals(second.reconciliation.prompts.carriedOver, 7);
  assertEquals(await queueLines(dataDir), []);
  const staged = (await Deno.readTextFile(`${second.runDir}/messages.ndjson`)).trim().split("\n")
    .map((line) => JSON.parse(line));
  const first = staged.find((row) => row.uuid === "p0");
  assertEquals([first.corrected_text, first.correction_status], ["fix the loader", "corrected"]);
});

Deno.test("runPipeline() sends a prompt that failed on a server error again next run, never from the cache", async () => {
  using mocks = startMocks({ gemini: { faults: [{ fault: "http503", rate: 1 }] } });
  await using t = await writeTree(tree(TEXTS));
  const dataDir = t.join("data");
  const first = await runOnce(dataDir, [t.join("projects")]);
  // 7 typed prompts: 6 distinct texts fail, the repeated "yes" shares its twin's status.
  assertEquals(first.stage4?.details.statuses, { failed_http_5xx: 7 });
  mocks.gemini.configure({ faults: [] });
  mocks.gemini.reset();
  const second = await runOnce(dataDir, [t.join("projects")]);
  assertEquals(second.reconciliation.lines.read, 0);
  assertEquals(second.reconciliation.prompts.carriedOver, 7);
  assertEquals(second.reconciliation.prompts.cacheHits, 0);
  assertEquals(mocks.gemini.calls.length, 2);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const rows = await db.query(
    "SELECT correction_status, COUNT(*) AS n FROM messages WHERE kind = 'human_prompt' GROUP BY 1 ORDER BY 1",
  );
  // "yes" (twice) needs no change; the other 5 had typos.
  assertEquals(rows, [{ correction_status: "corrected", n: "5" }, {
    correction_status: "unchanged",
    n: "2",
  }]);
});

Deno.test("runPipeline() over a cache shared by two models asks the new model again", async () => {
  using mocks = startMocks({ gemini: {} });
  await using t = await writeTree(tree(TEXTS));
  const cacheDir = t.join("shared-cache");
  await runOnce(t.join("data-1"), [t.join("projects")], { cacheDir });
  assertEquals(mocks.gemini.calls.length, 2);
  // The same model over the same cache: every answer is a cache hit.
  mocks.gemini.reset();
  const same = await runOnce(t.join("data-2"), [t.join("projects")], { cacheDir });
  assertEquals([mocks.gemini.calls.length, same.reconciliation.prompts.cacheHits], [0, 6]);
  // Another model: nothing of the first model's answers is reused.
  mocks.gemini.reset();
  const other = await runOnce(t.join("data-3"), [t.join("projects")], {
    cacheDir,
    model: "gemini-2.5-flash",
  });
  assertEquals([mocks.gemini.calls.length, other.reconciliation.prompts.cacheHits], [2, 0]);
  assertEquals(mocks.gemini.calls.map((c) => c.model), ["gemini-2.5-flash", "gemini-2.5-flash"]);
  await using db = await DuckDbSink.open({ path: t.join("data-3/ccpipe.duckdb") });
  const [row] = await db.query("SELECT corrected_text, correction_model FROM messages WHERE uuid = 'p0'");
  assertEquals(row, { corrected_text: "fix the loader", correction_model: "gemini-2.5-flash" });
});
