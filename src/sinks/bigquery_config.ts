/**
 * Configuration of the BigQuery sink: where the tables go, what each query may bill, and the daily
 * job budgets checked before every job.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";

const GiB = 1024 ** 3;

/** Published quota: 1,500 load jobs per table per day (cloud.google.com/bigquery/quotas#load_jobs). */
export const DEFAULT_LOAD_JOBS_PER_TABLE_PER_DAY = 1500;
/** Default cap on bytes billed by any one query: 10 GiB. */
export const DEFAULT_MAXIMUM_BYTES_BILLED = 10 * GiB;
/** Default deadline of one HTTP request: 60 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Default deadline of one job (`jobTimeoutMs`), queueing included: 6 h. */
export const DEFAULT_JOB_TIMEOUT_MS = 6 * 60 * 60 * 1000;
/** Default lifetime of a staging table, a safety net for runs that die before dropping it: 24 h. */
export const DEFAULT_STAGING_EXPIRATION_MS = 24 * 60 * 60 * 1000;

// Project ids: 6-30 chars of lowercase letters, digits and hyphens; legacy domain-scoped ids
// ("example.com:proj") are allowed too. Dataset ids: letters, digits and underscores, at most 1,024.
const projectPattern = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const datasetPattern = /^[A-Za-z0-9_]{1,1024}$/;

const positiveInt = () => z.coerce.number().int().positive();

const retriesSchema = z.object({
  /** Attempts per request or job, the first one included. */
  maxAttempts: positiveInt().max(20).default(5),
  /** First backoff delay; doubles per attempt, with full jitter. */
  baseDelayMs: z.coerce.number().int().nonnegative().default(1000),
  /** Upper bound of one backoff delay. */
  maxDelayMs: z.coerce.number().int().nonnegative().default(32_000),
  /**
   * Attempts of a MERGE that conflicted with another machine's DML on the same table ("Could not
   * serialize access", a full DML queue); more than `maxAttempts` because a team shares tables.
   */
  dmlMaxAttempts: positiveInt().max(50).default(12),
}).strict();

/**
 * The zod schema of the BigQuery sink configuration; every field but `project` and `dataset` has a default.
 *
 * - `location` (default `"US"`): where the dataset is created and jobs run.
 * - `endpoint` (optional): an API root to use instead of `https://bigquery.googleapis.com` (emulators, tests).
 * - `maximumBytesBilled` (default 10 GiB): set on every query; BigQuery fails a query that would bill more.
 * - `loadJobsPerTablePerDay` (default 1,500, the published quota): load jobs per target table per UTC day.
 * - `loadJobsPerDay` (default `null`, no budget; the project quota is 100,000): load jobs per project per UTC day.
 * - `queryJobsPerDay` (default `null`, no budget; the original design used 2,000): query jobs per project per UTC day.
 * - `stagingExpirationMs` (default 24 h): expiration set on staging tables in case a run dies before dropping them.
 * - `jobPollIntervalMs` (default 1,000): wait between two polls of a running job.
 * - `requestTimeoutMs` (default 60 s): deadline of each request; a job insert that gets no answer is looked up by its id.
 * - `jobTimeoutMs` (default 6 h): deadline of each job, queueing included; BigQuery cancels a query job past it
 *   and the sink stops polling and cancels any job past it.
 * - `retries` (default 5 attempts, 1 s doubling to at most 32 s): backoff on 5xx, `rateLimitExceeded` and cut connections.
 */
export const bigQueryConfigSchema = z.object({
  project: z.string().regex(
    projectPattern,
    "must be a Google Cloud project id (lowercase letters, digits, hyphens)",
  ),
  dataset: z.string().regex(datasetPattern, "must be a dataset id (letters, digits and underscores)"),
  location: z.string().min(1).default("US"),
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  maximumBytesBilled: positiveInt().default(DEFAULT_MAXIMUM_BYTES_BILLED),
  loadJobsPerTablePerDay: positiveInt().default(DEFAULT_LOAD_JOBS_PER_TABLE_PER_DAY),
  loadJobsPerDay: positiveInt().nullable().default(null),
  queryJobsPerDay: positiveInt().nullable().default(null),
  stagingExpirationMs: positiveInt().default(DEFAULT_STAGING_EXPIRATION_MS),
  jobPollIntervalMs: z.coerce.number().int().nonnegative().default(1000),
  requestTimeoutMs: positiveInt().default(DEFAULT_REQUEST_TIMEOUT_MS),
  jobTimeoutMs: positiveInt().default(DEFAULT_JOB_TIMEOUT_MS),
  retries: retriesSchema.prefault({}),
}).strict();

/** The parsed BigQuery sink configuration, defaults applied. */
export type BigQueryConfig = z.output<typeof bigQueryConfigSchema>;
/** The BigQuery sink configuration as written by a person (defaults optional). */
export type BigQueryConfigInput = z.input<typeof bigQueryConfigSchema>;

/**
 * Validates a BigQuery sink configuration and fills in the defaults.
 *
 * @param input The configuration from flags, environment and config file, merged.
 * @returns The parsed configuration.
 * @throws {ConfigError} Naming the first invalid field, e.g. `bigquery.project`.
 *
 * @example Defaults filled in
 * ```ts
 * import { parseBigQueryConfig } from "./bigquery_config.ts";
 * const config = parseBigQueryConfig({ project: "my-project", dataset: "ccpipe" });
 * if (config.location !== "US" || config.loadJobsPerTablePerDay !== 1500) throw new Error("unexpected");
 * ```
 */
export function parseBigQueryConfig(input: unknown): BigQueryConfig {
  const result = bigQueryConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
  const field = ["bigquery", ...path.map(String)].join(".");
  // zod's messages quote expected formats, never the received value, so nothing secret-shaped leaks.
  throw new ConfigError(`Cannot use the BigQuery configuration as '${field}' is invalid: ${issue.message}`, {
    cause: result.error,
  });
}
