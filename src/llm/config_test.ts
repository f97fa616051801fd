import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { parseCorrectionConfig } from "./config.ts";

Deno.test("parseCorrectionConfig() fills the documented defaults", () => {
  const config = parseCorrectionConfig({});
  assert.equal(config.model, "gemini-2.5-flash-lite");
  assert.equal(config.batchSize, 15);
  assert.equal(config.workers, 5);
  assert.equal(config.rpm, 4000);
  assert.equal(config.tpm, 4_000_000);
  assert.equal(config.rpd, null);
  assert.equal(config.minGapMs, 0);
  assert.equal(config.priceInPerMTok, 0.10);
  assert.equal(config.priceOutPerMTok, 0.40);
  assert.deepEqual(config.guards, { maxLengthRatio: 1.5, maxEditDistanceRatio: 0.35 });
  assert.deepEqual(parseCorrectionConfig(undefined), config);
});

Deno.test("parseCorrectionConfig() throws ConfigError naming the bad field", () => {
  assert.throws(() => parseCorrectionConfig({ batchSize: 51 }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /'batchSize'/);
    assert.equal(e.exitCode, 2);
    return true;
  });
  assert.throws(
    () => parseCorrectionConfig({ guards: { maxEditDistanceRatio: 2 } }),
    /'guards.maxEditDistanceRatio'/,
  );
  assert.throws(() => parseCorrectionConfig({ workers: 0 }), /'workers'/);
});
