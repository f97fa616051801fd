import assert from "node:assert/strict";
import { denoFileSystem } from "../io/file_system.ts";
import type { ExtractEvent, RawRecord, SourceFile } from "../schema/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { discover } from "./discover.ts";
import { extract } from "./extract.ts";
import { Inventory, type Manifest } from "./inventory.ts";

const NOW = new Date("2026-05-03T00:00:00.000Z");

async function manifestOf(files: Record<string, string>): Promise<{ manifest: Manifest; root: string }> {
  await using tree = await writeTree(files);
  const fs = denoFileSystem();
  const found = await discover([tree.path], { fs });
  const inventory = new Inventory([tree.path], found);
  for await (const event of extract(found, { fs })) inventory.observe(event);
  return { manifest: inventory.manifest(NOW), root: tree.path };
}

const line = (value: unknown) => JSON.stringify(value) + "\n";

const assistant = line({
  type: "assistant",
  uuid: "a1",
  timestamp: "2026-05-02T09:00:04.010Z",
  requestId: "req_1",
  message: {
    id: "msg_1",
    content: [
      { type: "thinking", thinking: "…" },
      { type: "tool_use", id: "toolu_1", name: "Read", input: { file_path: "/x.ts", options: { deep: 1 } } },
      { type: "tool_use", id: "toolu_2", name: "Bash", input: { command: "ls" } },
    ],
    usage: { input_tokens: 4, output_tokens: 9 },
  },
});
const toolResult = line({
  type: "user",
  uuid: "u2",
  timestamp: "2026-05-02T09:00:05.000+00:00",
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "ok" }] },
  toolUseResult: { stdout: "ok", file: { filePath: "/x.ts", content: "secret" } },
});
const snapshot = line({
  type: "file-history-snapshot",
  messageId: "m1",
  snapshot: {
    trackedFileBackups: { "/home/a/proj/loader.ts": { backupFileName: "b@v1", version: 1 }, "README": {} },
    timestamp: "2026-05-01T23:59:59.000Z",
  },
});
const prompt = line({
  type: "user",
  uuid: "u1",
  timestamp: "2026-05-02T09:00:00.120Z",
  message: { role: "user", content: "add a retry" },
});

Deno.test("Inventory counts record types, blocks and tools, including tool_use and tool_result", async () => {
  const { manifest, root } = await manifestOf({
    "p/s.jsonl": prompt + assistant + toolResult + snapshot + "\n",
  });
  assert.deepEqual(manifest.totals.recordTypes, { "assistant": 1, "file-history-snapshot": 1, "user": 2 });
  assert.deepEqual(manifest.totals.contentBlockTypes, { thinking: 1, tool_result: 1, tool_use: 2 });
  assert.deepEqual(manifest.totals.toolNames, { Bash: 1, Read: 1 });
  assert.equal(manifest.totals.firstTimestamp, "2026-05-02T09:00:00.120Z");
  assert.equal(manifest.totals.lastTimestamp, "2026-05-02T09:00:05.000Z");
  assert.deepEqual(manifest.files.map((f) => ({ ...f, mtimeMs: 0 })), [{
    path: `${root}/p/s.jsonl`,
    size: new TextEncoder().encode(prompt + assistant + toolResult + snapshot + "\n").length,
    mtimeMs: 0,
    lines: 5,
    blankLines: 1,
    records: 4,
    rejects: 0,
    recordTypes: { "assistant": 1, "file-history-snapshot": 1, "user": 2 },
  }]);
  assert.equal(manifest.generatedAt, NOW.toISOString());
  assert.deepEqual(manifest.roots, [root]);
});

Deno.test("Inventory lists dotted field paths but never map keys or deep tool internals", async () => {
  const { manifest } = await manifestOf({ "p/s.jsonl": prompt + assistant + toolResult + snapshot });
  const fields = manifest.totals.fields;
  assert.equal(fields["message.usage.input_tokens"], 1);
  assert.equal(fields["message.content[].type"], 4);
  assert.equal(fields["message.content[].input.file_path"], 1);
  assert.equal(fields["toolUseResult.stdout"], 1);
  assert.equal(fields["toolUseResult.file"], 1);
  assert.equal(fields["snapshot.trackedFileBackups"], 1);
  assert.equal(fields["snapshot.timestamp"], 1);
  assert.equal(fields["type"], 4);
  const keys = Object.keys(fields);
  assert.deepEqual(
    keys.filter((k) => k.includes("loader.ts") || k.includes("README") || k.includes("backupFile")),
    [],
  );
  assert.deepEqual(keys.filter((k) => k.startsWith("snapshot.trackedFileBackups.")), []);
  assert.deepEqual(keys.filter((k) => k.startsWith("toolUseResult.file.")), []);
  assert.deepEqual(keys.filter((k) => k.startsWith("message.content[].input.options.")), []);
});

