import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { InputError } from "../errors.ts";
import { denoFileSystem, type FileSystem } from "../io/file_system.ts";
import type { ExtractEvent, RawRecord, SourceFile, Watermark } from "../schema/records.ts";
import { writeTree } from "../testing/write_tree.ts";
import { discover } from "./discover.ts";
import { extract, type ExtractOptions, type ExtractReject } from "./extract.ts";

type FileDone = Extract<ExtractEvent, { kind: "file_done" }>;

async function run(root: string, options: Partial<ExtractOptions> = {}) {
  const fs = options.fs ?? denoFileSystem();
  const events: ExtractEvent[] = [];
  for await (const event of extract(await discover([root], { fs }), { ...options, fs })) events.push(event);
  return {
    events,
    records: events.flatMap((e) => (e.kind === "record" ? [e.record] : [])),
    rejects: events.flatMap((e) => (e.kind === "reject" ? [e.reject] : [])),
    done: events.filter((e): e is FileDone => e.kind === "file_done"),
  };
}

const enc = (text: string) => new TextEncoder().encode(text).length;

Deno.test("extract() yields records with file, line, offset, size and type, keeping unknown types", async () => {
  const lines = ['{"type":"user","uuid":"u1"}', '{"uuid":"x"}', '{"type":"marble-origami-commit","z":1}'];
  await using tree = await writeTree({ "p/s.jsonl": lines.join("\n") + "\n" });
  const { records, rejects, done } = await run(tree.path);
  const path = tree.join("p/s.jsonl");
  assert.deepEqual(
    records,
    [
      { file: path, line: 1, offset: 0, bytes: 27, type: "user", value: { type: "user", uuid: "u1" } },
      { file: path, line: 2, offset: 28, bytes: 12, type: "(none)", value: { uuid: "x" } },
      {
        file: path,
        line: 3,
        offset: 41,
        bytes: 38,
        type: "marble-origami-commit",
        value: { type: "marble-origami-commit", z: 1 },
      },
    ] satisfies RawRecord[],
  );
  assert.deepEqual(rejects, []);
  assert.equal(done.length, 1);
  assert.deepEqual(
    { ...done[0], watermark: { ...done[0].watermark, headHash: "-", mtimeMs: 0 } },
    {
      kind: "file_done",
      bytesRead: 80,
      linesRead: 3,
      blankLines: 0,
      watermark: { path, size: 80, mtimeMs: 0, offset: 80, lines: 3, headHash: "-" },
    },
  );
});

Deno.test("extract() reads CRLF lines with offsets counting the \\r", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\r\n{"type":"b"}\r\n' });
  const { records, done } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.type, r.line, r.offset, r.bytes]), [["a", 1, 0, 12], [
    "b",
    2,
    14,
    12,
  ]]);
  assert.equal(done[0].watermark.offset, 28);
});

Deno.test("extract() counts blank and whitespace-only lines without rejecting them", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '\n  \t\n{"type":"a"}\n\r\n' });
  const { records, rejects, done } = await run(tree.path);
  assert.deepEqual(records.map((r) => r.line), [3]);
  assert.equal(rejects.length, 0);
  assert.deepEqual([done[0].linesRead, done[0].blankLines], [4, 3]);
});

Deno.test("extract() rejects a truncated mid-file line and still parses the next one", async () => {
  const stub = '{"type":"user","message":{"content":"hel';
  await using tree = await writeTree({ "p/s.jsonl": `{"type":"a"}\n${stub}\n{"type":"b"}\n` });
  const path = tree.join("p/s.jsonl");
  const { records, rejects, done } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.type, r.line, r.offset]), [["a", 1, 0], ["b", 3, 14 + stub.length]]);
  assert.deepEqual(
    rejects,
    [{
      reject_key: "c8d986a7dff1fdc6:13", // 64-bit fingerprint of the stub's text, then its offset
      source_file: path,
      line_number: 2,
      byte_offset: 13,
      error: "Unterminated string in JSON at position 40 (line 1 column 41)",
      prefix: stub,
      line_bytes: stub.length,
    }] satisfies ExtractReject[],
  );
  assert.equal(done[0].linesRead, 3);
});

