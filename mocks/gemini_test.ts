import assert from "node:assert/strict";
import { setupServer } from "msw/node";
import { ApiError, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { correctionAnswerJsonSchema, correctionAnswerSchema } from "../src/schema/correction.ts";
import {
  correctTypos,
  createGeminiMock,
  GEMINI_FAULTS,
  type GeminiFault,
  type GeminiMock,
  protectedSpans,
  TYPO_DICTIONARY,
} from "./gemini.ts";

const MODEL = "gemini-2.5-flash-lite";
const SYSTEM =
  "ccpipe correction prompt v1: fix only spelling; keep code, URLs, paths and {{SECRET_n}} verbatim.";

/** Items with typos and every kind of span a careful model keeps. */
const ITEMS = [
  { id: "a1", text: "Teh fucntion dont work, see https://exmaple.com/teh?q=1 and ./src/teh.ts" },
  { id: "a2", text: "Use `fucntion teh()` with key {{SECRET_1}} and recieve teh result" },
  { id: "a3", text: "Please RECIEVE this:\n```ts\nconst teh = 1;\n```\nthen retrun {{SECRET_2}}" },
];
const EXPECTED = [
  "The function don't work, see https://exmaple.com/teh?q=1 and ./src/teh.ts",
  "Use `fucntion teh()` with key {{SECRET_1}} and receive the result",
  "Please RECEIVE this:\n```ts\nconst teh = 1;\n```\nthen return {{SECRET_2}}",
];

function listen(mock: GeminiMock): Disposable {
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: "error" });
  return { [Symbol.dispose]: () => server.close() };
}

function client(options: { timeout?: number; baseUrl?: string } = {}): GoogleGenAI {
  // @google/genai 3.3 retries only when httpOptions.retryOptions is set, so this client never retries.
  return new GoogleGenAI({ apiKey: "test-key", httpOptions: options });
}

function correct(
  ai: GoogleGenAI,
  items: readonly { id: string; text: string }[] = ITEMS,
  model = MODEL,
): Promise<GenerateContentResponse> {
  return ai.models.generateContent({
    model,
    contents: [{ role: "user", parts: [{ text: JSON.stringify({ items }) }] }],
    config: {
      systemInstruction: SYSTEM,
      responseMimeType: "application/json",
      responseJsonSchema: correctionAnswerJsonSchema(),
    },
  });
}

interface ErrorDetail {
  "@type": string;
  retryDelay?: string;
  violations?: {
    quotaMetric: string;
    quotaId: string;
    quotaValue: string;
    quotaDimensions: Record<string, string>;
  }[];
}
interface ErrorJson {
  error: { code: number; message: string; status: string; details?: ErrorDetail[] };
}

