import assert from "node:assert/strict";
import { type Line, splitLines } from "./line_splitter.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function collect(source: AsyncIterable<Uint8Array>, options?: Parameters<typeof splitLines>[1]) {
  const lines: (Omit<Line, "bytes"> & { text: string })[] = [];
  for await (const { bytes, ...rest } of splitLines(source, options)) {
    lines.push({ ...rest, text: decoder.decode(bytes) });
  }
  return lines;
}

Deno.test("splitLines() yields offsets, line numbers and ends for terminated lines", async () => {
  const lines = await collect(chunked(encoder.encode("ab\n\ncde\n"), 1024));
  assert.deepEqual(lines, [
    { text: "ab", offset: 0, end: 3, line: 1, terminated: true },
    { text: "", offset: 3, end: 4, line: 2, terminated: true },
    { text: "cde", offset: 4, end: 8, line: 3, terminated: true },
  ]);
});

Deno.test("splitLines() strips the \\r of CRLF but counts it in offsets", async () => {
  const lines = await collect(chunked(encoder.encode("a\r\nbc\r\nd\n"), 1024));
  assert.deepEqual(lines.map((l) => [l.text, l.offset, l.end]), [["a", 0, 3], ["bc", 3, 7], ["d", 7, 9]]);
});

Deno.test("splitLines() strips a \\r whose \\n arrives in the next chunk", async () => {
  const lines = await collect(fromChunks([encoder.encode("ab\r"), encoder.encode("\ncd\n")]));
  assert.deepEqual(lines.map((l) => [l.text, l.offset]), [["ab", 0], ["cd", 4]]);
});

Deno.test("splitLines() keeps a multibyte character split across chunks intact", async () => {
  const bytes = encoder.encode("é€😀\nx\n"); // 2 + 3 + 4 bytes before the first "\n"
  for (let size = 1; size <= 10; size++) {
    const lines = await collect(chunked(bytes, size));
    assert.deepEqual(lines.map((l) => [l.text, l.offset]), [["é€😀", 0], ["x", 10]], `chunk size ${size}`);
  }
});

Deno.test("splitLines() yields a last fragment without \\n as not terminated", async () => {
  const lines = await collect(chunked(encoder.encode("a\nbc\r"), 2));
  assert.deepEqual(lines, [
    { text: "a", offset: 0, end: 2, line: 1, terminated: true },
    { text: "bc\r", offset: 2, end: 5, line: 2, terminated: false },
  ]);
});

Deno.test("splitLines() yields nothing for empty input or empty chunks", async () => {
  assert.deepEqual(await collect(fromChunks([])), []);
  assert.deepEqual(await collect(fromChunks([new Uint8Array(), new Uint8Array()])), []);
});

Deno.test("splitLines() gives the same lines for every chunk size", async () => {
  const text = '{"a":1}\n\r\n{"b":"ü"}\r\nlast';
  const bytes = encoder.encode(text);
  const expected = await collect(fromChunks([bytes]));
  assert.equal(expected.length, 4);
  for (let size = 1; size <= bytes.length; size++) {
    assert.deepEqual(await collect(chunked(bytes, size)), expected, `chunk size ${size}`);
  }
});

Deno.test("splitLines() continues offsets and line numbers from startOffset and startLine", async () => {
  const lines = await collect(chunked(encoder.encode("x\ny\n"), 3), { startOffset: 100, startLine: 7 });
  assert.deepEqual(lines.map((l) => [l.text, l.offset, l.line]), [["x", 100, 7], ["y", 102, 8]]);
});

Deno.test("splitLines() joins one line spread over many one-byte chunks", async () => {
  const long = "z".repeat(100_000);
  const lines = await collect(chunked(encoder.encode(`${long}\nq\n`), 1));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].text, long);
  assert.deepEqual([lines[1].text, lines[1].offset], ["q", 100_001]);
});

Deno.test("splitLines() throws for a negative startOffset or a startLine below 1", async () => {
  await assert.rejects(
    collect(fromChunks([]), { startOffset: -1 }),
    new RangeError("Cannot split lines as 'startOffset' must be a non-negative integer: current value is -1"),
  );
  await assert.rejects(
    collect(fromChunks([]), { startLine: 0 }),
    new RangeError("Cannot split lines as 'startLine' must be a positive integer: current value is 0"),
  );
});