Deno.test("extract() recovers a record glued after a truncated stub, with both offsets", async () => {
  const stub = '{"type":"assistant","message":{"content":[{"type":"text","text":"prNu';
  const glued =
    '{"parentUuid":"p","type":"user","message":{"content":[{"type":"text","text":"ok"}]},"uuid":"u2"}';
  const first = '{"type":"a"}\n';
  await using tree = await writeTree({ "p/s.jsonl": `${first}${stub}${glued}\n` });
  const path = tree.join("p/s.jsonl");
  const { records, rejects, done } = await run(tree.path);
  assert.equal(rejects.length, 1);
  assert.deepEqual({ ...rejects[0], error: "" }, {
    reject_key: "acedbd344cacd6e8:13",
    source_file: path,
    line_number: 2,
    byte_offset: first.length,
    error: "",
    prefix: stub,
    line_bytes: stub.length,
  });
  assert.match(rejects[0].error, /^Truncated record followed by a complete one: /);
  assert.equal(records.length, 2);
  assert.deepEqual(
    { ...records[1], value: undefined },
    {
      file: path,
      line: 2,
      offset: first.length + stub.length,
      bytes: glued.length,
      type: "user",
      value: undefined,
    },
  );
  assert.equal(records[1].value.uuid, "u2");
  assert.deepEqual([done[0].linesRead, done[0].blankLines], [2, 0]);
});

Deno.test("extract() computes glued offsets in bytes when the stub holds multibyte text", async () => {
  const stub = '{"type":"user","message":{"content":"héllo wörld 😀';
  const glued = '{"type":"user","uuid":"u9"}';
  await using tree = await writeTree({ "p/s.jsonl": `${stub}${glued}\n` });
  const { records, rejects } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.offset, r.bytes, r.value.uuid]), [[enc(stub), glued.length, "u9"]]);
  assert.deepEqual([rejects[0].byte_offset, rejects[0].line_bytes, rejects[0].prefix], [0, enc(stub), stub]);
});

Deno.test("extract() rejects a line that parses to something other than an object", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '[{"type":"a"}]\n42\nnull\n' });
  const { records, rejects } = await run(tree.path);
  assert.equal(records.length, 0);
  assert.deepEqual(rejects.map((r) => [r.line_number, r.error]), [
    [1, "Expected a JSON object but got an array"],
    [2, "Expected a JSON object but got a number"],
    [3, "Expected a JSON object but got null"],
  ]);
});

Deno.test("extract() keeps a reject's prefix to 200 bytes and its error short", async () => {
  const line = `{"type":"user","text":"${"é".repeat(5000)}`; // truncated: no closing quote
  await using tree = await writeTree({ "p/s.jsonl": `${line}\n` });
  const { rejects } = await run(tree.path);
  assert.equal(rejects.length, 1);
  assert.ok(new TextEncoder().encode(rejects[0].prefix).length <= 200 + 2); // a cut "é" decodes to one U+FFFD
  assert.ok(rejects[0].prefix.startsWith('{"type":"user","text":"éé'));
  assert.ok(rejects[0].error.length <= 200);
  assert.equal(rejects[0].line_bytes, enc(line));
});

Deno.test("extract() leaves a last line without \\n pending, then reads exactly it once completed", async () => {
  const one = '{"type":"a","uuid":"1"}\n';
  const partial = '{"type":"b","uu';
  await using tree = await writeTree({ "p/s.jsonl": one + partial });
  const path = tree.join("p/s.jsonl");
  const first = await run(tree.path);
  assert.deepEqual(first.records.map((r) => r.value.uuid), ["1"]);
  assert.equal(first.rejects.length, 0);
  const mark = first.done[0].watermark;
  assert.deepEqual([mark.offset, mark.lines, mark.size], [one.length, 1, one.length + partial.length]);
  assert.deepEqual([first.done[0].linesRead, first.done[0].bytesRead], [1, one.length]);

  await Deno.writeTextFile(path, 'id":"2"}\n{"type":"c","uuid":"3"}\n', { append: true });
  const second = await run(tree.path, { watermarks: new Map([[path, mark]]) });
  assert.deepEqual(second.records.map((r) => [r.value.uuid, r.line, r.offset]), [
    ["2", 2, one.length],
    ["3", 3, one.length + partial.length + 9],
  ]);
  assert.equal(second.rejects.length, 0);
  assert.deepEqual([second.done[0].linesRead, second.done[0].watermark.lines], [2, 3]);

  const third = await run(tree.path, { watermarks: new Map([[path, second.done[0].watermark]]) });
  assert.deepEqual(third.events.map((e) => e.kind), ["file_done"]);
  assert.deepEqual(third.done[0].watermark, second.done[0].watermark);
  assert.equal(third.done[0].bytesRead, 0);
});