async function apiError(promise: Promise<unknown>): Promise<{ status: number; body: ErrorJson }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected ApiError, got ${error}`);
    return { status: error.status, body: JSON.parse(error.message) };
  }
  assert.fail("expected the call to throw");
}

function answerItems(response: GenerateContentResponse): { id: string; corrected: string }[] {
  return correctionAnswerSchema.parse(JSON.parse(response.text ?? "")).items;
}

function retryInfo(body: ErrorJson): string | undefined {
  return body.error.details?.find((d) => d["@type"].endsWith("RetryInfo"))?.retryDelay;
}

function quotaIds(body: ErrorJson): string[] | undefined {
  return body.error.details?.find((d) => d["@type"].endsWith("QuotaFailure"))?.violations?.map((v) =>
    v.quotaId
  );
}

Deno.test("correctTypos() fixes dictionary words, keeps case and leaves protected spans alone", () => {
  assert.ok(Object.keys(TYPO_DICTIONARY).length >= 60);
  assert.equal(TYPO_DICTIONARY.recieve, "receive");
  assert.equal(correctTypos("teh Teh TEH TeH"), "the The THE TeH");
  assert.equal(correctTypos("tehx teh_var steh"), "tehx teh_var steh");
  assert.equal(
    correctTypos("teh `teh` /usr/teh teh.ts http://teh.io {{SECRET_3}} teh"),
    "the `teh` /usr/teh teh.ts http://teh.io {{SECRET_3}} the",
  );
  assert.deepEqual(protectedSpans(ITEMS[1].text), ["`fucntion teh()`", "{{SECRET_1}}"]);
});

Deno.test("createGeminiMock() answers a ccpipe request like a careful model", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const response = await correct(client());
  const items = answerItems(response);
  assert.deepEqual(items.map((i) => i.id), ["a1", "a2", "a3"]);
  assert.deepEqual(items.map((i) => i.corrected), EXPECTED);
  assert.equal(response.candidates?.[0].finishReason, "STOP");
  const requestChars = SYSTEM.length + JSON.stringify({ items: ITEMS }).length;
  const usage = response.usageMetadata!;
  assert.equal(usage.promptTokenCount, Math.ceil(requestChars / 4));
  assert.equal(usage.candidatesTokenCount, Math.ceil(response.text!.length / 4));
  assert.equal(usage.totalTokenCount, usage.promptTokenCount! + usage.candidatesTokenCount!);
  assert.equal(mock.calls.length, 1);
  assert.deepEqual(
    { ...mock.calls[0], at: 0 },
    {
      call: 1,
      at: 0,
      model: MODEL,
      style: "gemini",
      items: 3,
      promptTokens: usage.promptTokenCount,
      outputTokens: usage.candidatesTokenCount,
      status: 200,
      latencyMs: 0,
      fault: undefined,
    },
  );
  assert.deepEqual(mock.counters(), {
    requests: 1,
    ok: 1,
    rateLimited: 0,
    faulted: 0,
    items: 3,
    promptTokens: usage.promptTokenCount,
    outputTokens: usage.candidatesTokenCount,
    maxConcurrent: 1,
  });
});

Deno.test("createGeminiMock() token counts grow with the batch", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const ai = client();
  const small = await correct(ai, ITEMS.slice(0, 1));
  const large = await correct(ai, [...ITEMS, ...ITEMS.map((i) => ({ ...i, id: i.id + "b" }))]);
  assert.ok(large.usageMetadata!.promptTokenCount! > small.usageMetadata!.promptTokenCount!);
  assert.ok(large.usageMetadata!.candidatesTokenCount! > 2 * small.usageMetadata!.candidatesTokenCount!);
});

Deno.test("createGeminiMock() answers other requests with text", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const response = await client().models.generateContent({
    model: MODEL,
    contents: "Can you recieve teh file?",
  });
  assert.match(response.text ?? "", /Can you receive the file\?/);
  assert.equal(mock.calls[0].items, 0);
  const asJson = await client().models.generateContent({
    model: MODEL,
    contents: "teh",
    config: { responseMimeType: "application/json" },
  });
  assert.deepEqual(JSON.parse(asJson.text!), { text: "the" });
});

Deno.test("createGeminiMock() answers streamGenerateContent and countTokens", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const ai = client();
  let text = "";
  for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: "teh end" })) {
    text += chunk.text ?? "";
  }
  assert.match(text, /the end$/);
  const counted = await ai.models.countTokens({ model: MODEL, contents: "12345678" });
  assert.equal(counted.totalTokens, 2);
  assert.equal(mock.calls.length, 1, "countTokens is not a generateContent call");
});

Deno.test("createGeminiMock() answers 429 with QuotaFailure and RetryInfo on call N+1 of an rpm quota", async () => {
  let now = 1_000_000;
  const mock = createGeminiMock({ quotas: { rpm: 3 }, now: () => now });
  using _server = listen(mock);
  const ai = client();
  for (let i = 0; i < 3; i++) {
    await correct(ai, ITEMS.slice(0, 1));
    now += 10_000; // calls at t = 0 s, 10 s, 20 s
  }
  now += 3_500; // t = 33.5 s: the first call leaves the window at t = 60 s
  const { status, body } = await apiError(correct(ai, ITEMS.slice(0, 1)));
  assert.equal(status, 429);
  assert.equal(body.error.status, "RESOURCE_EXHAUSTED");
  assert.equal(body.error.code, 429);
  assert.deepEqual(quotaIds(body), ["GenerateRequestsPerMinutePerProjectPerModel-FreeTier"]);
  const violation = body.error.details![0].violations![0];
  assert.deepEqual(violation.quotaDimensions, { model: MODEL, location: "global" });
  assert.equal(violation.quotaValue, "3");
  assert.equal(
    violation.quotaMetric,
    "generativelanguage.googleapis.com/generate_content_free_tier_requests",
  );
  assert.equal(retryInfo(body), "27s"); // 26.5 s rounded up
  assert.ok(body.error.details!.some((d) => d["@type"] === "type.googleapis.com/google.rpc.Help"));
  assert.equal(mock.calls.length, 4, "the SDK made no retry of its own");
  assert.equal(mock.calls[3].quotaId, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier");

  now += 26_499; // 1 ms before the slot frees: still limited, and the 429 did not use quota
  assert.equal(retryInfo((await apiError(correct(ai, ITEMS.slice(0, 1)))).body), "0.001s");
  now += 1;
  await correct(ai, ITEMS.slice(0, 1));
  assert.deepEqual(
    mock.calls.map((c) => c.status),
    [200, 200, 200, 429, 429, 200],
  );
  assert.equal(mock.counters().rateLimited, 2);
  assert.equal(mock.counters().ok, 4);
});

Deno.test("createGeminiMock() gives fractional retry delays under one second", async () => {
  let now = 0;
  const mock = createGeminiMock({ quotas: { rpm: 1 }, now: () => now });
  using _server = listen(mock);
  await correct(client());
  now = 59_500;
  assert.equal(retryInfo((await apiError(correct(client()))).body), "0.5s");
});

Deno.test("createGeminiMock() names the per-minute input token quota", async () => {
  let now = 0;
  const mock = createGeminiMock({ now: () => now });
  using _server = listen(mock);
  await correct(client());
  const tokens = mock.calls[0].promptTokens;
  mock.configure({ quotas: { tpm: 2 * tokens + 1 } }); // room for two requests, not three
  now = 5_000;
  await correct(client());
  now = 10_000;
  const { status, body } = await apiError(correct(client()));
  assert.equal(status, 429);
  assert.deepEqual(quotaIds(body), ["GenerateContentInputTokensPerModelPerMinute-FreeTier"]);
  assert.equal(retryInfo(body), "50s"); // the first call's tokens leave the window at t = 60 s
});

Deno.test("createGeminiMock() names the per-day quota once the day's requests are used", async () => {
  let now = 0;
  const mock = createGeminiMock({ quotas: { rpd: 2, rpm: 10 }, now: () => now });
  using _server = listen(mock);
  await correct(client());
  now = 3_600_000;
  await correct(client());
  now = 7_200_000;
  const { body } = await apiError(correct(client()));
  assert.deepEqual(quotaIds(body), ["GenerateRequestsPerDayPerProjectPerModel-FreeTier"]);
  assert.equal(retryInfo(body), `${86_400 - 7_200}s`);
  // Windows are per model: another model still answers.
  await correct(client(), ITEMS, "gemini-2.5-flash");
});

Deno.test("createGeminiMock() shows how the SDK retries 429 only when retryOptions is set", async () => {
  let now = 0;
  const mock = createGeminiMock({ quotas: { rpm: 1 }, now: () => now });
  using _server = listen(mock);
  await correct(client());
  const retrying = new GoogleGenAI({
    apiKey: "test-key",
    httpOptions: { retryOptions: { attempts: 3, initialDelay: 0.001, maxDelay: 0.002 } },
  });
  await apiError(correct(retrying));
  assert.deepEqual(mock.calls.map((c) => c.status), [200, 429, 429, 429]);
  now = 60_000;
  await correct(retrying);
});

Deno.test("createGeminiMock() answers models.get, models.list and 404 for an unknown model", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const ai = client();
  const model = await ai.models.get({ model: MODEL });
  assert.equal(model.name, `models/${MODEL}`);
  assert.ok(model.inputTokenLimit! > 0);
  const names: string[] = [];
  for await (const m of await ai.models.list()) names.push(m.name!);
  assert.deepEqual(
    names,
    ["gemini-2.5-flash-lite", "gemini-3.1-flash-lite", "gemini-2.5-flash"].map((m) => `models/${m}`),
  );
  const missing = await apiError(ai.models.get({ model: "gemini-2.0-flash-lite" }));
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.status, "NOT_FOUND");
  assert.match(missing.body.error.message, /models\/gemini-2\.0-flash-lite is not found/);
  const generate = await apiError(correct(ai, ITEMS, "gemini-2.0-flash-lite"));
  assert.equal(generate.status, 404);
  assert.equal(mock.calls.at(-1)?.status, 404);
});

Deno.test("createGeminiMock() refuses a call without an API key with 403", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const url = `https://generativelanguage.googleapis.com/v1beta/models/${MODEL}:generateContent`;
  const body = JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] });
  const refused = await fetch(url, { method: "POST", body });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.status, "PERMISSION_DENIED");
  const byQuery = await fetch(`${url}?key=k`, { method: "POST", body });
  assert.equal(byQuery.status, 200);
  await byQuery.body?.cancel();
});

