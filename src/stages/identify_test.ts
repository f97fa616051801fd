import assert from "node:assert/strict";
import { envelopeSchema } from "../schema/mod.ts";
import { userPrompt } from "../testing/records.ts";
import { classify } from "./classify.ts";
import type { CleanRecord } from "./clean.ts";
import { MAX_STORED_TEXT_CHARS, toMessageRow } from "./identify.ts";

function rowOf(value: Record<string, unknown>) {
  const env = envelopeSchema.parse(value);
  const record: CleanRecord = {
    raw: { file: "/p/s1.jsonl", line: 1, offset: 0, bytes: 10, type: String(value.type), value },
    env,
    classified: classify(env),
    text: null,
    timestamp: null,
  };
  return toMessageRow(record, { runId: "r1", turns: new Map(), promptStatus: "skipped_no_llm" });
}

// `{"note":"` + body + `"}` is the extra's JSON: 11 characters around the body.
const AROUND = '{"note":""}'.length;

Deno.test("toMessageRow() keeps unknown keys in extra, and null when there are none", () => {
  assert.deepEqual(rowOf(userPrompt("hi", { slug: "a-b", todos: [1, { x: true }] })).extra, {
    slug: "a-b",
    todos: [1, { x: true }],
  });
  assert.equal(rowOf(userPrompt("hi")).extra, null);
});

Deno.test("toMessageRow() keeps an extra whose JSON is exactly the limit and cuts one a character longer", () => {
  const exact = "x".repeat(MAX_STORED_TEXT_CHARS - AROUND);
  assert.deepEqual(rowOf(userPrompt("hi", { note: exact })).extra, { note: exact });
  assert.deepEqual(rowOf(userPrompt("hi", { note: `${exact}x` })).extra, { truncated: true, keys: ["note"] });
});

Deno.test("toMessageRow() counts escapes in the extra's size: short text can serialise past the limit", () => {
  // 30,000 characters, each written as \u0001 (6 characters): 180,011 characters of JSON.
  const controls = "\u0001".repeat(30_000);
  assert.deepEqual(rowOf(userPrompt("hi", { note: controls })).extra, { truncated: true, keys: ["note"] });
  // 20,000 quotes, each written as \" (2 characters): 40,011 characters, under the limit.
  const quotes = '"'.repeat(20_000);
  assert.deepEqual(rowOf(userPrompt("hi", { note: quotes })).extra, { note: quotes });
});