Deno.test("extract() rereads from 0 a file that shrank below its watermark", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n{"type":"b"}\n' });
  const path = tree.join("p/s.jsonl");
  const mark = (await run(tree.path)).done[0].watermark;
  await Deno.writeTextFile(path, '{"type":"c"}\n');
  const again = await run(tree.path, { watermarks: new Map([[path, mark]]) });
  assert.deepEqual(again.records.map((r) => [r.type, r.line, r.offset]), [["c", 1, 0]]);
});

Deno.test("extract() rereads from 0 a file replaced by other bytes of the same or larger size", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n' });
  const path = tree.join("p/s.jsonl");
  const mark = (await run(tree.path)).done[0].watermark;
  await Deno.writeTextFile(path, '{"type":"x"}\n{"type":"y"}\n');
  const again = await run(tree.path, { watermarks: new Map([[path, mark]]) });
  assert.deepEqual(again.records.map((r) => [r.type, r.line]), [["x", 1], ["y", 2]]);
});

Deno.test("extract() gives the same events with tiny chunks, multibyte text included", async () => {
  const text = '{"type":"user","t":"é€😀"}\r\n\n{"type":"a"}\n{"broken\n{"type":"z"}';
  await using tree = await writeTree({ "p/s.jsonl": text });
  const normalize = (events: ExtractEvent[]) =>
    events.map((e) => (e.kind === "file_done" ? { ...e, watermark: { ...e.watermark, mtimeMs: 0 } } : e));
  const expected = normalize((await run(tree.path)).events);
  assert.deepEqual(expected.map((e) => e.kind), ["record", "record", "reject", "file_done"]);
  for (const chunkSize of [1, 2, 3, 7]) {
    const { events } = await run(tree.path, { fs: denoFileSystem({ chunkSize }) });
    assert.deepEqual(normalize(events), expected, `chunkSize ${chunkSize}`);
  }
});

Deno.test("extract() parses a 50 MB single line", async () => {
  const big = "x".repeat(50 * 1024 * 1024);
  await using tree = await writeTree({ "p/s.jsonl": `{"type":"user","blob":"${big}"}\n{"type":"after"}\n` });
  const { records, rejects } = await run(tree.path, { fs: denoFileSystem({ chunkSize: 1 << 20 }) });
  assert.equal(rejects.length, 0);
  assert.deepEqual(records.map((r) => r.type), ["user", "after"]);
  assert.equal((records[0].value.blob as string).length, big.length);
  assert.equal(records[1].offset, big.length + 26);
});

Deno.test("extract() reports progress per file and per chunk", async () => {
  await using tree = await writeTree({ "p/a.jsonl": '{"type":"a"}\n', "p/b.jsonl": '{"type":"b"}\n{}\n' });
  const calls: string[] = [];
  const bytes = new Map<string, number>();
  await run(tree.path, {
    fs: denoFileSystem({ chunkSize: 4 }),
    progress: {
      fileStarted: (path, size) => calls.push(`start ${path.slice(-7)} ${size}`),
      bytesRead: (path, n) => bytes.set(path, (bytes.get(path) ?? 0) + n),
      fileDone: (path) => calls.push(`done ${path.slice(-7)}`),
    },
  });
  assert.deepEqual(calls, ["start a.jsonl 13", "done a.jsonl", "start b.jsonl 16", "done b.jsonl"]);
  assert.deepEqual([...bytes.values()], [13, 16]);
});

