// Issue 9's secrets test: every secret format in src/testing/secret_formats.ts goes through a whole
// run against the Gemini mock, then nothing may hold any part of any secret: not the request bodies
// Gemini received, not the answer cache, not the pending-prompt queue, not any other file in the data dir.
// The one exception is the warehouse (ccpipe.duckdb), which keeps the user's transcript text exactly, by
// design: it is the copy of the history ccpipe exists to keep, and its corrected_text must carry the
// secrets back. Prompts waiting for a later run are queued by reference and read back from it.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join, relative } from "node:path";
import { startMocks } from "../mocks/mod.ts";
import type { GeminiMockOptions } from "../mocks/gemini.ts";
import { denoFileSystem } from "../src/io/file_system.ts";
import { parseCorrectionConfig } from "../src/llm/config.ts";
import { createGeminiClient } from "../src/llm/gemini_client.ts";
import { redact } from "../src/llm/redact.ts";
import { runPipeline } from "../src/pipeline/run_pipeline.ts";
import { createStage4 } from "../src/pipeline/stage4.ts";
import { DuckDbSink, openDuckDbSink } from "../src/sinks/duckdb.ts";
import { jsonl, userPrompt } from "../src/testing/records.ts";
import { SECRET_FREE_PROMPTS, secretFormats } from "../src/testing/secret_formats.ts";
import { writeTree } from "../src/testing/write_tree.ts";

const FORMATS = secretFormats();
const WAREHOUSE = /^ccpipe\.duckdb(?:\.wal)?$/;
// The pending-prompt queue, one file per state generation (src/state/state_store.ts).
const PENDING_QUEUE = /^state\/pending\.\d+\.ndjson$/;

function projects() {
  const texts = [...FORMATS.map((format) => format.prompt), ...SECRET_FREE_PROMPTS];
  const records = texts.map((text, i) =>
    userPrompt(text, {
      uuid: `p${i}`,
      timestamp: `2026-05-02T09:${String(Math.floor(i / 60)).padStart(2, "0")}:${
        String(i % 60).padStart(2, "0")
      }.000Z`,
    })
  );
  return { "projects/-home-a/s1.jsonl": jsonl(records) };
}

async function run(dataDir: string, sources: string[], withKey: boolean) {
  // Every prompt goes to the model (no local prefilter): what leaves the machine is what is checked.
  const config = parseCorrectionConfig({ batchSize: 15, workers: 2, maxRetries: 0, prefilter: "none" });
  const stage4 = createStage4({
    client: withKey
      ? createGeminiClient({ apiKey: "test-key", model: config.model, timeoutMs: 60_000 })
      : null,
    cacheDir: `${dataDir}/cache/gemini`,
    config,
  });
  return await runPipeline({
    sources,
    dataDir,
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
    stage4,
  });
}

/** Every file under `dir` but the warehouse, as [relative path, text]. */
async function dataDirFiles(dir: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...(await dataDirFiles(path)));
    else if (!WAREHOUSE.test(entry.name)) out.push([path, await Deno.readTextFile(path)]);
  }
  return out;
}

/** The item texts of one Gemini request body (`{ items: [{ id, text }] }` in the user part). */
function itemTexts(body: string): string[] {
  const request = JSON.parse(body) as { contents: { parts: { text: string }[] }[] };
  const { items } = JSON.parse(request.contents[0]!.parts[0]!.text) as { items: { text: string }[] };
  return items.map((item) => item.text);
}

/** The formats with a secret part found in `text`. */
function leaks(text: string): string[] {
  return FORMATS.filter((format) => format.secrets.some((secret) => text.includes(secret))).map((f) =>
    f.name
  );
}

async function scenario(gemini: GeminiMockOptions, withKey: boolean, then?: { gemini: GeminiMockOptions }) {
  using mocks = startMocks({ gemini });
  await using tree = await writeTree(projects());
  const dataDir = tree.join("data");
  const summary = await run(dataDir, [tree.join("projects")], withKey);
  await mocks.bodiesRead();
  const queued = await dataDirFiles(dataDir);
  if (then) {
    // A later run with a key (and quota) sends the prompts that waited.
    mocks.gemini.configure(then.gemini);
    await run(dataDir, [tree.join("projects")], true);
    await mocks.bodiesRead();
  }
  const files = await dataDirFiles(dataDir);
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const rows = await db.query(
    "SELECT uuid, text, corrected_text, correction_status FROM messages WHERE kind = 'human_prompt' ORDER BY uuid",
  ) as { uuid: string; text: string; corrected_text: string | null; correction_status: string }[];
  db.close();
  const relativeFiles = (list: [string, string][]) =>
    list.map(([path, text]) => [relative(dataDir, path), text] as const);
  return {
    summary,
    bodies: [...mocks.bodies],
    queued: relativeFiles(queued),
    files: relativeFiles(files),
    rows: new Map(rows.map((row) => [row.uuid, row])),
  };
}

