import assert from "node:assert/strict";
import type { CorrectionItem } from "../schema/correction.ts";
import { parseCorrectionConfig } from "../llm/config.ts";
import { type CorrectionCache, createDiskCache, createMemoryCache } from "../llm/disk_cache.ts";
import { RateLimitError, TransientServiceError } from "../llm/errors.ts";
import { type CorrectionClient, createGeminiClient } from "../llm/gemini_client.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { startMocks } from "../../mocks/mod.ts";
import { sentTexts } from "../testing/gemini_requests.ts";
import type { GeminiFault } from "../../mocks/gemini.ts";
import { secretFormats } from "../testing/secret_formats.ts";
import { SpellPrefilter } from "../llm/spell_prefilter.ts";
import type { Stage4ProgressState } from "../ports.ts";
import {
  correct,
  type CorrectionResult,
  type CorrectOptions,
  createCorrectionStats,
  type PromptToCorrect,
} from "./correct.ts";

const MODEL = "gemini-2.5-flash-lite";
const KEY = "test-key-0000";
const WORDS = [
  "teh",
  "adn",
  "waht",
  "becuase",
  "shoudl",
  "recieve",
  "lenght",
  "reponse",
  "enviroment",
  "databse",
];

/** The mock's fix of each of {@linkcode WORDS}, written from its typo table (`mocks/_gemini_typos.ts`). */
const FIXED = [
  "the",
  "and",
  "what",
  "because",
  "should",
  "receive",
  "length",
  "response",
  "environment",
  "database",
];

/** A distinct typo-laden prompt per index. */
function prompt(i: number): string {
  return `pls check ${WORDS[i % WORDS.length]} item number ${i} ${WORDS[(i * 7 + 3) % WORDS.length]} today`;
}

/** The mock's answer for {@linkcode prompt}(i), as a `corrected` result of uuid `u<i>`. */
function correctedResult(i: number): CorrectionResult {
  return {
    uuid: `u${i}`,
    corrected_text: `pls check ${FIXED[i % 10]} item number ${i} ${FIXED[(i * 7 + 3) % 10]} today`,
    correction_status: "corrected",
    correction_model: MODEL,
  };
}

async function* from(prompts: PromptToCorrect[]): AsyncGenerator<PromptToCorrect> {
  for (const p of prompts) yield p;
}

function prompts(texts: string[]): PromptToCorrect[] {
  return texts.map((text, i) => ({ uuid: `u${i}`, text }));
}

async function run(
  texts: string[] | PromptToCorrect[],
  options: Partial<CorrectOptions> & { config?: CorrectOptions["config"] },
): Promise<{ results: CorrectionResult[]; stats: ReturnType<typeof createCorrectionStats> }> {
  const input = typeof texts[0] === "string" ? prompts(texts as string[]) : texts as PromptToCorrect[];
  const stats = options.stats ?? createCorrectionStats();
  const results = await Array.fromAsync(correct(from(input), {
    client: null,
    cache: createMemoryCache(),
    config: parseCorrectionConfig({}),
    ...options,
    stats,
  }));
  return { results, stats };
}

function geminiClient(timeoutMs = 5_000): CorrectionClient {
  return createGeminiClient({ apiKey: KEY, model: MODEL, timeoutMs });
}

/** A fake client that upper-cases "teh" fixes and can fail per call. */
function fakeClient(
  options: { fail?: (call: number) => Error | undefined; onCall?: (items: CorrectionItem[]) => void } = {},
): CorrectionClient & { calls: number } {
  const client = {
    model: "fake-model",
    calls: 0,
    correctBatch(items: CorrectionItem[]) {
      const call = ++client.calls;
      options.onCall?.(items);
      const error = options.fail?.(call);
      if (error) return Promise.reject(error);
      return Promise.resolve({
        answer: { items: items.map(({ id, text }) => ({ id, corrected: text.replaceAll("teh", "the") })) },
        usage: { promptTokens: 10, outputTokens: 5 },
      });
    },
    checkModel: () => Promise.resolve({ exists: true, detail: "" }),
  };
  return client;
}

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "ccpipe_correct_test_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A cache wrapper that records which keys were written and which were missed. */
function recording(inner: CorrectionCache): CorrectionCache & { puts: Set<string>; misses: Set<string> } {
  const puts = new Set<string>(), misses = new Set<string>();
  return {
    ...inner,
    puts,
    misses,
    async get(key) {
      const value = await inner.get(key);
      if (!value) misses.add(key);
      return value;
    },
    async put(key, value) {
      await inner.put(key, value);
      puts.add(key);
    },
  };
}