Deno.test("extract() tells progress how many files and bytes it is about to read, after the watermarks", async () => {
  const first = '{"type":"a"}\n';
  await using tree = await writeTree({ "p/a.jsonl": first, "p/b.jsonl": '{"type":"b"}\n{}\n' });
  const planned: [number, number][] = [];
  const progress = {
    readPlanned: (files: number, bytes: number) => void planned.push([files, bytes]),
    fileStarted() {},
    bytesRead() {},
    fileDone() {},
  };
  const once = await run(tree.path, { progress });
  await Deno.writeTextFile(tree.join("p/a.jsonl"), '{"type":"c"}\n', { append: true });
  const marks = new Map(once.done.map((d) => [d.watermark.path, d.watermark]));
  await run(tree.path, { progress, watermarks: marks });
  assert.deepEqual(planned, [[2, 13 + 16], [2, 13]]);
});

Deno.test("extract() stops with the signal's reason when aborted", async () => {
  await using tree = await writeTree({ "p/a.jsonl": '{"type":"a"}\n{"type":"b"}\n', "p/b.jsonl": "{}\n" });
  const controller = new AbortController();
  const fs = denoFileSystem({ chunkSize: 4 });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (
      const event of extract(await discover([tree.path], { fs }), { fs, signal: controller.signal })
    ) {
      seen.push(event.kind);
      controller.abort(new Error("interrupted"));
    }
  }, new Error("interrupted"));
  assert.deepEqual(seen, ["record"]);
});

Deno.test("extract() passes on InputError for a file that cannot be read", async () => {
  const file: SourceFile = { path: "/locked/s.jsonl", root: "/locked", size: 10, mtimeMs: 0 };
  const denied = new InputError("Cannot read file '/locked/s.jsonl' as permission is denied");
  // Simulated: the tests may run as root, who can read a chmod 000 file.
  const fs: FileSystem = {
    walk: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(denied) }) }),
    stat: () => Promise.reject(denied),
    read: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(denied) }) }),
    readRange: () => Promise.reject(denied),
  };
  await assert.rejects(async () => {
    for await (const _ of extract([file], { fs })) { /* drain */ }
  }, denied);
});

Deno.test("extract() reads from 0 when a watermark is for another file's bytes", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n{"type":"b"}\n' });
  const path = tree.join("p/s.jsonl");
  const stale: Watermark = { path, size: 13, mtimeMs: 0, offset: 13, lines: 1, headHash: "0000000000000000" };
  const { records } = await run(tree.path, { watermarks: new Map([[path, stale]]) });
  assert.deepEqual(records.map((r) => r.line), [1, 2]);
});

Deno.test("extract() keeps both objects of a line that lost the \\n between two whole records", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a","x":{"y":1}}{"type":"b"}\n' });
  const { records, rejects, done } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.type, r.line, r.offset, r.bytes]), [["a", 1, 0, 24], [
    "b",
    1,
    24,
    12,
  ]]);
  assert.deepEqual([rejects.length, done[0].linesRead], [0, 1]);
});

Deno.test("extract() does not open a file whose watermark is at its size, and reads it once it grows", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"user"}\n' });
  const path = tree.join("p/s.jsonl");
  const opened: string[] = [];
  const base = denoFileSystem();
  const fs: FileSystem = { ...base, read: (file, options) => (opened.push(file), base.read(file, options)) };
  const first = await run(tree.path, { fs });
  const mark = first.done[0].watermark;
  const again = await run(tree.path, { fs, watermarks: new Map([[path, mark]]) });
  assert.deepEqual(opened, [path]); // the first run only
  assert.deepEqual(again.done.map((d) => [d.watermark, d.bytesRead, d.linesRead]), [[mark, 0, 0]]);
  await Deno.writeTextFile(path, '{"type":"x"}\n', { append: true });
  const grown = await run(tree.path, { fs, watermarks: new Map([[path, mark]]) });
  assert.deepEqual(opened, [path, path]);
  assert.deepEqual(grown.records.map((r) => [r.type, r.line]), [["x", 2]]);
});

