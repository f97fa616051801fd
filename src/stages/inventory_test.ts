import assert from "node:assert/strict";
import { mulberry32 } from "../../mocks/_random.ts";
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
  // A payload that is an array (some tools return a list of blocks) is listed, its items are not.
  inventory.observe(record("/f", { input: [{ type: "text", text: "…" }] }));
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
    "input",
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

/** A run's files and events: nested fields, arrays, path-keyed maps, rejects and `file_done`s. */
function generateRun(seed: number): { files: SourceFile[]; events: ExtractEvent[][] } {
  const next = mulberry32(seed); // a failing stream can be replayed from its seed
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: T[]): T => items[below(items.length)];
  const names = [
    "a",
    "b",
    "type",
    "id",
    "toolUseResult",
    "input",
    "snapshot",
    "trackedFileBackups",
    "x-y",
    "$k",
  ];
  const mapKeys = ["src/a.ts", "/home/u/p/README.md", "9lives", "[]", "a b"];
  const value = (depth: number): unknown => {
    const roll = next();
    if (depth > 10 || roll < 0.3) return pick([1, "s", null, false]);
    if (roll < 0.5) return Array.from({ length: below(3) }, () => value(depth + 1));
    const keys = roll < 0.6 ? [...names, ...mapKeys] : names;
    return Object.fromEntries(Array.from({ length: below(4) }, () => [pick(keys), value(depth + 1)]));
  };
  const time = () =>
    pick([
      new Date(Date.UTC(2026, below(12), 1 + below(28), below(24), below(60))).toISOString(),
      `2026-02-${pick(["28", "29", "30"])}T${pick(["00", "24"])}:00:00.000Z`,
      "2026-03-01T00:00:00.000+01:00",
      "2026-13-01T00:00:00.000Z",
    ]);
  const block = () =>
    pick([
      { type: "text", text: "t" },
      {
        type: "tool_use",
        id: "toolu",
        name: pick(["Read", "Bash"]),
        input: { command: "ls", deep: { x: 1 } },
      },
      { type: "tool_result", tool_use_id: "toolu", content: [{ type: "text", text: "ok" }] },
    ]);
  const record = (): Record<string, unknown> => {
    const record: Record<string, unknown> = { ...value(0) as object, uuid: "u" };
    if (next() < 0.8) record.type = pick(["user", "assistant", "summary"]);
    if (next() < 0.8) record.timestamp = time();
    if (next() < 0.5) record.message = { role: "user", content: Array.from({ length: below(4) }, block) };
    if (next() < 0.2) {
      record.snapshot = { trackedFileBackups: { "src/a.ts": { version: 1 } }, messageId: "m" };
    }
    return record;
  };
  const files: SourceFile[] = [];
  const events: ExtractEvent[][] = [];
  for (let f = 0; f < 6; f++) {
    const path = `/r/p/s${f}.jsonl`;
    // s0 is only found, s5 is not found (it appears meanwhile), s3 ends without a file_done.
    if (f !== 5) files.push({ path, root: "/r", size: 100 + f, mtimeMs: f });
    const fileEvents: ExtractEvent[] = [];
    for (let line = 1; f !== 0 && line <= 2 + below(12); line++) {
      if (next() < 0.1) {
        fileEvents.push({
          kind: "reject",
          reject: {
            reject_key: "k",
            source_file: path,
            line_number: line,
            byte_offset: 0,
            error: "e",
            prefix: "{",
            line_bytes: 1,
          },
        });
      } else {
        const value = record();
        const type = typeof value.type === "string" ? value.type : "(none)";
        fileEvents.push({ kind: "record", record: { file: path, line, offset: 0, bytes: 1, type, value } });
      }
    }
    if (f !== 3) {
      fileEvents.push({
        kind: "file_done",
        watermark: { path, size: 200 + f, mtimeMs: 10 + f, offset: 200 + f, lines: 9, headHash: "h" },
        bytesRead: 200 + f,
        linesRead: 9 + f,
        blankLines: f % 2,
      });
    }
    events.push(fileEvents);
  }
  return { files, events };
}

