/**
 * Micro-benchmarks of Stage 4's hot paths: redaction, guards per item, cache look-ups, limiter acquire.
 * Run: `deno task microbench bench/llm.bench.ts`.
 *
 * @module
 */
import { redact } from "../src/llm/redact.ts";
import { checkItem } from "../src/llm/guards.ts";
import { cacheKey, createDiskCache, createMemoryCache } from "../src/llm/disk_cache.ts";
import { createRateLimiter } from "../src/llm/rate_limiter.ts";

// The key is built from pieces, so that no key-shaped string is committed.
const PROMPT = "pls fix teh bug in `fucntion foo()` see https://example.com/docs adn ./src/app.ts " +
  `with password=hunter22x and key ${
    "AKIA" + "Q3T7XK2M9PLW4RZD"
  }, then run teh tests again becuase they fail`;
const PLAIN = "pls fix teh bug in `fucntion foo()` see https://example.com/docs adn ./src/app.ts " +
  "and make sure the token count is right, then run teh tests again becuase they fail on main";
const CORRECTED = PROMPT.replaceAll("teh", "the").replace("adn", "and").replace("becuase", "because");
const LONG = PROMPT.repeat(20);
const HOSTILE = "token=".repeat(20_000);
const bounds = { maxLengthRatio: 1.5, maxEditDistanceRatio: 0.35 };
const key = cacheKey({ model: "m", promptVersion: "v", settings: { temperature: 0 }, text: PROMPT });

const memory = createMemoryCache();
await memory.put(key, { status: "corrected", corrected: CORRECTED, model: "m", at: 0 });
const dir = await Deno.makeTempDir({ prefix: "ccpipe_bench_" });
const disk = createDiskCache(dir);
await disk.put(key, { status: "corrected", corrected: CORRECTED, model: "m", at: 0 });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const limiter = createRateLimiter({ rpm: Number.MAX_SAFE_INTEGER, tpm: Number.MAX_SAFE_INTEGER });

Deno.bench("redact() a 200-char prompt with 2 secrets", { group: "redact" }, () => {
  redact(PROMPT);
});
Deno.bench("redact() a 200-char prompt with no secret", { group: "redact" }, () => {
  redact(PLAIN);
});
Deno.bench("redact() a 4 kB prompt", { group: "redact" }, () => {
  redact(LONG);
});
Deno.bench("redact() 120 kB of hostile input (token=token=…)", { group: "redact" }, () => {
  redact(HOSTILE);
});
Deno.bench("checkItem() a 200-char corrected prompt", { group: "guards" }, () => {
  checkItem(PROMPT, CORRECTED, bounds);
});
Deno.bench("checkItem() a 4 kB corrected prompt (word level)", { group: "guards" }, () => {
  checkItem(LONG, CORRECTED.repeat(20), bounds);
});
Deno.bench("cacheKey() sha256 of a prompt", { group: "cache" }, () => {
  cacheKey({ model: "m", promptVersion: "v", settings: { temperature: 0 }, text: PROMPT });
});
Deno.bench("memoryCache.get() hit", { group: "cache" }, async () => {
  await memory.get(key);
});
Deno.bench("diskCache.get() hit", { group: "cache" }, async () => {
  await disk.get(key);
});
Deno.bench("rateLimiter.acquire() + release() uncontended", { group: "limiter" }, async () => {
  (await limiter.acquire(100)).release();
});