// The watermark's head hash, computed here independently: sha256 of the 4 KiB before the offset, 16 hex chars.
function sha16(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 16);
}

Deno.test("extract() hashes the 4 KiB before the watermark and reuses it when nothing new was read", async () => {
  const line = (i: number) =>
    `{"type":"user","uuid":"u${String(i).padStart(3, "0")}","pad":"${"x".repeat(60)}"}\n`;
  const first = Array.from({ length: 60 }, (_, i) => line(i)).join(""); // 60 × 99 bytes = 5,940
  await using tree = await writeTree({ "p/s.jsonl": first });
  const path = tree.join("p/s.jsonl");
  const one = await run(tree.path);
  const bytes = new TextEncoder().encode(first);
  assert.equal(bytes.length, 5_940);
  assert.equal(one.done[0].watermark.headHash, sha16(bytes.subarray(5_940 - 4_096)));
  // Appended lines: the new watermark hashes the 4 KiB before the new end.
  await Deno.writeTextFile(path, line(60) + line(61), { append: true });
  const two = await run(tree.path, { watermarks: new Map([[path, one.done[0].watermark]]) });
  assert.deepEqual(two.records.map((r) => r.value.uuid), ["u060", "u061"]);
  const all = await Deno.readFile(path);
  assert.equal(two.done[0].watermark.headHash, sha16(all.subarray(6_138 - 4_096)));
  // A third run resumes from there: nothing is read again.
  const three = await run(tree.path, { watermarks: new Map([[path, two.done[0].watermark]]) });
  assert.deepEqual([three.records.length, three.done[0].watermark.headHash], [
    0,
    two.done[0].watermark.headHash,
  ]);
});

Deno.test("extract() gives an empty file the hash of no bytes", async () => {
  await using tree = await writeTree({ "p/s.jsonl": "" });
  const { done } = await run(tree.path);
  assert.deepEqual([done[0].watermark.offset, done[0].watermark.headHash], [0, "e3b0c44298fc1c14"]);
});

Deno.test("extract() reports the bytes left when it resumes, and the size it read when the file grew", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n' });
  const path = tree.join("p/s.jsonl");
  const fs = denoFileSystem();
  const mark = (await run(tree.path)).done[0].watermark;
  // Discovered at 13 + 13 bytes, then 13 more were appended before Stage 1 read it.
  await Deno.writeTextFile(path, '{"type":"b"}\n', { append: true });
  const files: SourceFile[] = [{ path, root: tree.path, size: 26, mtimeMs: 0 }];
  await Deno.writeTextFile(path, '{"type":"c"}\n', { append: true });
  const started: number[] = [];
  const events = await Array.fromAsync(extract(files, {
    fs,
    watermarks: new Map([[path, mark]]),
    progress: { fileStarted: (_, size) => started.push(size), bytesRead: () => {}, fileDone: () => {} },
  }));
  assert.deepEqual(started, [13]);
  const done = events.find((e): e is FileDone => e.kind === "file_done")!;
  assert.deepEqual([done.watermark.size, done.watermark.offset, done.bytesRead], [39, 39, 26]);
});

Deno.test("extract() treats tab, vertical tab, form feed and CR as blank", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '\t\n\v\n\f\n\r\n \n \r \n{"type":"a"}\n' });
  const { records, rejects, done } = await run(tree.path);
  assert.deepEqual([records.length, rejects.length, done[0].blankLines], [1, 0, 6]);
});

Deno.test("extract() finds a glued record after a stub full of braces and quotes", async () => {
  // Braces not followed by a quote, and quotes before braces, in the stub: only `{"` starts a candidate.
  const stub = '{"type":"assistant","text":"see {x} and "{ or {} "';
  const glued = '{"type":"user","uuid":"u7","message":{"role":"user","content":"go"}}';
  await using tree = await writeTree({ "p/s.jsonl": `${stub}${glued}\n` });
  const { records, rejects } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.offset, r.bytes, r.value.uuid]), [[
    stub.length,
    glued.length,
    "u7",
  ]]);
  assert.deepEqual([rejects[0].line_bytes, rejects[0].prefix], [stub.length, stub]);
});