Deno.test("createGeminiMock() answers at Vertex AI URL shapes", async () => {
  const mock = createGeminiMock();
  using _server = listen(mock);
  const authClient = { getRequestHeaders: () => Promise.resolve(new Headers({ authorization: "Bearer t" })) };
  const regional = new GoogleGenAI({
    vertexai: true,
    project: "p1",
    location: "europe-west4",
    googleAuthOptions: { authClient: authClient as never },
  });
  assert.deepEqual(answerItems(await correct(regional)).map((i) => i.corrected), EXPECTED);
  const global = new GoogleGenAI({
    vertexai: true,
    project: "p1",
    location: "global",
    googleAuthOptions: { authClient: authClient as never },
  });
  assert.equal(answerItems(await correct(global)).length, 3);
  const express = new GoogleGenAI({ vertexai: true, apiKey: "test-key" });
  assert.equal(answerItems(await correct(express)).length, 3);
  assert.deepEqual(mock.calls.map((c) => c.style), ["vertex", "vertex", "vertex"]);
  const missing = await apiError(regional.models.get({ model: "gemini-1.0-pro" }));
  assert.equal(missing.status, 404);
  assert.match(missing.body.error.message, /Publisher Model/);
  const unauthenticated = await fetch(
    `https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/${MODEL}:generateContent`,
    { method: "POST", body: "{}" },
  );
  assert.equal(unauthenticated.status, 401);
  await unauthenticated.body?.cancel();
});

