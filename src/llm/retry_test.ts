import assert from "node:assert/strict";
import { backoffDelay, isRetriable } from "./retry.ts";
import { GeminiRequestError, GeminiResponseError, RateLimitError, TransientServiceError } from "./errors.ts";

Deno.test("isRetriable() retries per-minute 429s and transient failures only", () => {
  assert.equal(
    isRetriable(new RateLimitError("429", { quotaId: "GenerateRequestsPerMinutePerProjectPerModel" })),
    true,
  );
  assert.equal(
    isRetriable(new RateLimitError("429", { quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" })),
    false,
  );
  assert.equal(isRetriable(new TransientServiceError("http_5xx", { status: 503 })), true);
  assert.equal(isRetriable(new TransientServiceError("timeout")), true);
  assert.equal(isRetriable(new GeminiResponseError("malformed")), false);
  assert.equal(isRetriable(new GeminiRequestError(400)), false);
  assert.equal(isRetriable(new Error("x")), false);
});

Deno.test("RateLimitError marks per-day quotas with exit code 75", () => {
  const daily = new RateLimitError("429", { quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" });
  assert.equal(daily.isDaily, true);
  assert.equal(daily.exitCode, 75);
  assert.equal(new RateLimitError("429", { retryDelayMs: 500 }).isDaily, false);
});

Deno.test("backoffDelay() doubles up to the cap with full jitter", () => {
  assert.equal(backoffDelay(0, { baseMs: 100, random: () => 0 }), 100);
  assert.equal(backoffDelay(3, { baseMs: 100, random: () => 0 }), 800);
  assert.equal(backoffDelay(20, { baseMs: 100, maxMs: 5000, random: () => 0 }), 5000);
  assert.equal(backoffDelay(2, { baseMs: 100, random: () => 0.5 }), 200);
  assert.equal(backoffDelay(2, { baseMs: 100, jitter: 0, random: () => 0.9 }), 400);
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(4, { baseMs: 100 });
    assert.ok(d > 0 && d <= 1600);
  }
});

Deno.test("backoffDelay() throws for invalid arguments", () => {
  assert.throws(() => backoffDelay(-1), RangeError);
  assert.throws(() => backoffDelay(0, { jitter: 2 }), /'jitter' must be in \[0, 1\]: current value is 2/);
});