Deno.test("extract() skips a file deleted after discovery, with or without a watermark", async () => {
  await using tree = await writeTree({ "p/a.jsonl": '{"type":"a"}\n', "p/b.jsonl": '{"type":"b"}\n' });
  const fs = denoFileSystem();
  const [a, b] = [tree.join("p/a.jsonl"), tree.join("p/b.jsonl")];
  const marks = new Map((await run(tree.path)).done.map((d) => [d.watermark.path, d.watermark]));
  await Deno.writeTextFile(a, '{"type":"a"}\n{"type":"a2"}\n'); // grown: read from its watermark
  const files = await discover([tree.path], { fs });
  await Deno.remove(b);
  const calls: string[] = [];
  const progress = {
    fileStarted: (path: string) => calls.push(`start ${path.slice(-7)}`),
    bytesRead: () => {},
    fileDone: (path: string) => calls.push(`done ${path.slice(-7)}`),
  };
  // b had a watermark: its head cannot be hashed any more.
  const resumed = await Array.fromAsync(extract(files, { fs, watermarks: marks, progress }));
  assert.deepEqual(resumed.map((e) => e.kind === "record" ? e.record.type : e.kind), ["a2", "file_done"]);
  assert.deepEqual(calls, ["start a.jsonl", "done a.jsonl", "start b.jsonl", "done b.jsonl"]);
  // Without watermarks: the read itself finds it gone.
  const fresh = await Array.fromAsync(extract(files, { fs }));
  assert.deepEqual(fresh.map((e) => e.kind === "record" ? e.record.type : e.kind), ["a", "a2", "file_done"]);
});

Deno.test("extract() plans the bytes left to read from the watermarks", async () => {
  await using tree = await writeTree({ "p/a.jsonl": '{"type":"a"}\n', "p/b.jsonl": '{"type":"b"}\n' });
  const fs = denoFileSystem();
  const first = await run(tree.path);
  const marks = new Map([[first.done[0].watermark.path, first.done[0].watermark]]);
  await Deno.writeTextFile(tree.join("p/a.jsonl"), '{"type":"a2"}\n', { append: true });
  const planned: [number, number][] = [];
  await Array.fromAsync(extract(await discover([tree.path], { fs }), {
    fs,
    watermarks: marks,
    progress: {
      readPlanned: (files, bytes) => planned.push([files, bytes]),
      fileStarted: () => {},
      bytesRead: () => {},
      fileDone: () => {},
    },
  }));
  // a: 14 new bytes after its watermark; b: all 13 (no watermark).
  assert.deepEqual(planned, [[2, 27]]);
});

Deno.test("extract() keeps the byte scan in step past a brace with no quote after it", async () => {
  // From the end: `{"k"…` fails, then `{ "c"` is no candidate, then the glued record's start parses.
  const stub = '{ "t":"cut';
  const glued = '{"type":"user","uuid":"u8","a":{"k":1},"b":{ "c":2}}';
  await using tree = await writeTree({ "p/s.jsonl": `${stub}${glued}\n` });
  const { records, rejects } = await run(tree.path);
  assert.deepEqual(records.map((r) => [r.offset, r.bytes, r.value.uuid]), [[
    stub.length,
    glued.length,
    "u8",
  ]]);
  assert.deepEqual([rejects[0].line_bytes, rejects[0].prefix], [stub.length, stub]);
});

Deno.test("extract() says why a stub before a glued record is not a record", async () => {
  const glued = '{"type":"user","uuid":"u9"}';
  await using tree = await writeTree({ "p/s.jsonl": `[1, 2]${glued}\n` });
  const { records, rejects } = await run(tree.path);
  assert.deepEqual(records.map((r) => r.value.uuid), ["u9"]);
  assert.equal(
    rejects[0].error,
    "Truncated record followed by a complete one: Expected a JSON object but got an array",
  );
});