Deno.test("createGeminiMock() answers at an overridden base URL and nowhere unknown", async () => {
  const mock = createGeminiMock({ baseUrls: ["https://gemini.test/proxy"] });
  using _server = listen(mock);
  const response = await correct(client({ baseUrl: "https://gemini.test/proxy" }));
  assert.equal(answerItems(response).length, 3);
  await assert.rejects(correct(client({ baseUrl: "https://elsewhere.test" })));
  assert.equal(mock.calls.length, 1);
});

Deno.test("createGeminiMock() injects each fault with its documented effect", async () => {
  const ai = client({ timeout: 100 });
  const effects: Record<GeminiFault, (outcome: GenerateContentResponse | ApiError | Error) => void> = {
    http500: (o) => assert.equal((o as ApiError).status, 500),
    http503: (o) => {
      assert.equal((o as ApiError).status, 503);
      assert.equal(JSON.parse((o as ApiError).message).error.status, "UNAVAILABLE");
    },
    hang: (o) => assert.equal((o as Error).name, "AbortError"),
    malformed_json: (o) => assert.throws(() => JSON.parse((o as GenerateContentResponse).text!), SyntaxError),
    max_tokens: (o) => {
      const r = o as GenerateContentResponse;
      assert.equal(r.candidates?.[0].finishReason, "MAX_TOKENS");
      assert.throws(() => JSON.parse(r.text!), SyntaxError);
    },
    safety: (o) => {
      const r = o as GenerateContentResponse;
      assert.equal(r.candidates?.[0].finishReason, "SAFETY");
      assert.equal(r.text, undefined);
    },
    missing_id: (o) => assert.equal(answerItems(o as GenerateContentResponse).length, 2),
    extra_id: (o) => {
      const ids = answerItems(o as GenerateContentResponse).map((i) => i.id);
      assert.equal(ids.length, 4);
      assert.equal(ids.filter((id) => !ITEMS.some((i) => i.id === id)).length, 1);
    },
    duplicate_id: (o) => {
      const ids = answerItems(o as GenerateContentResponse).map((i) => i.id);
      assert.equal(ids.length, 4);
      assert.equal(new Set(ids).size, 3);
    },
    swapped: (o) => {
      const got = answerItems(o as GenerateContentResponse).map((i) => i.corrected);
      assert.deepEqual(got.toSorted(), EXPECTED.toSorted());
      assert.equal(got.filter((text, i) => text !== EXPECTED[i]).length, 2);
    },
    answered: (o) => {
      const changed = differing(o as GenerateContentResponse);
      assert.equal(changed.length, 1);
      assert.match(changed[0], /^Sure! Here is how/);
    },
    rewritten: (o) => {
      const got = answerItems(o as GenerateContentResponse).map((i) => i.corrected);
      const changed = got.flatMap((text, i) => text === EXPECTED[i] ? [] : [i]);
      assert.equal(changed.length, 1);
      assert.ok(got[changed[0]].length > EXPECTED[changed[0]].length + 60);
      assert.deepEqual(protectedSpans(got[changed[0]]), protectedSpans(EXPECTED[changed[0]]));
    },
    code_altered: (o) => {
      const got = answerItems(o as GenerateContentResponse);
      const codes = (t: string) => protectedSpans(t).filter((s) => s.startsWith("`"));
      assert.equal(
        got.filter((item, i) => codes(item.corrected).join() !== codes(EXPECTED[i]).join()).length,
        1,
      );
    },
    url_altered: (o) => {
      const got = answerItems(o as GenerateContentResponse)[0].corrected;
      assert.match(got, /https:\/\/www\.exmaple\.com\/teh\?q=1/);
    },
    placeholder_dropped: (o) => {
      const text = answerItems(o as GenerateContentResponse).map((i) => i.corrected).join("\n");
      assert.equal(text.match(/\{\{SECRET_\d+\}\}/g)?.length, 1);
    },
  };
  for (const fault of GEMINI_FAULTS) {
    const mock = createGeminiMock({ faults: [{ fault, calls: [2] }] });
    using _server = listen(mock);
    assert.deepEqual(
      answerItems(await correct(ai)).map((i) => i.corrected),
      EXPECTED,
      `${fault}: call 1 clean`,
    );
    const outcome = await correct(ai).catch((error: Error) => error);
    effects[fault](outcome);
    const call = mock.calls.find((c) => c.call === 2);
    assert.equal(call?.fault, fault, fault);
    const status = { http500: 500, http503: 503, hang: 499 }[fault as string] ?? 200;
    assert.equal(call?.status, status, fault);
    assert.equal(mock.counters().faulted, 1, fault);
  }
});

