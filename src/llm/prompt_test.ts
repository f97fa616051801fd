import assert from "node:assert/strict";
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
  assert.match(PROMPT_VERSION, /\S/);
});