Deno.test("extract() hashes the watermark's head from the bytes it read, as a fresh read of the file would", async () => {
  const line = (i: number) =>
    JSON.stringify({ type: "user", uuid: `u${i}`, pad: "x".repeat(i * 37 % 900) }) + "\n";
  let text = "";
  for (let i = 0; i < 60; i++) text += line(i);
  const cases: Record<string, string> = {
    "short.jsonl": line(1),
    "long.jsonl": text,
    "partial.jsonl": text + '{"half',
  };
  await using tree = await writeTree(cases);
  const expected = (bytes: Uint8Array, offset: number) =>
    createHash("sha256").update(bytes.subarray(Math.max(0, offset - 4096), offset)).digest("hex").slice(
      0,
      16,
    );
  for (const chunkSize of [7, 1000, 3000, 1 << 16]) {
    // The head is hashed from the bytes kept while reading: the file is not read a second time.
    let rangeReads = 0;
    const fs = denoFileSystem({ chunkSize });
    const counted: FileSystem = { ...fs, readRange: (...args) => (rangeReads++, fs.readRange(...args)) };
    const { events } = await run(tree.path, { fs: counted });
    assert.equal(rangeReads, 0, `chunkSize ${chunkSize}`);
    for (const event of events) {
      if (event.kind !== "file_done") continue;
      const bytes = await Deno.readFile(event.watermark.path);
      const want = expected(bytes, event.watermark.offset);
      assert.equal(event.watermark.headHash, want, `${event.watermark.path}, chunkSize ${chunkSize}`);
    }
  }
});

Deno.test("extract() reads a file that was empty when discovered and written since", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"user"}\n' });
  const file: SourceFile = { path: tree.join("p/s.jsonl"), root: tree.path, size: 0, mtimeMs: 0 };
  const events = await Array.fromAsync(extract([file], { fs: denoFileSystem() }));
  assert.deepEqual(events.map((e) => e.kind === "record" ? e.record.type : e.kind), ["user", "file_done"]);
});

Deno.test('extract() rejects a line that opens with a brace but holds no {" at all', async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{ not json }\n{"type":"user"}\n' });
  const { records, rejects } = await run(tree.path);
  assert.deepEqual(records.map((r) => r.type), ["user"]);
  assert.deepEqual(rejects.map((r) => [r.line_number, r.prefix]), [[1, "{ not json }"]]);
});

Deno.test("extract() fails on an unreadable watermarked head, skips a file gone by then", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n' });
  const real = denoFileSystem();
  const files = await discover([tree.path], { fs: real });
  const marks = new Map((await run(tree.path)).done.map((d) => [d.watermark.path, d.watermark]));
  await Deno.writeTextFile(files[0].path, '{"type":"b"}\n', { append: true });
  const grown = await discover([tree.path], { fs: real });
  const denied = new InputError("Cannot read file as permission is denied");
  const locked: FileSystem = { ...real, readRange: () => Promise.reject(denied) };
  await assert.rejects(() => Array.fromAsync(extract(grown, { fs: locked, watermarks: marks })), denied);
  // Gone when its head is hashed: skipped for this run, with no watermark, even if it is back by the read.
  const gone = new InputError("Cannot read file as it does not exist", { cause: new Deno.errors.NotFound() });
  const flaky: FileSystem = { ...real, readRange: () => Promise.reject(gone) };
  assert.deepEqual(await Array.fromAsync(extract(grown, { fs: flaky, watermarks: marks })), []);
});

Deno.test("extract() fails when a file is found gone after its first chunk, not ending it early", async () => {
  await using tree = await writeTree({ "p/s.jsonl": '{"type":"a"}\n{"type":"b"}\n' });
  const real = denoFileSystem();
  const files = await discover([tree.path], { fs: real });
  const gone = new InputError("Cannot read file as it does not exist", { cause: new Deno.errors.NotFound() });
  const cut: FileSystem = {
    ...real,
    read: async function* () {
      yield new TextEncoder().encode('{"type":"a"}\n');
      throw gone;
    },
  };
  await assert.rejects(() => Array.fromAsync(extract(files, { fs: cut })), gone);
});