Deno.test("no secret reaches Gemini, the cache or any file of the data dir, and the warehouse keeps them", async () => {
  const { bodies, files, rows } = await scenario({}, true);
  assertEquals(bodies.flatMap(leaks), []);
  for (const [path, text] of files) assertEquals(leaks(text), [], path);
  const cached = files.filter(([path]) => path.startsWith("cache/"));
  assert(cached.some(([, text]) => text.includes("{{SECRET_")), "the cache holds redacted prompts");
  // Each format was sent (redacted), answered, and restored exactly in the warehouse.
  FORMATS.forEach((format, i) => {
    const row = rows.get(`p${i}`)!;
    assertEquals(row.text, format.prompt, format.name);
    assert(
      /^(?:corrected|unchanged)$/.test(row.correction_status),
      `${format.name}: ${row.correction_status}`,
    );
    for (const secret of format.secrets) assert(row.corrected_text!.includes(secret), format.name);
    assert(!row.corrected_text!.includes("{{SECRET_"), format.name);
  });
  assert(bodies.length >= Math.ceil(FORMATS.length / 15));
  // Each secret-free prompt that was sent went out exactly as typed: nothing in it was taken for a secret.
  const sent = new Set(bodies.flatMap(itemTexts));
  const plain = SECRET_FREE_PROMPTS.filter((_, i) =>
    rows.get(`p${FORMATS.length + i}`)!.correction_status !== "skipped_code_or_output"
  );
  assert(
    plain.length >= SECRET_FREE_PROMPTS.length / 2,
    `only ${plain.length} secret-free prompts were sent`,
  );
  for (const prompt of plain) assert(sent.has(prompt), prompt);
});

for (
  const [name, gemini, withKey] of [
    ["the per-day quota leaves prompts waiting", { quotas: { rpd: 1 } }, true],
    ["no key leaves every prompt waiting", {}, false],
  ] as const
) {
  Deno.test(`no secret reaches a file of the data dir when ${name}, nor when they are sent later`, async () => {
    const { bodies, queued, files, rows, summary } = await scenario(gemini, withKey, {
      gemini: { quotas: {} },
    });
    const waiting = withKey ? summary.reconciliation.prompts.pending : summary.reconciliation.prompts.skipped;
    assert(waiting > 0, "some prompts wait for a later run");
    assertEquals(bodies.flatMap(leaks), []);
    assert(queued.some(([path]) => path.startsWith("runs/")), "the run left its files");
    for (const [path, text] of [...queued, ...files]) assertEquals(leaks(text), [], path);
    // The queue names each waiting prompt by uuid and partition day, and holds nothing else.
    const queue = queued.filter(([path]) => PENDING_QUEUE.test(path));
    assertEquals(queue.length, 1);
    const entries = queue[0]![1].trim().split("\n").map((line) => JSON.parse(line));
    // (Stage 4 counts distinct texts; the queue holds every prompt row waiting, repeats included.)
    assert(entries.length >= waiting, `${entries.length} queued, ${waiting} waiting`);
    for (const entry of entries) {
      assertEquals(entry, { uuid: entry.uuid, event_date: "2026-05-02" });
      assert(/^p\d+$/.test(entry.uuid), entry.uuid);
    }
    // The later run read them back from the warehouse and corrected every one: the queue is gone.
    assertEquals(files.filter(([path]) => PENDING_QUEUE.test(path)), []);
    assertEquals(rows.size, FORMATS.length + SECRET_FREE_PROMPTS.length);
    FORMATS.forEach((format, i) => {
      const row = rows.get(`p${i}`)!;
      assert(
        /^(?:corrected|unchanged)$/.test(row.correction_status),
        `${format.name}: ${row.correction_status}`,
      );
      for (const secret of format.secrets) assert(row.corrected_text!.includes(secret), format.name);
    });
  });
}

Deno.test("redaction changes only the fixture's one typed prompt that holds a secret", async () => {
  const fixture = new URL("../fixtures/claude_code_100/", import.meta.url).pathname;
  const expected = JSON.parse(await Deno.readTextFile(`${fixture}expected.json`));
  await using tree = await writeTree({ "data/": "" });
  const dataDir = tree.join("data");
  await runPipeline({
    sources: [`${fixture}projects`],
    dataDir,
    fs: denoFileSystem(),
    openSink: () => openDuckDbSink(`${dataDir}/ccpipe.duckdb`),
  });
  await using db = await DuckDbSink.open({ path: `${dataDir}/ccpipe.duckdb` });
  const prompts = await db.query("SELECT text FROM messages WHERE kind = 'human_prompt'") as {
    text: string;
  }[];
  db.close();
  const changed = prompts.filter(({ text }) => redact(text).text !== text);
  assertEquals(prompts.length, expected.kinds.human_prompt);
  assertEquals(changed.length, expected.prompts_with_secret);
  // AWS's documented example keys: hidden too (the rule set alone would let the key id through).
  assert(
    redact(changed[0]!.text).text.endsWith(
      "AWS_ACCESS_KEY_ID={{SECRET_1}}\nAWS_SECRET_ACCESS_KEY={{SECRET_2}}",
    ),
  );
});
