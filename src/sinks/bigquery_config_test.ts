import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import {
  DEFAULT_LOAD_JOBS_PER_TABLE_PER_DAY,
  DEFAULT_MAXIMUM_BYTES_BILLED,
  DEFAULT_STAGING_EXPIRATION_MS,
  parseBigQueryConfig,
} from "./bigquery_config.ts";

Deno.test("parseBigQueryConfig() fills in the defaults", () => {
  const config = parseBigQueryConfig({ project: "my-project", dataset: "ccpipe" });
  assert.equal(config.location, "US");
  assert.equal(config.endpoint, undefined);
  assert.equal(config.maximumBytesBilled, 10 * 1024 ** 3);
  assert.equal(config.maximumBytesBilled, DEFAULT_MAXIMUM_BYTES_BILLED);
  assert.equal(config.loadJobsPerTablePerDay, 1500);
  assert.equal(config.loadJobsPerTablePerDay, DEFAULT_LOAD_JOBS_PER_TABLE_PER_DAY);
  assert.equal(config.loadJobsPerDay, null);
  assert.equal(config.queryJobsPerDay, null);
  assert.equal(config.stagingExpirationMs, 24 * 60 * 60 * 1000);
  assert.equal(config.stagingExpirationMs, DEFAULT_STAGING_EXPIRATION_MS);
  assert.deepEqual(config.retries, {
    maxAttempts: 5,
    baseDelayMs: 1000,
    maxDelayMs: 32_000,
    dmlMaxAttempts: 12,
  });
  assert.equal(config.requestTimeoutMs, 60_000);
  assert.equal(config.jobTimeoutMs, 6 * 60 * 60 * 1000);
});

Deno.test("parseBigQueryConfig() keeps explicit values and coerces numeric strings from the environment", () => {
  const config = parseBigQueryConfig({
    project: "my-project",
    dataset: "team_history",
    location: "EU",
    endpoint: "http://localhost:9050",
    maximumBytesBilled: "1048576",
    loadJobsPerTablePerDay: 1000,
    queryJobsPerDay: "2000",
    retries: { maxAttempts: 2 },
  });
  assert.equal(config.location, "EU");
  assert.equal(config.endpoint, "http://localhost:9050");
  assert.equal(config.maximumBytesBilled, 1048576);
  assert.equal(config.loadJobsPerTablePerDay, 1000);
  assert.equal(config.queryJobsPerDay, 2000);
  assert.deepEqual(config.retries, {
    maxAttempts: 2,
    baseDelayMs: 1000,
    maxDelayMs: 32_000,
    dmlMaxAttempts: 12,
  });
});

Deno.test("parseBigQueryConfig() throws a ConfigError naming the bad field", () => {
  const cases: [unknown, string][] = [
    [{ dataset: "d" }, "bigquery.project"],
    [{ project: "Not A Project", dataset: "d" }, "bigquery.project"],
    [{ project: "my-project", dataset: "has-hyphen" }, "bigquery.dataset"],
    [{ project: "my-project", dataset: "d", endpoint: "ftp://example.com" }, "bigquery.endpoint"],
    [{ project: "my-project", dataset: "d", maximumBytesBilled: 0 }, "bigquery.maximumBytesBilled"],
    [{ project: "my-project", dataset: "d", loadJobsPerTablePerDay: 1.5 }, "bigquery.loadJobsPerTablePerDay"],
    [{ project: "my-project", dataset: "d", retries: { maxAttempts: 0 } }, "bigquery.retries.maxAttempts"],
    [{ project: "my-project", dataset: "d", datset: "typo" }, "bigquery.datset"],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => parseBigQueryConfig(input),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(`'${field}'`) && error.exitCode === 2,
      field,
    );
  }
});