Deno.test("Inventory merged from snapshots of whole-file groups gives the manifest of one inventory", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const { files, events } = generateRun(seed);
    const serial = new Inventory(["/r"], files);
    for (const event of events.flat()) serial.observe(event);
    const expected = serial.manifest(NOW);
    assert.ok(Object.keys(expected.totals.fields).length > 10, `seed ${seed}: too few fields to compare`);

    const next = mulberry32(seed); // a failing stream can be replayed from its seed
    const cuts = [2, 4].filter(() => next() < 0.7); // 1 to 3 groups of consecutive files
    const bounds = [0, ...cuts, events.length];
    const snapshots = cuts.concat(events.length).map((to, i) => {
      const from = bounds[i];
      // Workers started bare, with their own files or with all of them must all merge the same way
      // (files[f] is the file of events[f]).
      const worker = new Inventory([], [[], files.slice(from, to), files][(seed + i) % 3]);
      for (const event of events.slice(from, to).flat()) worker.observe(event);
      return structuredClone(worker.snapshot()); // as postMessage would carry it
    });
    if (seed % 3 === 0 && snapshots.length > 1) {
      // A merged inventory's snapshot merges like any other.
      const middle = new Inventory([], []);
      for (const snapshot of snapshots.splice(0, 2)) middle.merge(snapshot);
      snapshots.push(middle.snapshot());
    }
    const merged = new Inventory(["/r"], files);
    for (const snapshot of seed % 2 === 0 ? snapshots : snapshots.toReversed()) merged.merge(snapshot);
    assert.deepEqual(merged.manifest(NOW), expected, `seed ${seed}`);
  }
});

Deno.test("Inventory snapshot survives structuredClone and does not change with later events", () => {
  const inventory = new Inventory([], []);
  inventory.observe(record("/f", JSON.parse(assistant)));
  inventory.observe({
    kind: "file_done",
    watermark: { path: "/f", size: 9, mtimeMs: 1, offset: 9, lines: 1, headHash: "h" },
    bytesRead: 9,
    linesRead: 1,
    blankLines: 0,
  });
  const snapshot = inventory.snapshot();
  const clone = structuredClone(snapshot);
  assert.deepEqual(clone, snapshot);
  inventory.observe(record("/f", JSON.parse(toolResult)));
  assert.deepEqual(inventory.snapshot().fields.children?.get("type")?.count, 2);
  assert.deepEqual(snapshot, clone);
  const merged = new Inventory([], []);
  merged.merge(clone);
  assert.deepEqual(merged.manifest(NOW).totals.fields["message.content[].input.file_path"], 1);
  assert.deepEqual(merged.manifest(NOW).files[0], {
    path: "/f",
    size: 9,
    mtimeMs: 1,
    lines: 1,
    blankLines: 0,
    records: 1,
    rejects: 0,
    recordTypes: { assistant: 1 },
  });
});

Deno.test("Inventory merge keeps at most 10,000 field paths", () => {
  const snapshots = [0, 1].map((worker) => {
    const inventory = new Inventory([], []);
    const wide: Record<string, unknown> = { shared: 1 };
    for (let i = 0; i < 6_000; i++) wide[`w${worker}k${i}`] = 1;
    inventory.observe(record("/f", wide));
    return inventory.snapshot();
  });
  const merged = new Inventory([], []);
  for (const snapshot of snapshots) merged.merge(snapshot);
  const fields = merged.manifest(NOW).totals.fields;
  assert.equal(Object.keys(fields).length, 10_000);
  assert.equal(fields.shared, 2);
  // A field kept before the cap whose arrays appear only past it: counted, its items dropped.
  const late = new Inventory([], []);
  late.observe(record("/f", Object.fromEntries(Array.from({ length: 9_999 }, (_, i) => [`k${i}`, 1]))));
  late.observe(record("/f", { list: 5 }));
  late.merge(snapshotOf({ list: [{ inner: 1 }] }));
  const lateFields = late.manifest(NOW).totals.fields;
  assert.deepEqual([lateFields.list, lateFields["list[].inner"]], [2, undefined]);
});

