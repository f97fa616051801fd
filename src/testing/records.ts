/**
 * Test helpers: small Claude Code records as JSONL lines.
 *
 * @module
 */
import type { RawRecord } from "../schema/mod.ts";

let counter = 0;

/** A typed user prompt line. */
export function userPrompt(text: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "user",
    uuid: `u-${++counter}`,
    parentUuid: null,
    sessionId: "s1",
    timestamp: "2026-05-02T09:00:00.000Z",
    cwd: "/home/a/proj",
    message: { role: "user", content: text },
    ...fields,
  };
}

/** An assistant line with usage. */
export function assistantLine(
  messageId: string,
  requestId: string | null,
  usage: { input: number; output: number; cacheCreate?: number; cacheRead?: number },
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: "assistant",
    uuid: `a-${++counter}`,
    sessionId: "s1",
    timestamp: "2026-05-02T09:00:01.000Z",
    cwd: "/home/a/proj",
    ...(requestId ? { requestId } : {}),
    message: {
      id: messageId,
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "ok" }],
      usage: {
        input_tokens: usage.input,
        output_tokens: usage.output,
        cache_creation_input_tokens: usage.cacheCreate ?? 0,
        cache_read_input_tokens: usage.cacheRead ?? 0,
      },
    },
    ...fields,
  };
}

/** Joins records as JSONL text (each line ends in `\n`). */
export function jsonl(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r) + "\n").join("");
}

/** Wraps JSON objects as Stage 1 records of `file`, one per line, 100 bytes apart. */
export function rawRecords(file: string, values: Record<string, unknown>[]): RawRecord[] {
  return values.map((value, i) => ({
    file,
    line: i + 1,
    offset: i * 100,
    bytes: 99,
    type: typeof value.type === "string" ? value.type : "(none)",
    value,
  }));
}