function differing(response: GenerateContentResponse): string[] {
  return answerItems(response).map((i) => i.corrected).filter((text, i) => text !== EXPECTED[i]);
}

Deno.test("createGeminiMock() logs no fault when the picked one cannot apply", async () => {
  const mock = createGeminiMock({
    faults: [{ fault: "swapped", calls: [1] }, { fault: "placeholder_dropped", calls: [2] }],
  });
  using _server = listen(mock);
  const plain = [{ id: "b1", text: "teh end" }];
  assert.deepEqual(answerItems(await correct(client(), plain)), [{ id: "b1", corrected: "the end" }]);
  assert.deepEqual(answerItems(await correct(client(), plain)), [{ id: "b1", corrected: "the end" }]);
  assert.deepEqual(mock.calls.map((c) => c.fault), [undefined, undefined]);
});

Deno.test("createGeminiMock() picks rate faults and latencies from the seed", async () => {
  async function run(seed: number) {
    const mock = createGeminiMock({
      seed,
      latency: { kind: "lognormal", medianMs: 2, sigma: 0.8, maxMs: 10 },
      faults: [{ fault: "http503", rate: 0.3 }, { fault: "missing_id", rate: 0.3 }],
    });
    using _server = listen(mock);
    for (let i = 0; i < 20; i++) await correct(client()).catch(() => undefined);
    return mock.calls.map((c) => [c.latencyMs, c.fault ?? "-"]);
  }
  const first = await run(7);
  assert.deepEqual(await run(7), first);
  assert.notDeepEqual(await run(8), first);
  const faults = new Set(first.map(([, fault]) => fault));
  assert.deepEqual([...faults].toSorted(), ["-", "http503", "missing_id"]);
  assert.ok(first.every(([ms]) => (ms as number) >= 0 && (ms as number) <= 10));
  assert.ok(new Set(first.map(([ms]) => ms)).size > 1);
});

