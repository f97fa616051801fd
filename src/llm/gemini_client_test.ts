import assert from "node:assert/strict";
import { correctionAnswerJsonSchema } from "../schema/correction.ts";
import { createGeminiClient, mapError, parseDuration } from "./gemini_client.ts";
import { GeminiRequestError, GeminiResponseError, RateLimitError, TransientServiceError } from "./errors.ts";
import { SYSTEM_PROMPT } from "./prompt.ts";
import { startMocks } from "../../mocks/mod.ts";

const KEY = "AIzaTEST-key-that-must-never-leak-0000000";
const MODEL = "gemini-2.5-flash-lite";
const items = [
  { id: "a1", text: "pls fix teh bug in `fucntion()`" },
  { id: "a2", text: "waht does this do" },
];

function client(timeoutMs = 5_000, endpoint?: string) {
  return createGeminiClient({ apiKey: KEY, model: MODEL, timeoutMs, endpoint });
}

Deno.test("geminiClient.correctBatch() sends the wire contract and returns the validated answer", async () => {
  using server = startMocks({ gemini: {} });
  const { answer, usage } = await client().correctBatch(items, {});
  assert.deepEqual(answer.items, [
    { id: "a1", corrected: "pls fix the bug in `fucntion()`" },
    { id: "a2", corrected: "what does this do" },
  ]);
  assert.ok(usage.promptTokens > 0 && usage.outputTokens > 0);
  const body = JSON.parse(server.bodies[0]!);
  assert.equal(body.systemInstruction.parts[0].text, SYSTEM_PROMPT);
  assert.equal(body.generationConfig.responseMimeType, "application/json");
  assert.deepEqual(body.generationConfig.responseJsonSchema, correctionAnswerJsonSchema());
  assert.equal(body.contents.length, 1);
  assert.deepEqual(JSON.parse(body.contents[0].parts[0].text), { items });
  assert.equal(server.gemini.calls.length, 1);
});

Deno.test("geminiClient sends to an overridden endpoint", async () => {
  using server = startMocks({ gemini: { baseUrls: ["http://localhost:9/gw"] } });
  await client(5_000, "http://localhost:9/gw").correctBatch(items, {});
  assert.equal(server.gemini.calls.length, 1);
});

Deno.test("geminiClient makes one attempt per call (SDK retries off) and maps 5xx", async () => {
  using server = startMocks({ gemini: { faults: [{ fault: "http503", rate: 1 }] } });
  const error = await client().correctBatch(items, {}).catch((e) => e);
  assert.ok(error instanceof TransientServiceError);
  assert.equal(error.kind, "http_5xx");
  assert.equal(error.status, 503);
  assert.equal(server.gemini.calls.length, 1);
});

Deno.test("geminiClient maps per-minute and per-day 429s with their retry delay", async () => {
  using server = startMocks({ gemini: { quotas: { rpm: 1 } } });
  await client().correctBatch(items, {});
  const minute = await client().correctBatch(items, {}).catch((e) => e);
  assert.ok(minute instanceof RateLimitError);
  assert.equal(minute.isDaily, false);
  assert.match(minute.quotaId!, /PerMinute/);
  assert.ok(minute.retryDelayMs! > 0 && minute.retryDelayMs! <= 60_000);
  server.gemini.configure({ quotas: { rpd: 1 } });
  server.gemini.reset();
  await client().correctBatch(items, {});
  const daily = await client().correctBatch(items, {}).catch((e) => e);
  assert.ok(daily instanceof RateLimitError);
  assert.equal(daily.isDaily, true);
  assert.equal(daily.exitCode, 75);
});

Deno.test("geminiClient maps unusable answers to GeminiResponseError", async () => {
  for (
    const [fault, kind] of [["malformed_json", "malformed"], ["max_tokens", "truncated"], [
      "safety",
      "blocked",
    ]]
  ) {
    using _server = startMocks({ gemini: { faults: [{ fault: fault as "safety", rate: 1 }] } });
    const error = await client().correctBatch(items, {}).catch((e) => e);
    assert.ok(error instanceof GeminiResponseError, fault);
    assert.equal(error.kind, kind, fault);
  }
});

Deno.test("geminiClient maps a hang to a timeout", async () => {
  using server = startMocks({ gemini: { faults: [{ fault: "hang", rate: 1 }], hangMaxMs: 5_000 } });
  const error = await client(100).correctBatch(items, {}).catch((e) => e);
  assert.ok(error instanceof TransientServiceError);
  assert.equal(error.kind, "timeout");
  // The mock records the call once it sees the abort: let the event loop run until then.
  for (let turn = 0; turn < 1_000 && server.gemini.calls.length === 0; turn++) {
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.equal(server.gemini.calls[0]?.status, 499);
});

Deno.test("geminiClient rejects with the caller's abort reason", async () => {
  using mocks = startMocks({ gemini: { latency: { kind: "fixed", ms: 2_000 } } });
  const controller = new AbortController();
  // Abort once the request is in flight (the mock would answer only after 2 s).
  mocks.server.events.on("request:start", () => controller.abort(new Error("user stop")));
  const pending = client().correctBatch(items, { signal: controller.signal });
  await assert.rejects(pending, /user stop/);
});

Deno.test("geminiClient error messages hold neither the key nor prompt text", async () => {
  using _server = startMocks({ gemini: { faults: [{ fault: "http500", rate: 1 }] } });
  const errors = [
    await client().correctBatch(items, {}).catch((e) => e),
    await createGeminiClient({ apiKey: KEY, model: "no-such-model", timeoutMs: 5_000 }).correctBatch(
      items,
      {},
    )
      .catch((e) => e),
  ];
  assert.ok(errors[1] instanceof GeminiRequestError);
  assert.equal(errors[1].status, 404);
  for (const error of errors) {
    const text = `${error.message} ${String(error.cause ?? "")} ${JSON.stringify(error)}`;
    assert.ok(!text.includes(KEY));
    assert.ok(!text.includes("fucntion") && !text.includes("waht"));
  }
});

Deno.test("geminiClient.checkModel() reports whether the model exists", async () => {
  using _server = startMocks({ gemini: {} });
  assert.equal((await client().checkModel()).exists, true);
  const missing = await createGeminiClient({ apiKey: KEY, model: "gemini-2.0-flash-lite", timeoutMs: 5_000 })
    .checkModel();
  assert.equal(missing.exists, false);
  assert.ok(!missing.detail.includes(KEY));
});

Deno.test("parseDuration() reads protobuf durations", () => {
  assert.equal(parseDuration("26s"), 26_000);
  assert.equal(parseDuration("0.5s"), 500);
  assert.equal(parseDuration("soon"), undefined);
  assert.ok(mapError(new TypeError("fetch failed")) instanceof TransientServiceError);
});

Deno.test("createGeminiClient() throws without a key or Vertex settings", () => {
  assert.throws(() => createGeminiClient({ model: MODEL, timeoutMs: 1 }), TypeError);
  assert.throws(() => createGeminiClient({ apiKey: KEY, model: MODEL, timeoutMs: 0 }), RangeError);
});