// ---------------------------------------------------------------- integration (mock + real SDK)

Deno.test("correct() makes ceil(26/15) = 2 calls for 31 prompts with 3 duplicates and 2 slash commands", async () => {
  using server = startMocks({ gemini: {} });
  const texts = Array.from({ length: 26 }, (_, i) => prompt(i));
  texts.splice(5, 0, prompt(1));
  texts.splice(12, 0, "/clear");
  texts.splice(20, 0, prompt(2), "/model opus");
  texts.push(prompt(3));
  assert.equal(texts.length, 31);
  const { results, stats } = await run(texts, { client: geminiClient(), config: parseCorrectionConfig({}) });
  assert.equal(server.gemini.calls.length, 2);
  assert.deepEqual(server.gemini.calls.map((c) => c.items).sort(), [11, 15]);
  assert.deepEqual(results.map((r) => r.uuid), texts.map((_, i) => `u${i}`));
  assert.equal(stats.inRunDuplicates, 3);
  assert.deepEqual(stats.skipped, { slash_command: 2 });
  assert.equal(stats.calls, 2);
  assert.equal(stats.uniqueSent, 26);
  assert.deepEqual([stats.prompts, stats.cacheHits], [31, 0]);
  assert.equal(results[12]!.correction_status, "skipped_slash_command");
  assert.equal(results[12]!.corrected_text, null);
  assert.deepEqual(results[5], { ...results[1]!, uuid: "u5" });
  for (const r of results.filter((r) => r.correction_status === "corrected")) {
    assert.ok(!/\b(teh|adn|waht)\b/.test(r.corrected_text!), r.corrected_text!);
    assert.equal(r.correction_model, MODEL);
  }
  assert.ok(stats.tokensIn > 0 && stats.tokensOut > 0 && stats.costUsd > 0);
});

const GUARDED = [
  "pls fix teh bug in `fucntion foo()` see http://example.com/docs adn ./src/app.ts with password=hunter22x",
  "waht does teh error mean when i run the tests on my laptop",
  "shoudl we recieve teh reponse before the timeout or after it",
];

const HALLUCINATIONS: [GeminiFault, RegExp][] = [
  ["missing_id", /^rejected_ids$/],
  ["extra_id", /^rejected_ids$/],
  ["duplicate_id", /^rejected_ids$/],
  ["answered", /^rejected_(length_ratio|edit_distance)$/],
  ["rewritten", /^rejected_(length_ratio|edit_distance)$/],
  ["code_altered", /^rejected_code_span$/],
  ["url_altered", /^rejected_url$/],
  ["placeholder_dropped", /^rejected_placeholder$/],
];

Deno.test("correct() splits a batch whose answer a guard rejects and keeps no hallucination", async () => {
  // The mock's fixes of GUARDED, by hand: code spans, URLs, paths and the secret stay as typed.
  const clean: CorrectionResult[] = [
    "pls fix the bug in `fucntion foo()` see http://example.com/docs and ./src/app.ts with password=hunter22x",
    "what does the error mean when i run the tests on my laptop",
    "should we receive the response before the timeout or after it",
  ].map((text, i) => ({
    uuid: `u${i}`,
    corrected_text: text,
    correction_status: "corrected",
    correction_model: MODEL,
  }));
  for (const fault of [...HALLUCINATIONS.map(([f]) => f), "swapped" as const]) {
    using server = startMocks({ gemini: { faults: [{ fault, calls: [1] }] } });
    const { results, stats } = await run(GUARDED, { client: geminiClient() });
    assert.equal(server.gemini.calls[0]!.fault, fault, `${fault} applied`);
    assert.deepEqual(results, clean, fault);
    assert.ok((stats.retries.split ?? 0) >= 1, fault);
  }
});

