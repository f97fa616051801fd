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

function record(file: string, value: Record<string, unknown>): ExtractEvent {
  const type = typeof value.type === "string" ? value.type : "(none)";
  return { kind: "record", record: { file, line: 1, offset: 0, bytes: 1, type, value } };
}

Deno.test("Inventory builds the whole manifest from events, files and count maps sorted by code point", () => {
  const files: SourceFile[] = [
    { path: "/r/p/b.jsonl", root: "/r", size: 100, mtimeMs: 5 },
    { path: "/r/p/a.jsonl", root: "/r", size: 40, mtimeMs: 6 },
    { path: "/r/p/B.jsonl", root: "/r", size: 7, mtimeMs: 7 },
  ];
  const inventory = new Inventory(["/r"], files);
  inventory.observe(record("/r/p/b.jsonl", {
    type: "user",
    timestamp: "2026-05-02T10:00:00.000Z",
    message: {
      content: [null, "text", { type: 3 }, { type: "tool_use" }, { type: "tool_use", name: "Read" }, {
        type: "text",
        name: "NotATool",
      }],
    },
  }));
  inventory.observe(record("/r/p/b.jsonl", { type: "Zed", timestamp: "yesterday" }));
  inventory.observe(record("/r/p/a.jsonl", { type: "user", timestamp: 2026 })); // a number is no timestamp
  inventory.observe(record("/r/p/a.jsonl", { timestamp: "2026-05-01T08:00:00.000Z", message: "plain" }));
  inventory.observe(record("/r/p/a.jsonl", { type: "user", timestamp: "2026-05-03T00:00:00.000Z" }));
  inventory.observe({
    kind: "reject",
    reject: {
      reject_key: "k",
      source_file: "/r/p/a.jsonl",
      line_number: 4,
      byte_offset: 30,
      error: "e",
      prefix: "{",
      line_bytes: 1,
    },
  });
  inventory.observe({
    kind: "file_done",
    watermark: { path: "/r/p/a.jsonl", size: 48, mtimeMs: 9, offset: 48, lines: 6, headHash: "h" },
    bytesRead: 48,
    linesRead: 6,
    blankLines: 2,
  });
  const manifest = inventory.manifest(NOW);
  assert.deepEqual(manifest.files, [
    {
      path: "/r/p/B.jsonl",
      size: 7,
      mtimeMs: 7,
      lines: 0,
      blankLines: 0,
      records: 0,
      rejects: 0,
      recordTypes: {},
    },
    {
      path: "/r/p/a.jsonl",
      size: 48,
      mtimeMs: 9,
      lines: 6,
      blankLines: 2,
      records: 3,
      rejects: 1,
      recordTypes: { "(none)": 1, user: 2 },
    },
    {
      path: "/r/p/b.jsonl",
      size: 100,
      mtimeMs: 5,
      lines: 0,
      blankLines: 0,
      records: 2,
      rejects: 0,
      recordTypes: { Zed: 1, user: 1 },
    },
  ]);
  const { fields, ...totals } = manifest.totals;
  assert.deepEqual(totals, {
    files: 3,
    bytes: 155,
    lines: 6,
    records: 5,
    rejects: 1,
    blankLines: 2,
    recordTypes: { "(none)": 1, Zed: 1, user: 3 },
    contentBlockTypes: { text: 1, tool_use: 2 },
    toolNames: { Read: 1 },
    firstTimestamp: "2026-05-01T08:00:00.000Z",
    lastTimestamp: "2026-05-03T00:00:00.000Z",
    filesWithRejects: 1,
  });
  assert.deepEqual(Object.keys(totals.recordTypes), ["(none)", "Zed", "user"]);
  assert.deepEqual(fields, {
    message: 2,
    "message.content": 1,
    "message.content[].name": 2,
    "message.content[].type": 4,
    timestamp: 5,
    type: 4,
  });
  assert.deepEqual(Object.keys(fields), [
    "message",
    "message.content",
    "message.content[].name",
    "message.content[].type",
    "timestamp",
    "type",
  ]);
  // 1 malformed line of the 4 non-blank lines read: 25%.
  assert.deepEqual([manifest.verdict, manifest.reasons], ["caution", [
    "25.0% of the lines are malformed, more than 5%",
    "3 files, 5 records, 1 malformed line in 1 file",
  ]]);
});

