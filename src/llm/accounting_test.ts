import assert from "node:assert/strict";
import { bump, costOf, createCorrectionStats, percentile } from "./accounting.ts";

Deno.test("percentile() uses the nearest rank", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 95), 95);
  assert.equal(percentile([], 50), 0);
  assert.throws(() => percentile([1], 101), RangeError);
});

Deno.test("costOf() prices tokens per million", () => {
  assert.equal(costOf(1_000_000, 1_000_000, { priceInPerMTok: 0.1, priceOutPerMTok: 0.4 }), 0.5);
});

Deno.test("createCorrectionStats() starts at zero and bump() counts by name", () => {
  const stats = createCorrectionStats();
  assert.equal(stats.calls, 0);
  assert.equal(stats.stopped, null);
  bump(stats.skipped, "empty");
  bump(stats.skipped, "empty", 2);
  assert.deepEqual(stats.skipped, { empty: 3 });
});