Deno.test("correct() keeps the original text with rejected_<guard> when every answer hallucinates", async () => {
  for (const [fault, status] of HALLUCINATIONS) {
    // Prose-only changes are measured on a prose prompt (on GUARDED[0] a placeholder guard fires first).
    const text = fault === "answered" || fault === "rewritten" ? GUARDED[1]! : GUARDED[0]!;
    using server = startMocks({ gemini: { faults: [{ fault, rate: 1 }] } });
    const { results } = await run([text], { client: geminiClient() });
    assert.equal(server.gemini.calls.length, 1, fault);
    assert.equal(server.gemini.calls[0]!.fault, fault);
    assert.match(results[0]!.correction_status, status, `${fault}: ${results[0]!.correction_status}`);
    assert.equal(results[0]!.corrected_text, text, fault);
  }
});

Deno.test("correct() retries 5xx and fails an item with failed_<error> after maxRetries", async () => {
  using server = startMocks({ gemini: { faults: [{ fault: "http500", rate: 1 }] } });
  const { results, stats } = await run([prompt(1)], {
    client: geminiClient(),
    clock: new FakeClock({ auto: true }),
    config: parseCorrectionConfig({ maxRetries: 2, backoffBaseMs: 1 }),
  });
  assert.equal(server.gemini.calls.length, 3);
  assert.equal(stats.retries.http_5xx, 2);
  assert.deepEqual(results[0], {
    uuid: "u0",
    corrected_text: prompt(1),
    correction_status: "failed_http_5xx",
    correction_model: MODEL,
  });
});

Deno.test("correct() honours a 429's retryDelay: no call sooner", async () => {
  const clock = new FakeClock({ auto: true, start: 0 });
  using server = startMocks({
    gemini: { quotas: { rpm: 3 }, now: () => clock.now() },
  });
  const delays: { at: number; ms: number }[] = [];
  const texts = Array.from({ length: 150 }, (_, i) => prompt(i));
  const { results, stats } = await run(texts, {
    client: geminiClient(),
    clock,
    config: parseCorrectionConfig({ workers: 5 }),
  });
  for (const call of server.gemini.calls) {
    if (call.status !== 429) continue;
    // The mock's window: the oldest accepted call in the minute before frees room 60 s after it.
    const window = server.gemini.calls.filter((c) =>
      c.status === 200 && c.at > call.at - 60_000 && c.at <= call.at
    );
    delays.push({ at: call.at, ms: window[0]!.at + 60_000 - call.at });
  }
  assert.ok(stats.rateLimited429 >= 1);
  assert.ok(delays.length >= 1);
  for (const { at, ms } of delays) {
    for (const call of server.gemini.calls) {
      if (call.at > at) assert.ok(call.at >= at + ms, `call at ${call.at} came before ${at}+${ms}`);
    }
  }
  assert.equal(server.gemini.counters().ok, 10);
  assert.ok(results.every((r) => r.correction_status === "corrected"));
  assert.equal(stats.retries.rate_limited, stats.rateLimited429);
});

Deno.test("correct() stops cleanly on a per-day quota and the next run resumes without repeats", async () => {
  await using dir = await tempDir();
  const texts = Array.from({ length: 60 }, (_, i) => prompt(i));
  const config = parseCorrectionConfig({ workers: 1 });
  const uninterrupted = texts.map((_, i) => correctedResult(i));
  using server = startMocks({ gemini: { quotas: { rpd: 2 } } });
  const first = await run(texts, { client: geminiClient(), config, cache: createDiskCache(dir.path) });
  assert.equal(first.stats.stopped, "daily_quota");
  assert.deepEqual(server.gemini.calls.map((c) => c.status), [200, 200, 429]);
  assert.equal(first.results.filter((r) => r.correction_status === "corrected").length, 30);
  assert.equal(first.results.filter((r) => r.correction_status === "pending").length, 30);
  assert.ok(
    first.results.filter((r) => r.correction_status === "pending").every((r) => r.corrected_text === null),
  );
  const sentFirst = new Set(sentTexts(server.bodies).slice(0, 30));

  server.gemini.configure({ quotas: undefined }); // a new day
  const before = server.bodies.length;
  const second = await run(texts, { client: geminiClient(), config, cache: createDiskCache(dir.path) });
  assert.equal(second.stats.stopped, null);
  assert.equal(second.stats.cacheHits, 30);
  assert.equal(second.stats.calls, 2);
  const sentSecond = sentTexts(server.bodies).slice(sentFirst.size + 15);
  assert.equal(server.bodies.length - before, 2);
  assert.ok(sentSecond.every((t) => !sentFirst.has(t)));
  assert.deepEqual(second.results, uninterrupted);
});