Deno.test("Inventory stops listing fields 9 levels deep, one level into tool payloads", () => {
  const inventory = new Inventory([], []);
  const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } };
  const listed = { x: [{ y: [{ z: [{ w: [{ v: [{ u: [{ t: [{ s: [{ r: [{ q: 1 }] }] }] }] }] }] }] }] }] };
  inventory.observe(record("/f", { ...deep, ...listed, toolUseResult: { out: { deeper: 1 } }, n: [1, 2] }));
  const fields = Object.keys(inventory.manifest(NOW).totals.fields);
  assert.deepEqual(fields, [
    "a",
    "a.b",
    "a.b.c",
    "a.b.c.d",
    "a.b.c.d.e",
    "a.b.c.d.e.f",
    "a.b.c.d.e.f.g",
    "a.b.c.d.e.f.g.h",
    "a.b.c.d.e.f.g.h.i",
    "n",
    "toolUseResult",
    "toolUseResult.out",
    "x",
    "x[].y",
    "x[].y[].z",
    "x[].y[].z[].w",
    "x[].y[].z[].w[].v",
    "x[].y[].z[].w[].v[].u",
    "x[].y[].z[].w[].v[].u[].t",
    "x[].y[].z[].w[].v[].u[].t[].s",
    "x[].y[].z[].w[].v[].u[].t[].s[].r",
  ]);
});

Deno.test("Inventory keeps at most 10,000 field paths", () => {
  const inventory = new Inventory([], []);
  const wide: Record<string, unknown> = {};
  for (let i = 0; i < 9_998; i++) wide[`k${i}`] = 1;
  wide.list = [{ inner: 1, more: 1, last: 1 }];
  inventory.observe(record("/f", wide));
  const fields = inventory.manifest(NOW).totals.fields;
  // 9,998 keys + list + list[].inner: the "[]" level is not a field; the 10,001st and later are dropped.
  assert.equal(Object.keys(fields).length, 10_000);
  assert.deepEqual([fields["list"], fields["list[].inner"], fields["list[].more"]], [1, 1, undefined]);
});

Deno.test("Inventory says why an empty corpus is no-go", () => {
  assert.deepEqual(new Inventory(["/r"], []).manifest(NOW).reasons, [
    "No transcript files (*.jsonl) were found under the roots",
  ]);
});

Deno.test("Inventory keeps the latest time whatever the order, and lists no key of a file-backup map", () => {
  const inventory = new Inventory([], []);
  inventory.observe(record("/f", { timestamp: "2026-05-03T00:00:00.000Z" }));
  inventory.observe(record("/f", { timestamp: "2026-05-02T00:00:00.000Z" }));
  inventory.observe(record("/f", { snapshot: { trackedFileBackups: { README: { v: 1 }, Makefile: {} } } }));
  const { totals } = inventory.manifest(NOW);
  assert.deepEqual([totals.firstTimestamp, totals.lastTimestamp], [
    "2026-05-02T00:00:00.000Z",
    "2026-05-03T00:00:00.000Z",
  ]);
  assert.deepEqual(totals.fields, { snapshot: 1, "snapshot.trackedFileBackups": 1, timestamp: 2 });
});

Deno.test("Inventory stops at the field cap even for an array field seen before it", () => {
  const inventory = new Inventory([], []);
  const wide: Record<string, unknown> = { list: 5 };
  for (let i = 0; i < 9_999; i++) wide[`k${i}`] = 1;
  inventory.observe(record("/f", wide));
  inventory.observe(record("/f", { list: [{ inner: 1 }] }));
  const fields = inventory.manifest(NOW).totals.fields;
  assert.deepEqual([Object.keys(fields).length, fields.list, fields["list[].inner"]], [10_000, 2, undefined]);
});

Deno.test("Inventory says go when a rerun finds no new line, and no-go over empty files", () => {
  const file: SourceFile = { path: "/p/s.jsonl", root: "/p", size: 120, mtimeMs: 0 };
  const rerun = new Inventory(["/p"], [file]);
  rerun.observe({
    kind: "file_done",
    watermark: { path: file.path, size: 120, mtimeMs: 0, offset: 120, lines: 3, headHash: "h" },
    bytesRead: 0,
    linesRead: 0,
    blankLines: 0,
  });
  assert.deepEqual([rerun.manifest(NOW).verdict, rerun.manifest(NOW).reasons], [
    "go",
    ["No new line in the 1 file since the last run"],
  ]);
  const empty = new Inventory(["/p"], [{ ...file, size: 0 }]);
  assert.deepEqual([empty.manifest(NOW).verdict, empty.manifest(NOW).reasons], [
    "no-go",
    ["None of the 1 file holds a parseable record"],
  ]);
});
