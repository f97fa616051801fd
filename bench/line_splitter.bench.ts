/**
 * Micro-benchmarks for the Stage 0–1 hot path: splitting bytes into lines, parsing them, and the whole
 * extract + inventory pass, over an in-memory corpus (no disk). MB/s = corpus size / time per iteration:
 * `deno bench` prints the time; the corpus size is in each bench's name.
 *
 * Run: `deno task microbench bench/line_splitter.bench.ts`
 *
 * @module
 */
import type { FileSystem } from "../src/io/file_system.ts";
import { splitLines } from "../src/io/line_splitter.ts";
import type { SourceFile } from "../src/schema/records.ts";
import { extract } from "../src/stages/extract.ts";
import { Inventory } from "../src/stages/inventory.ts";

const CHUNK = 512 * 1024;
const TARGET_BYTES = 32 * 1024 * 1024;

/** A deterministic corpus shaped like Claude Code transcripts: prompts, multi-block assistant lines, tool results. */
function corpus(targetBytes: number): Uint8Array {
  const lines: string[] = [];
  let size = 0;
  let i = 0;
  while (size < targetBytes) {
    const base = {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      parentUuid: i === 0 ? null : `00000000-0000-4000-8000-${String(i - 1).padStart(12, "0")}`,
      sessionId: "5f0c1c2e-8a55-4a55-9f5e-2d6f1d1b7a10",
      timestamp: new Date(Date.UTC(2026, 4, 2, 9, 0, 0, i * 10)).toISOString(),
      cwd: "/home/a/proj",
      gitBranch: "main",
      version: "2.1.140",
      userType: "external",
      isSidechain: false,
    };
    let record: unknown;
    switch (i % 4) {
      case 0:
        record = {
          ...base,
          type: "user",
          message: { role: "user", content: `please fix the retry loop ${i} ` + "é".repeat(20) },
        };
        break;
      case 1:
        record = {
          ...base,
          type: "assistant",
          requestId: `req_${i}`,
          message: {
            id: `msg_${i}`,
            type: "message",
            role: "assistant",
            model: "claude-sonnet-4-5-20250929",
            content: [{ type: "text", text: "Here is the change. ".repeat(40) }],
            stop_reason: null,
            usage: {
              input_tokens: 4,
              cache_creation_input_tokens: 2100,
              cache_read_input_tokens: 41000,
              output_tokens: 212,
            },
          },
        };
        break;
      case 2:
        record = {
          ...base,
          type: "assistant",
          requestId: `req_${i - 1}`,
          message: {
            id: `msg_${i - 1}`,
            model: "claude-sonnet-4-5-20250929",
            content: [{
              type: "tool_use",
              id: `toolu_${i}`,
              name: "Read",
              input: { file_path: "/home/a/proj/loader.ts" },
            }],
            usage: { input_tokens: 4, output_tokens: 212 },
          },
        };
        break;
      default:
        record = {
          ...base,
          type: "user",
          message: {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: `toolu_${i - 1}`, content: "x".repeat(3000) }],
          },
          toolUseResult: {
            type: "text",
            file: { filePath: "/home/a/proj/loader.ts", content: "y".repeat(3000) },
          },
        };
    }
    const text = JSON.stringify(record) + "\n";
    lines.push(text);
    size += text.length;
    i++;
  }
  return new TextEncoder().encode(lines.join(""));
}

const data = corpus(TARGET_BYTES);
const MB = (data.length / 1e6).toFixed(1);

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

const file: SourceFile = { path: "/mem/s.jsonl", root: "/mem", size: data.length, mtimeMs: 0 };
const memoryFs: FileSystem = {
  async *walk() {
    yield file;
  },
  stat: () => Promise.resolve({ size: data.length, mtimeMs: 0 }),
  read: (_path, options) => {
    const from = options?.offset ?? 0;
    return (async function* () {
      for (let i = from; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
    })();
  },
  readRange: (_path, offset, length) => Promise.resolve(data.slice(offset, offset + length)),
};

Deno.bench(`splitLines() over ${MB} MB`, { group: "stage1", baseline: true }, async () => {
  let n = 0;
  for await (const _ of splitLines(chunks())) n++;
  if (n === 0) throw new Error("no lines");
});

Deno.bench(`splitLines() + decode + JSON.parse over ${MB} MB`, { group: "stage1" }, async () => {
  const decoder = new TextDecoder();
  let n = 0;
  for await (const line of splitLines(chunks())) {
    if (JSON.parse(decoder.decode(line.bytes)) !== null) n++;
  }
  if (n === 0) throw new Error("no records");
});

Deno.bench(`extract() over ${MB} MB`, { group: "stage1" }, async () => {
  let n = 0;
  for await (const event of extract([file], { fs: memoryFs })) if (event.kind === "record") n++;
  if (n === 0) throw new Error("no records");
});

Deno.bench(`extract() + Inventory over ${MB} MB`, { group: "stage1" }, async () => {
  const inventory = new Inventory(["/mem"], [file]);
  for await (const event of extract([file], { fs: memoryFs })) inventory.observe(event);
  if (inventory.manifest(new Date(0)).totals.records === 0) throw new Error("no records");
});