Deno.test("correct() after a kill mid-stage reruns with no repeated call and the same results", async () => {
  await using dir = await tempDir();
  const texts = Array.from({ length: 150 }, (_, i) => prompt(i));
  const config = parseCorrectionConfig({ workers: 2 });
  const uninterrupted = texts.map((_, i) => correctedResult(i));
  using _server = startMocks({ gemini: {} });
  const controller = new AbortController();
  const firstCache = recording(createDiskCache(dir.path));
  const seen: CorrectionResult[] = [];
  await assert.rejects(async () => {
    for await (
      const result of correct(from(prompts(texts)), {
        client: geminiClient(),
        cache: firstCache,
        config,
        stats: createCorrectionStats(),
        signal: controller.signal,
      })
    ) {
      seen.push(result);
      if (seen.length === 40) controller.abort(new Error("killed"));
    }
  }, /killed/);
  assert.ok(firstCache.puts.size >= 40 && firstCache.puts.size < 150);

  const secondCache = recording(createDiskCache(dir.path));
  const second = await run(texts, { client: geminiClient(), config, cache: secondCache });
  for (const key of secondCache.misses) assert.ok(!firstCache.puts.has(key), "a cached item was sent again");
  assert.equal(second.stats.cacheHits, firstCache.puts.size);
  assert.equal(second.stats.uniqueSent, 150 - firstCache.puts.size);
  assert.deepEqual(second.results, uninterrupted);
  assert.deepEqual(seen, uninterrupted.slice(0, 40));
});

Deno.test("correct() never lets a secret into a request, the cache or the stats", async () => {
  await using dir = await tempDir();
  const format = (name: string) => secretFormats().find((f) => f.name === name)!.secrets[0]!;
  const secrets = [
    format("aws_access_key_id"),
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    format("anthropic_key"),
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "xoxb-1234567890-abcdefghijkl",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "hunter22secret",
  ];
  const texts = [
    `pls use teh key ${secrets[0]} adn the token ${secrets[1]} for teh deploy`,
    `waht is wrong with ${secrets[2]} adn ${secrets[3]} here`,
    `teh slack token ${secrets[4]} and jwt ${secrets[5]} fail`,
    `set password=${secrets[6]} in teh config`,
    `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nis teh key ok`,
  ];
  using server = startMocks({ gemini: {} });
  const { results, stats } = await run(texts, { client: geminiClient(), cache: createDiskCache(dir.path) });
  const cacheText = [...Deno.readDirSync(dir.path)].flatMap((shard) =>
    [...Deno.readDirSync(`${dir.path}/${shard.name}`)].map((f) =>
      Deno.readTextFileSync(`${dir.path}/${shard.name}/${f.name}`)
    )
  ).join("\n");
  const everywhere = [server.bodies.join("\n"), cacheText, JSON.stringify(stats)];
  assert.ok(server.bodies.length >= 1 && cacheText.includes("{{SECRET_1}}"));
  for (const secret of [...secrets, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"]) {
    for (const place of everywhere) {
      assert.ok(!place.includes(secret), `secret leaked: ${secret.slice(0, 6)}`);
    }
  }
  // The corrected rows carry the secrets back.
  assert.equal(results[0]!.correction_status, "corrected");
  assert.ok(
    results[0]!.corrected_text!.includes(secrets[0]!) && results[0]!.corrected_text!.includes(secrets[1]!),
  );
  assert.ok(results[3]!.corrected_text!.includes(`password=${secrets[6]}`));
});

Deno.test("correct() keeps in-flight calls within workers and preserves order", async () => {
  // Calls take 5–45 ms of the fake clock, varying by call, so they finish out of order.
  const clock = new FakeClock({ auto: true, start: 0 });
  let active = 0, maxActive = 0;
  const inner = fakeClient();
  const client: CorrectionClient = {
    ...inner,
    async correctBatch(items, options) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await clock.sleep(5 + ((inner.calls * 17) % 41));
        return await inner.correctBatch(items, options);
      } finally {
        active--;
      }
    },
  };
  const texts = Array.from({ length: 300 }, (_, i) => prompt(i));
  const { results } = await run(texts, { client, clock, config: parseCorrectionConfig({ workers: 3 }) });
  assert.equal(inner.calls, 20);
  assert.equal(maxActive, 3);
  assert.deepEqual(results.map((r) => r.uuid), texts.map((_, i) => `u${i}`));
});

// ---------------------------------------------------------------- unit (fake client)