Deno.test("Inventory skips objects keyed by data, such as paths, wherever they appear", () => {
  const file: SourceFile = { path: "/p/s.jsonl", root: "/p", size: 1, mtimeMs: 0 };
  const inventory = new Inventory(["/p"], [file]);
  const value = { type: "x", data: { "src/a.ts": 1, "src/b.ts": 2 }, ok: { fine: 1 } };
  const record: RawRecord = { file: file.path, line: 1, offset: 0, bytes: 1, type: "x", value };
  inventory.observe({ kind: "record", record });
  assert.deepEqual(inventory.manifest(NOW).totals.fields, { "data": 1, "ok": 1, "ok.fine": 1, "type": 1 });
});

Deno.test("Inventory verdict is go with clean files", async () => {
  const { manifest } = await manifestOf({ "p/a.jsonl": prompt, "p/b.jsonl": assistant });
  assert.equal(manifest.verdict, "go");
  assert.deepEqual(manifest.reasons, ["2 files, 2 records, 0 malformed lines in 0 files"]);
});

Deno.test("Inventory verdict is caution when more than 5% of the lines are malformed", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`p/s${i}.jsonl`] = prompt.repeat(2);
  files["p/s0.jsonl"] = prompt + '{"type":"us\n'; // 1 of 20 lines = 5%: not more than 5%
  const oneBad = await manifestOf(files);
  assert.equal(oneBad.manifest.verdict, "go");
  assert.deepEqual(oneBad.manifest.reasons, ["10 files, 19 records, 1 malformed line in 1 file"]);
  files["p/s1.jsonl"] = "{oops\n" + prompt;
  const twoBad = await manifestOf(files);
  assert.equal(twoBad.manifest.verdict, "caution");
  assert.equal(twoBad.manifest.totals.rejects, 2);
  assert.equal(twoBad.manifest.reasons[0], "10.0% of the lines are malformed, more than 5%");
});

Deno.test("Inventory verdict is go when an earlier run read every line", () => {
  const file: SourceFile = { path: "/p/s.jsonl", root: "/p", size: 120, mtimeMs: 0 };
  const inventory = new Inventory(["/p"], [file]);
  const manifest = inventory.manifest(NOW);
  assert.equal(manifest.verdict, "go");
  assert.deepEqual(manifest.reasons, ["No new line in the 1 file since the last run"]);
});

Deno.test("Inventory verdict is no-go with no files or no parseable records", async () => {
  const none = await manifestOf({ "p/": "" });
  assert.equal(none.manifest.verdict, "no-go");
  assert.deepEqual(none.manifest.totals.files, 0);
  const broken = await manifestOf({ "p/a.jsonl": "{broken\n\n", "p/b.jsonl": "" });
  assert.equal(broken.manifest.verdict, "no-go");
  assert.deepEqual(broken.manifest.reasons, ["None of the 2 files holds a parseable record"]);
  assert.equal(broken.manifest.totals.firstTimestamp, null);
});

Deno.test("Inventory reconciles lines = records + rejects + blank lines on a plain corpus", async () => {
  const { manifest } = await manifestOf({
    "p/a.jsonl": prompt + "\n{bad\n" + assistant,
    "p/a/subagents/agent-1.jsonl": toolResult + "  \n",
  });
  const t = manifest.totals;
  assert.equal(t.files, 2);
  assert.equal(t.lines, t.records + t.rejects + t.blankLines);
  assert.deepEqual([t.records, t.rejects, t.blankLines], [3, 1, 2]);
});

Deno.test("Inventory keeps a record type named __proto__ as data", () => {
  const inventory = new Inventory([], []);
  const event: ExtractEvent = {
    kind: "record",
    record: { file: "/f", line: 1, offset: 0, bytes: 1, type: "__proto__", value: { type: "__proto__" } },
  };
  inventory.observe(event);
  const types = inventory.manifest(NOW).totals.recordTypes;
  assert.equal(Object.getOwnPropertyDescriptor(types, "__proto__")?.value, 1);
});