function snapshotOf(value: Record<string, unknown>) {
  const inventory = new Inventory([], []);
  inventory.observe(record("/f", value));
  return inventory.snapshot();
}

Deno.test("Inventory settles canonical timestamps inside the range seen without parsing them", () => {
  // Each canonical time inside the range: every month, day 1-28, hour, and varied minutes to milliseconds.
  const inside = Array.from(
    { length: 48 },
    (_, i) =>
      new Date(Date.UTC(2026, i % 12, i % 28 + 1, i % 24, i * 7 % 60, i * 13 % 60, i * 37 % 1000))
        .toISOString(),
  );
  const bounds = ["2025-06-01T00:00:00.000Z", "2027-06-01T00:00:00.000Z"];
  // The bounds again in another form: the same instants, which do not move the range.
  const restated = ["2025-06-01T00:00:00.000+00:00", "2027-06-01T00:00:00Z"];
  const parse = Date.parse;
  let parsed = 0;
  Date.parse = (text: string) => (parsed++, parse(text));
  const inventory = new Inventory([], []);
  try {
    for (const timestamp of [...bounds, ...restated, ...inside]) {
      inventory.observe(record("/f", { timestamp }));
    }
  } finally {
    Date.parse = parse;
  }
  assert.equal(parsed, bounds.length + restated.length);
  const { firstTimestamp, lastTimestamp } = inventory.manifest(NOW).totals;
  assert.deepEqual([firstTimestamp, lastTimestamp], bounds);
});

Deno.test("Inventory finds the first and last timestamps as Date.parse reads them, in any form", () => {
  const timestamps = [
    "2026-02-28T10:00:00.000Z",
    "2026-02-28T12:00:00.000+05:00", // 07:00Z, though its text sorts after 10:00
    "2026-02-28T08:00:00.000-05:00", // 13:00Z
    "2026-02-28 11:00:00Z",
    "2026-02-28T11:00:00Z",
    "2026-02-28T24:00:00.000Z", // March 1st
    "2026-02-29T06:00:00.000Z", // March 1st
    "2026-02-30T00:00:00.000Z", // March 2nd
    "2026-02-31T00:00:00.000Z", // March 3rd
    "2026-03-01T00:00:00.000Z",
    "2026-03-02T12:00:00.000Z",
    "2026-02-28T25:00:00.000Z", // not a time
    "2026-02-28T9:00:00.000Z",
    "+002026-03-01T12:00:00.000Z", // ISO's extended year: its text sorts before every other
  ];
  for (const a of timestamps) {
    for (const b of timestamps) {
      for (const c of timestamps) {
        const sequence = [a, b, c];
        const inventory = new Inventory([], []);
        for (const timestamp of sequence) inventory.observe(record("/f", { timestamp }));
        const times = sequence.map(Date.parse).filter(Number.isFinite);
        const expected = times.length === 0
          ? [null, null]
          : [new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString()];
        const { firstTimestamp, lastTimestamp } = inventory.manifest(NOW).totals;
        assert.deepEqual([firstTimestamp, lastTimestamp], expected, sequence.join(", "));
      }
    }
  }
});

Deno.test('Inventory skips an object keyed "[]" where the same field once held an array', () => {
  const inventory = new Inventory([], []);
  inventory.observe(record("/f", { x: [{ a: 1 }] }));
  inventory.observe(record("/f", { x: { "[]": { y: 1 } } }));
  assert.deepEqual(inventory.manifest(NOW).totals.fields, { x: 2, "x[].a": 1 });
});
