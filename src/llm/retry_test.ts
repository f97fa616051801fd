import assert from "node:assert/strict";
import { isRetriable } from "./retry.ts";
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
