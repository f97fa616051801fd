import assert from "node:assert/strict";
import { z } from "zod";
import { envelopeSchema } from "./records.ts";
import { fastGuard } from "./fast_guard.ts";

const envelope = fastGuard(envelopeSchema);

Deno.test("fastGuard() passes envelopes zod accepts, unknown keys included", () => {
  assert.equal(envelope({ type: "user", uuid: "u1" }), true);
  assert.equal(
    envelope({
      type: "assistant",
      uuid: "u2",
      parentUuid: null,
      isSidechain: false,
      toolUseResult: { anything: [1] },
      message: { id: "m", content: [{ type: "text" }], usage: { input_tokens: 3, speed: null, other: "x" } },
    }),
    true,
  );
});

Deno.test("fastGuard() refuses what zod refuses, at any depth", () => {
  assert.equal(envelope({ type: "user", uuid: "" }), false); // min(1)
  assert.equal(envelope({ type: "user" }), false); // required
  assert.equal(envelope({ type: 3, uuid: "u" }), false);
  assert.equal(envelope({ type: "user", uuid: "u", isMeta: "yes" }), false);
  assert.equal(envelope({ type: "user", uuid: "u", message: [] }), false);
  assert.equal(envelope({ type: "user", uuid: "u", message: { usage: { input_tokens: "3" } } }), false);
  // Token counts are non-negative safe integers.
  for (const count of [-1, 0.5, 1e300]) {
    assert.equal(envelope({ type: "user", uuid: "u", message: { usage: { output_tokens: count } } }), false);
  }
  const nested = { usage: { cache_creation: { ephemeral_1h_input_tokens: -2 } } };
  assert.equal(envelope({ type: "user", uuid: "u", message: nested }), false);
  assert.equal(envelope([]), false);
  assert.equal(envelope(null), false);
});

Deno.test("fastGuard() answers false for a schema it cannot compile, leaving the verdict to zod", () => {
  assert.equal(fastGuard(z.object({ a: z.string() }))({ a: "x" }), false); // strips unknown keys
  assert.equal(fastGuard(z.looseObject({ a: z.email() }))({ a: "x@y.z" }), false);
  assert.equal(fastGuard(z.looseObject({ n: z.number().multipleOf(2) }))({ n: 2 }), false);
  assert.equal(fastGuard(z.looseObject({ n: z.number() }))({ n: 1 }), true);
});

Deno.test("fastGuard() keeps z.int() and the bounds of numbers", () => {
  const guard = fastGuard(z.looseObject({ n: z.int().min(0), x: z.number().gt(1).lte(2).optional() }));
  assert.equal(guard({ n: 0 }), true);
  assert.equal(guard({ n: 2 ** 53 }), false);
  assert.equal(guard({ n: 1.5 }), false);
  assert.equal(guard({ n: 3, x: 2 }), true);
  assert.equal(guard({ n: 3, x: 1 }), false);
  assert.equal(guard({ n: 3, x: 2.5 }), false);
});