Deno.test("correct() without a client leaves every prompt skipped_no_llm", async () => {
  const { results, stats } = await run(["teh", "", "/clear"], { client: null });
  assert.deepEqual(results.map((r) => r.correction_status), [
    "skipped_no_llm",
    "skipped_no_llm",
    "skipped_no_llm",
  ]);
  assert.ok(results.every((r) => r.corrected_text === null && r.correction_model === null));
  assert.deepEqual(stats.skipped, { no_llm: 3 });
});

Deno.test("correct() in a dry run calls nothing and estimates the work", async () => {
  const client = fakeClient();
  const cache = createMemoryCache();
  const texts = Array.from({ length: 40 }, (_, i) => prompt(i));
  await run(texts.slice(0, 5), { client, cache });
  const callsBefore = client.calls;
  const { results, stats } = await run([...texts, "", prompt(7)], {
    client,
    cache,
    dryRun: true,
    config: parseCorrectionConfig({ rpm: 15, rpd: 2 }),
  });
  assert.equal(client.calls, callsBefore);
  assert.equal(stats.cacheHits, 5);
  assert.equal(stats.inRunDuplicates, 1);
  assert.equal(results.filter((r) => r.correction_status === "pending").length, 36);
  const dry = stats.dryRun!;
  assert.equal(dry.promptsSelected, 35);
  assert.equal(dry.batches, 3);
  assert.ok(dry.estTokensIn > 0 && dry.estCostUsd > 0);
  assert.equal(dry.estSeconds, Math.max(3 / 15, dry.estTokensIn / 4_000_000) * 60);
  assert.equal(dry.fitsDailyQuota, false);
});

Deno.test("correct() serves cached statuses as cache hits", async () => {
  const client = fakeClient();
  const cache = createMemoryCache();
  const first = await run([prompt(0), prompt(1)], { client, cache });
  const second = await run([prompt(1), prompt(0)], { client, cache });
  assert.equal(client.calls, 1);
  assert.equal(second.stats.cacheHits, 2);
  assert.equal(second.stats.calls, 0);
  assert.deepEqual(
    second.results.map((r) => r.corrected_text),
    [1, 0].map((i) => first.results[i]!.corrected_text),
  );
});

Deno.test("correct() pauses every worker for a 429's retryDelay (fake clock)", async () => {
  const clock = new FakeClock({ auto: true, start: 0 });
  const starts: number[] = [];
  const client = fakeClient({
    onCall: () => starts.push(clock.now()),
    fail: (call) => call === 2 ? new RateLimitError("429", { retryDelayMs: 26_000 }) : undefined,
  });
  const texts = Array.from({ length: 90 }, (_, i) => prompt(i));
  const { stats } = await run(texts, { client, clock, config: parseCorrectionConfig({ workers: 5 }) });
  assert.equal(stats.rateLimited429, 1);
  assert.equal(stats.retries.rate_limited, 1);
  // Calls that started after the 429 was seen all waited for it.
  assert.ok(starts.slice(2).every((t) => t >= 26_000), JSON.stringify(starts));
  assert.equal(client.calls, 7);
});

Deno.test("correct() backs off on transient errors with growing delays", async () => {
  const clock = new FakeClock({ auto: true, start: 0 });
  const starts: number[] = [];
  const client = fakeClient({
    onCall: () => starts.push(clock.now()),
    fail: (call) => call <= 3 ? new TransientServiceError("timeout") : undefined,
  });
  const { results, stats } = await run([prompt(0)], {
    client,
    clock,
    random: () => 0,
    config: parseCorrectionConfig({ backoffBaseMs: 100 }),
  });
  assert.deepEqual(starts, [0, 100, 300, 700]);
  assert.equal(stats.retries.timeout, 3);
  assert.equal(results[0]!.correction_status, "corrected");
});

Deno.test("correct() stops on a refused key and leaves prompts pending", async () => {
  const { GeminiRequestError } = await import("../llm/errors.ts");
  const client = fakeClient({ fail: () => new GeminiRequestError(403) });
  const { results, stats } = await run(Array.from({ length: 40 }, (_, i) => prompt(i)), {
    client,
    config: parseCorrectionConfig({ workers: 1 }),
  });
  assert.equal(stats.stopped, "auth");
  assert.equal(client.calls, 1);
  assert.ok(results.every((r) => r.correction_status === "pending"));
});

