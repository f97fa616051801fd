import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { correctionRequestSchema } from "../schema/correction.ts";
import {
  buildRequestText,
  estimateOutputTokens,
  estimateRequestTokens,
  PROMPT_VERSION,
  SYSTEM_PROMPT,
} from "./prompt.ts";

Deno.test("buildRequestText() is the wire contract's JSON body", () => {
  const items = [{ id: "a1", text: 'say "hi"\nthere' }];
  const text = buildRequestText(items);
  assert.deepEqual(correctionRequestSchema.parse(JSON.parse(text)), { items });
});

Deno.test("estimateRequestTokens() grows with the batch and counts the instruction", () => {
  const one = estimateRequestTokens([{ id: "a1", text: "x".repeat(400) }]);
  const two = estimateRequestTokens([{ id: "a1", text: "x".repeat(400) }, {
    id: "a2",
    text: "x".repeat(400),
  }]);
  assert.ok(one > 100 + SYSTEM_PROMPT.length / 4 - 1);
  assert.ok(two - one >= 100);
  assert.ok(estimateOutputTokens([{ id: "a1", text: "x".repeat(400) }]) >= 100);
});

Deno.test("SYSTEM_PROMPT asks to keep placeholders and code verbatim", () => {
  assert.match(SYSTEM_PROMPT, /\{\{SECRET_1\}\}/);
  assert.match(SYSTEM_PROMPT, /verbatim/);
});

Deno.test("PROMPT_VERSION names this exact SYSTEM_PROMPT", () => {
  // Cached answers are keyed by PROMPT_VERSION: a changed prompt with the old version would serve
  // answers to a question no longer asked. Changing the prompt means a new version, and both values here.
  const promptSha = createHash("sha256").update(SYSTEM_PROMPT).digest("hex").slice(0, 16);
  assert.deepEqual({ version: PROMPT_VERSION, promptSha }, {
    version: "2026-11-v1",
    promptSha: "085c127fb2f15d64",
  });
});