Deno.test("createGeminiMock() adds a per-output-token cost to the latency", async () => {
  const mock = createGeminiMock({ latency: { kind: "fixed", ms: 3 }, msPerOutputToken: 0.05 });
  using _server = listen(mock);
  await correct(client());
  const call = mock.calls[0];
  assert.equal(call.latencyMs, 3 + call.outputTokens * 0.05);
});

Deno.test("createGeminiMock() counts the most concurrent calls in flight", async () => {
  const mock = createGeminiMock({ latency: { kind: "fixed", ms: 150 } });
  using _server = listen(mock);
  const ai = client();
  await correct(ai);
  await correct(ai);
  assert.equal(mock.counters().maxConcurrent, 1);
  await Promise.all(Array.from({ length: 5 }, () => correct(ai)));
  assert.equal(mock.counters().maxConcurrent, 5);
  assert.equal(mock.counters().requests, 7);
});

Deno.test("createGeminiMock() configure() and reset() change phases of a test", async () => {
  const now = 0;
  const mock = createGeminiMock({ now: () => now, quotas: { rpm: 1 } });
  using _server = listen(mock);
  await correct(client());
  await apiError(correct(client()));
  mock.configure({ quotas: undefined, faults: [{ fault: "http500", rate: 1 }] });
  assert.equal((await apiError(correct(client()))).status, 500);
  mock.reset();
  mock.configure({ faults: [], quotas: { rpm: 1 } });
  assert.deepEqual(mock.counters().requests, 0);
  await correct(client()); // windows were cleared
  assert.deepEqual(mock.calls.map((c) => [c.call, c.status]), [[1, 200]]);
});

Deno.test("createGeminiMock() rejects out-of-range options", () => {
  assert.throws(() => createGeminiMock({ latency: { kind: "fixed", ms: -1 } }), RangeError);
  assert.throws(() => createGeminiMock({ quotas: { rpm: 0 } }), RangeError);
  assert.throws(() => createGeminiMock({ faults: [{ fault: "safety", rate: 2 }] }), RangeError);
  assert.throws(() => createGeminiMock({ faults: [{ fault: "safety", calls: [0] }] }), RangeError);
  assert.throws(() => createGeminiMock({ baseUrls: ["not a url"] }), TypeError);
});