Deno.test("correct() pulls input only as workers free up (bounded buffering)", async () => {
  let pulled = 0;
  async function* endless(): AsyncGenerator<PromptToCorrect> {
    for (let i = 0;; i++) {
      // An engine that pulls without bound fails here instead of running forever.
      if (++pulled > 1_000) throw new Error("Pulled 1,000 prompts while every worker waited");
      yield { uuid: `u${i}`, text: prompt(i) };
    }
  }
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const client = fakeClient();
  const slow: CorrectionClient = {
    ...client,
    correctBatch: (items, o) => gate.then(() => client.correctBatch(items, o)),
  };
  const config = parseCorrectionConfig({ workers: 2, batchSize: 5 });
  const iterator = correct(endless(), {
    client: slow,
    cache: createMemoryCache(),
    config,
    stats: createCorrectionStats(),
  });
  const first = iterator.next();
  first.catch(() => {});
  // An unbounded engine pulls on every microtask turn; a bounded one stops once both workers wait.
  let last = -1;
  for (let turn = 0, still = 0; turn < 20_000 && still < 200; turn++) {
    await Promise.resolve();
    still = pulled === last ? still + 1 : 0;
    last = pulled;
  }
  assert.ok(pulled <= 4 * 2 * 5 + 64 + 5, `pulled ${pulled}`);
  release();
  assert.equal((await first).value?.uuid, "u0");
  await iterator.return(undefined);
});

// ---------------------------------------------------------------- prefilter and progress

/** A prefilter over a tiny dictionary: "teh" is a misspelling, everything else here is a word. */
function smallPrefilter(): SpellPrefilter {
  const known = new Set("please fix the bug run tests".split(" "));
  return new SpellPrefilter({ has: (w) => known.has(w), isKnownMisspelling: (w) => w === "teh" });
}

Deno.test("correct() keeps a prompt the prefilter finds clean as unchanged_local, after the cache", async () => {
  const client = fakeClient();
  const cache = createMemoryCache();
  await run(["please fix the bug"], { client, cache }); // answered once: cached as unchanged
  const { results, stats } = await run(
    ["please fix the bug", "run the tests", "run the tests", "fix teh bug", ""],
    { client, cache, prefilter: smallPrefilter() },
  );
  assert.deepEqual(results, [
    {
      uuid: "u0",
      corrected_text: "please fix the bug",
      correction_status: "unchanged",
      correction_model: "fake-model",
    },
    {
      uuid: "u1",
      corrected_text: "run the tests",
      correction_status: "unchanged_local",
      correction_model: null,
    },
    {
      uuid: "u2",
      corrected_text: "run the tests",
      correction_status: "unchanged_local",
      correction_model: null,
    },
    {
      uuid: "u3",
      corrected_text: "fix the bug",
      correction_status: "corrected",
      correction_model: "fake-model",
    },
    { uuid: "u4", corrected_text: null, correction_status: "skipped_empty", correction_model: null },
  ]);
  assert.equal(client.calls, 2);
  assert.deepEqual(
    [stats.cacheHits, stats.cleanLocal, stats.inRunDuplicates, stats.uniqueSent, stats.skipped.empty],
    [1, 1, 1, 1, 1],
  );
});

Deno.test("correct() reports progress through each batch and ends with a done report", async () => {
  const states: Stage4ProgressState[] = [];
  const texts = Array.from({ length: 40 }, (_, i) => prompt(i));
  const { stats } = await run(texts, {
    client: fakeClient(),
    clock: new FakeClock({ auto: true, start: 0 }),
    config: parseCorrectionConfig({ workers: 2, rpm: 60 }),
    expectedPrompts: () => 40,
    onProgress: (state) => states.push(state),
  });
  assert.equal(stats.calls, 3);
  for (const s of states) {
    assert.ok(s.prompts <= s.promptsTotal && s.batchesDone <= s.batchesTotal, JSON.stringify(s));
  }
  assert.ok(states.some((s) => !s.done && s.etaMs !== null && s.etaMs > 0), "an ETA while batches remain");
  assert.deepEqual(states.at(-1), {
    prompts: 40,
    promptsTotal: 40,
    batchesDone: 3,
    batchesTotal: 3,
    calls: 3,
    cacheHits: 0,
    rateLimited: 0,
    pausedMs: 0,
    etaMs: 0,
    done: true,
  });
});
