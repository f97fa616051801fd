/**
 * An MSW mock of the BigQuery REST API that behaves like the service for what ccpipe's sink does:
 * datasets and tables (partitioning, clustering, expiration, schema evolution rules), load jobs from
 * multipart and resumable NDJSON uploads checked against the table schema, job polling
 * (PENDING → RUNNING → DONE), queries run on DuckDB after a small dialect translation with named
 * parameters, on-demand billing and `maximumBytesBilled`, job locations, dataset default expirations,
 * per-table DML concurrency (2 running, 20 queued, serialisation conflicts), a per-table daily load-job
 * quota, fault injection and a call log. Drive it with the real `@google-cloud/bigquery` client; see `BIGQUERY.md`.
 *
 * @example Load a file and read the warehouse
 * ```ts ignore
 * import { setupServer } from "msw/node";
 * import { BigQuery } from "@google-cloud/bigquery";
 * import { createBigQueryMock, fakeAuthClient } from "./bigquery.ts";
 *
 * const mock = createBigQueryMock();
 * const server = setupServer(...mock.handlers);
 * server.listen({ onUnhandledRequest: "error" });
 * try {
 *   const bq = new BigQuery({ projectId: "test-project", authClient: fakeAuthClient() as never });
 *   await bq.createDataset("d");
 *   await bq.dataset("d").table("t").load("rows.ndjson", {
 *     sourceFormat: "NEWLINE_DELIMITED_JSON",
 *     schema: { fields: [{ name: "id", type: "STRING", mode: "REQUIRED" }] },
 *   });
 *   console.log(mock.rows("d", "t"));
 * } finally {
 *   server.close();
 * }
 * ```
 *
 * @module
 */
import { http, HttpResponse, type RequestHandler } from "msw";
import {
  type BigQueryErrorProto,
  invalid,
  invalidQuery,
  MockBigQueryError,
  notFound,
} from "./_bigquery_errors.ts";
import { decodeParams, type ExecResult, executeStatement } from "./_bigquery_duckdb.ts";
import {
  concatChunks,
  parseContentRange,
  parseMultipart,
  readNdjson,
  type ResumableSession,
  rowErrorProto,
  tooManyErrors,
} from "./_bigquery_upload.ts";
import {
  type BigQueryColumnSchema,
  encodeCell,
  loadObject,
  normalizeSchema,
  RowError,
} from "./_bigquery_values.ts";
import { type StoredTable, Warehouse } from "./_bigquery_warehouse.ts";
import { mulberry32 } from "./_random.ts";

export type { BigQueryColumnSchema } from "./_bigquery_values.ts";

/** Faults the mock can inject. */
export type BigQueryFault =
  | "http500"
  | "http503"
  | "rateLimitExceeded"
  | "load_job_errors"
  | "upload_cut"
  | "answer_lost"
  | "no_answer";

/** The fault names, for validation and CLI choices. */
export const BigQueryFaults: readonly BigQueryFault[] = [
  "http500",
  "http503",
  "rateLimitExceeded",
  "load_job_errors",
  "upload_cut",
  "answer_lost",
  "no_answer",
];

/**
 * When to inject a fault. Each rule counts the requests it is eligible for (those whose
 * `"METHOD path"` contains `match`; for `load_job_errors` only requests that create a load job, for
 * `upload_cut` only requests carrying upload bytes). `answer_lost` and `no_answer` let the request take
 * effect (a job is created) and then drop the connection or never answer. With `calls`, the listed 1-based counts fault;
 * with `rate`, each eligible request faults with that probability (seeded); with neither, every one does.
 */
export interface BigQueryFaultRule {
  fault: BigQueryFault;
  /** Probability in [0, 1] per eligible request. */
  rate?: number;
  /** 1-based numbers of the eligible requests that fault. */
  calls?: number[];
  /** Substring of `"METHOD path"` (path without query string), e.g. `"POST /upload"` or `"jobs"`. */
  match?: string;
}

/** Options of {@linkcode createBigQueryMock}. */
export interface BigQueryMockOptions {
  /** Seed for job ids and fault rates. @default {1} */
  seed?: number;
  /** The only project the mock serves. @default {"test-project"} */
  projectId?: string;
  /** Endpoints answered; add one per `apiEndpoint` override. @default {["https://bigquery.googleapis.com"]} */
  baseUrls?: string[];
  /** Load jobs allowed per table per UTC day; the next fails with `quotaExceeded`. @default {1500} */
  loadJobsPerTablePerDay?: number;
  /** `jobs.get` polls until a job reports DONE (0: DONE at insert). @default {1} */
  jobPollsUntilDone?: number;
  /** Fault rules, checked in order; the first that fires wins. @default {[]} */
  faults?: BigQueryFaultRule[];
  /** Clock for the call log, quota days and table expiration. @default {Date.now} */
  now?: () => number;
}

/** A table in the mock's warehouse, as tests inspect it (a copy of the stored table's public part). */
export type MockTable = Pick<
  StoredTable,
  "datasetId" | "tableId" | "schema" | "timePartitioning" | "clustering" | "expirationTime" | "rows"
>;

/** One request the mock answered. */
export interface BigQueryCall {
  at: number;
  method: string;
  /** URL path without the endpoint's own path prefix or the query string. */
  path: string;
  /**
   * What the request did: `oauth.token`, `datasets.get|insert|list|delete|patch`,
   * `tables.get|insert|list|patch|update|delete`, `tabledata.insertAll|list`, `jobs.insert.load`,
   * `jobs.insert.query`, `jobs.insert`, `jobs.insert.resumable` (session start), `upload.chunk`,
   * `jobs.get`, `jobs.cancel`, `jobs.query`, `jobs.getQueryResults`.
   */
  kind: string;
  /** HTTP status; 0 when the connection was cut. */
  status: number;
  jobId?: string;
  statement?: string;
}

/** Counters for assertions and the benchmark. */
export interface BigQueryCounters {
  loadJobs: number;
  queryJobs: number;
  /** DML jobs failed with "Could not serialize access" (another statement committed to the same partitions). */
  dmlConflicts: number;
  /** DML jobs refused because 2 ran and 20 queued on their table. */
  dmlQueueFull: number;
  /** Most DML jobs outstanding (running + queued) on one table at once. */
  dmlMaxOutstanding: number;
  /** Bytes billed by all successful query jobs (on-demand pricing, 10 MB minimum per table). */
  bytesBilled: number;
  streamingInserts: number;
  failedJobs: number;
  bytesUploaded: number;
}

/** A running BigQuery mock. */
export interface BigQueryMock {
  /** MSW handlers to pass to `setupServer`. */
  readonly handlers: RequestHandler[];
  /** Every request answered, in order. */
  readonly calls: readonly BigQueryCall[];
  /** A copy of a table, or `undefined` when it does not exist (or has expired). */
  table(datasetId: string, tableId: string): MockTable | undefined;
  /** A copy of a table's rows; `[]` when the table does not exist. */
  rows(datasetId: string, tableId: string): Record<string, unknown>[];
  /** Counters since creation or the last `reset()`. */
  counters(): BigQueryCounters;
  /** Changes options; the warehouse and the log are kept, fault rule counts restart when `faults` is given. */
  configure(options: Partial<BigQueryMockOptions>): void;
  /** Empties the warehouse, the call log, the counters and the quota. */
  reset(): void;
}

interface JobRecord {
  id: string;
  location: string;
  type: "LOAD" | "QUERY";
  configuration: Record<string, unknown>;
  created: number;
  polls: number;
  error?: MockBigQueryError;
  /** `errors[]` of a job that succeeded with tolerated bad rows. */
  warnings: BigQueryErrorProto[];
  load?: { inputFileBytes: number; outputRows: number; outputBytes: number; badRecords: number };
  result?: ExecResult;
  /** A mutating DML job waiting for, or holding, one of its table's two DML slots. */
  dml?: DmlJob;
}

interface DmlJob {
  /** `dataset.table` the statement writes. */
  table: string;
  sql: string;
  context: Omit<Parameters<typeof executeStatement>[1], "warehouse">;
  phase: "queued" | "running" | "done";
  /** The table's commit count when the job started running: a later commit to a partition it writes conflicts. */
  snapshot: number;
}

/** BigQuery's DML concurrency per table: 2 mutating statements run at once, 20 more queue. */
const DML_RUNNING = 2;
const DML_QUEUED = 20;

interface TableDml {
  running: JobRecord[];
  queued: JobRecord[];
  commits: { version: number; partitions: Set<string> }[];
  version: number;
}

interface Route {
  kind: string;
  projectId?: string;
  segments: string[];
  upload: boolean;
  base: string;
  path: string;
}

const DEFAULT_BASE = "https://bigquery.googleapis.com";
const TOKEN_URLS = ["https://oauth2.googleapis.com/token", "https://www.googleapis.com/oauth2/v4/token"];

function validateOptions(options: Partial<BigQueryMockOptions>): void {
  const { seed, loadJobsPerTablePerDay, jobPollsUntilDone, faults, baseUrls, projectId } = options;
  if (seed !== undefined && !Number.isFinite(seed)) {
    throw new RangeError(
      `Cannot create BigQuery mock as 'seed' must be a finite number: current value is ${seed}`,
    );
  }
  if (
    loadJobsPerTablePerDay !== undefined &&
    (!Number.isInteger(loadJobsPerTablePerDay) || loadJobsPerTablePerDay < 0)
  ) {
    throw new RangeError(
      `Cannot create BigQuery mock as 'loadJobsPerTablePerDay' must be a non-negative integer: current value is ${loadJobsPerTablePerDay}`,
    );
  }
  if (jobPollsUntilDone !== undefined && (!Number.isInteger(jobPollsUntilDone) || jobPollsUntilDone < 0)) {
    throw new RangeError(
      `Cannot create BigQuery mock as 'jobPollsUntilDone' must be a non-negative integer: current value is ${jobPollsUntilDone}`,
    );
  }
  if (projectId !== undefined && !/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(projectId)) {
    throw new RangeError(
      `Cannot create BigQuery mock as 'projectId' must be a valid project id: current value is ${projectId}`,
    );
  }
  for (const url of baseUrls ?? []) {
    if (!URL.canParse(url)) {
      throw new TypeError(
        `Cannot create BigQuery mock as 'baseUrls' must hold absolute URLs: current value is ${url}`,
      );
    }
  }
  for (const rule of faults ?? []) {
    if (!BigQueryFaults.includes(rule.fault)) {
      throw new TypeError(
        `Cannot create BigQuery mock as 'fault' must be one of ${
          BigQueryFaults.join(", ")
        }: current value is ${rule.fault}`,
      );
    }
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
      throw new RangeError(
        `Cannot create BigQuery mock as 'rate' must be in [0, 1]: current value is ${rule.rate}`,
      );
    }
    if (rule.calls?.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new RangeError(
        `Cannot create BigQuery mock as 'calls' must hold positive integers: current value is ${rule.calls}`,
      );
    }
  }
}

function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return HttpResponse.json(body as Record<string, unknown>, { status, headers });
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Errors the fault injector answers with, in the shapes BigQuery sends. */
const FAULT_ERRORS: Record<"http500" | "http503" | "rateLimitExceeded", () => MockBigQueryError> = {
  http500: () =>
    new MockBigQueryError(
      500,
      "internalError",
      "An internal error occurred and the request could not be completed. This is usually caused by a transient issue. Retrying the job with back-off as described in the BigQuery SLA should solve the problem: https://cloud.google.com/bigquery/sla. If the error continues to occur please contact support at https://cloud.google.com/support.",
    ),
  http503: () => new MockBigQueryError(503, "backendError", "The service is currently unavailable."),
  rateLimitExceeded: () =>
    new MockBigQueryError(
      403,
      "rateLimitExceeded",
      "Exceeded rate limits: too many api requests per user per method for this user_method. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas",
    ),
};

/**
 * Creates a BigQuery REST mock with an empty warehouse.
 *
 * @param options Seed, project, endpoints, quota, polling, faults and clock.
 * @returns The mock: MSW handlers plus inspection and control.
 * @throws {RangeError} For a bad seed, quota, poll count, project id or fault rate/calls.
 * @throws {TypeError} For an unknown fault name or a base URL that is not absolute.
 */
export function createBigQueryMock(options: BigQueryMockOptions = {}): BigQueryMock {
  validateOptions(options);
  let opts: Required<BigQueryMockOptions> = {
    seed: 1,
    projectId: "test-project",
    baseUrls: [DEFAULT_BASE],
    loadJobsPerTablePerDay: 1500,
    jobPollsUntilDone: 1,
    faults: [],
    now: Date.now,
    ...options,
  };
  let random = mulberry32(opts.seed);
  let ruleCounts = opts.faults.map(() => 0);
  const warehouse = new Warehouse(opts.projectId, () => opts.now());
  const calls: BigQueryCall[] = [];
  const jobs = new Map<string, JobRecord>();
  const uploads = new Map<string, ResumableSession>();
  const quota = new Map<string, number>();
  const dmlTables = new Map<string, TableDml>();
  // DML executes and commits one statement at a time (its reads and its write form one step).
  let dmlLock: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = dmlLock.then(fn);
    dmlLock = run.catch(() => {});
    return run;
  };
  const counters: BigQueryCounters = {
    loadJobs: 0,
    queryJobs: 0,
    dmlConflicts: 0,
    dmlQueueFull: 0,
    dmlMaxOutstanding: 0,
    bytesBilled: 0,
    streamingInserts: 0,
    failedJobs: 0,
    bytesUploaded: 0,
  };

  function newId(prefix: string): string {
    let id = prefix;
    while (id.length < prefix.length + 20) id += Math.floor(random() * 36).toString(36);
    return id;
  }

  /** The first fault among `eligible` kinds whose rule fires for this request; every eligible rule counts it. */
  function pickFault(target: string, eligible: readonly BigQueryFault[]): BigQueryFault | undefined {
    let fired: BigQueryFault | undefined;
    opts.faults.forEach((rule, i) => {
      if (!eligible.includes(rule.fault)) return;
      if (rule.match !== undefined && !target.includes(rule.match)) return;
      const n = ++ruleCounts[i];
      let hit: boolean;
      if (rule.calls !== undefined) hit = rule.calls.includes(n);
      else if (rule.rate !== undefined) hit = random() < rule.rate;
      else hit = true;
      if (hit && fired === undefined) fired = rule.fault;
    });
    return fired;
  }

  function route(request: Request): Route | undefined {
    const url = new URL(request.url);
    const full = `${url.origin}${url.pathname}`;
    if (TOKEN_URLS.includes(full) && request.method === "POST") {
      return { kind: "oauth.token", segments: [], upload: false, base: url.origin, path: url.pathname };
    }
    for (const base of opts.baseUrls) {
      const b = new URL(base);
      const prefix = b.pathname.replace(/\/$/, "");
      if (url.origin !== b.origin || !url.pathname.startsWith(prefix + "/")) continue;
      const path = url.pathname.slice(prefix.length);
      const m = /^\/(upload\/)?bigquery\/v2\/projects\/([^/]+)\/(.+)$/.exec(path);
      if (!m) return undefined;
      const segments = m[3].split("/").map(decodeURIComponent);
      const upload = m[1] !== undefined;
      const kind = kindOf(request.method, segments, upload, url.searchParams);
      if (!kind) return undefined;
      return { kind, projectId: decodeURIComponent(m[2]), segments, upload, base, path };
    }
    return undefined;
  }

  function kindOf(method: string, s: string[], upload: boolean, query: URLSearchParams): string | undefined {
    const [a, , c, , e] = s;
    if (upload) {
      if (s.length !== 1 || a !== "jobs") return undefined;
      const type = query.get("uploadType");
      if (method === "POST" && type === "multipart") return "jobs.insert.load";
      if (method === "POST" && type === "resumable") return "jobs.insert.resumable";
      if (method === "PUT" && query.has("upload_id")) return "upload.chunk";
      return undefined;
    }
    if (a === "datasets") {
      if (s.length === 1) {
        return method === "GET" ? "datasets.list" : method === "POST" ? "datasets.insert" : undefined;
      }
      if (s.length === 2) {
        return ({
          GET: "datasets.get",
          DELETE: "datasets.delete",
          PATCH: "datasets.patch",
          PUT: "datasets.patch",
        } as Record<
          string,
          string
        >)[method];
      }
      if (c !== "tables") return undefined;
      if (s.length === 3) {
        return method === "GET" ? "tables.list" : method === "POST" ? "tables.insert" : undefined;
      }
      if (s.length === 4) {
        return ({
          GET: "tables.get",
          PATCH: "tables.patch",
          PUT: "tables.update",
          DELETE: "tables.delete",
        } as Record<
          string,
          string
        >)[method];
      }
      if (s.length === 5 && e === "insertAll" && method === "POST") return "tabledata.insertAll";
      if (s.length === 5 && e === "data" && method === "GET") return "tabledata.list";
      return undefined;
    }
    if (a === "jobs") {
      if (s.length === 1 && method === "POST") return "jobs.insert";
      if (s.length === 2 && method === "GET") return "jobs.get";
      if (s.length === 3 && c === "cancel" && method === "POST") return "jobs.cancel";
      return undefined;
    }
    if (a === "queries") {
      if (s.length === 1 && method === "POST") return "jobs.query";
      if (s.length === 2 && method === "GET") return "jobs.getQueryResults";
      return undefined;
    }
    return undefined;
  }

  // --- jobs -------------------------------------------------------------------------------------

  function jobState(job: JobRecord): "PENDING" | "RUNNING" | "DONE" {
    if (job.dml && job.dml.phase !== "done") return job.dml.phase === "queued" ? "PENDING" : "RUNNING";
    if (job.polls >= opts.jobPollsUntilDone) return "DONE";
    return job.polls <= 1 ? "PENDING" : "RUNNING";
  }

  function jobResource(job: JobRecord): Record<string, unknown> {
    const state = jobState(job);
    const p = opts.projectId;
    const statistics: Record<string, unknown> = { creationTime: String(job.created) };
    if (state !== "PENDING") statistics.startTime = String(job.created + 1);
    if (state === "DONE") {
      statistics.endTime = String(job.created + 2);
      if (job.load && !job.error) {
        statistics.load = {
          inputFiles: "1",
          inputFileBytes: String(job.load.inputFileBytes),
          outputRows: String(job.load.outputRows),
          outputBytes: String(job.load.outputBytes),
          badRecords: String(job.load.badRecords),
        };
      }
      if (job.result) {
        const r = job.result;
        const bytes = String(r.bytesProcessed);
        statistics.totalBytesProcessed = bytes;
        statistics.query = {
          totalBytesProcessed: bytes,
          totalBytesBilled: String(r.bytesBilled),
          cacheHit: false,
          statementType: r.statementType,
          ...(r.dml
            ? {
              numDmlAffectedRows: String(r.dml.inserted + r.dml.updated + r.dml.deleted),
              dmlStats: {
                insertedRowCount: String(r.dml.inserted),
                updatedRowCount: String(r.dml.updated),
                deletedRowCount: String(r.dml.deleted),
              },
            }
            : {}),
          ...(r.ddlTarget
            ? {
              ddlOperationPerformed: "DROP",
              ddlTargetTable: {
                projectId: p,
                datasetId: r.ddlTarget.datasetId,
                tableId: r.ddlTarget.tableId,
              },
            }
            : {}),
          ...(r.schema ? { schema: { fields: r.schema } } : {}),
        };
      }
    }
    const status: Record<string, unknown> = { state };
    if (state === "DONE" && job.error) {
      status.errorResult = job.error.proto();
      status.errors = job.error.protos();
    } else if (state === "DONE" && job.warnings.length > 0) {
      status.errors = job.warnings;
    }
    return {
      kind: "bigquery#job",
      etag: `"${job.id.slice(-8)}"`,
      id: `${p}:${job.location}.${job.id}`,
      selfLink: `${DEFAULT_BASE}/bigquery/v2/projects/${p}/jobs/${job.id}?location=${job.location}`,
      user_email: `ccpipe-mock@${p}.iam.gserviceaccount.com`,
      configuration: { ...job.configuration, jobType: job.type },
      jobReference: { projectId: p, jobId: job.id, location: job.location },
      statistics,
      status,
      principal_subject: `serviceAccount:ccpipe-mock@${p}.iam.gserviceaccount.com`,
    };
  }

  function newJob(
    type: JobRecord["type"],
    reference: unknown,
    configuration: Record<string, unknown>,
    defaultLocation = "US",
  ): JobRecord {
    const ref = (reference ?? {}) as { jobId?: string; location?: string };
    const id = ref.jobId ?? newId("job_");
    const location = ref.location ?? defaultLocation;
    if (jobs.has(id)) {
      throw new MockBigQueryError(
        409,
        "duplicate",
        `Already Exists: Job ${opts.projectId}:${location}.${id}`,
      );
    }
    const job: JobRecord = { id, location, type, configuration, created: opts.now(), polls: 0, warnings: [] };
    jobs.set(id, job);
    return job;
  }

  /** Datasets a statement names through backticked paths (`p.d.t`, `p`.`d`.`t` or `d.t`). */
  function datasetsIn(sql: string): string[] {
    const found = new Set<string>();
    for (const m of sql.matchAll(/`([^`]+)`(?:\.`([^`]+)`)?(?:\.`([^`]+)`)?/g)) {
      const parts = [m[1], m[2], m[3]].filter((p): p is string => p !== undefined).flatMap((p) =>
        p.split(".")
      );
      if (parts.length >= 2) found.add(parts.at(-2)!);
    }
    return [...found];
  }

  /** A job runs in one location; a dataset elsewhere is "not found in location", as BigQuery says. */
  function checkLocation(job: JobRecord, datasetIds: readonly string[]): void {
    for (const id of datasetIds) {
      const dataset = warehouse.findDataset(id);
      if (dataset && dataset.location.toUpperCase() !== job.location.toUpperCase()) {
        throw notFound(
          `Not found: Dataset ${opts.projectId}:${id} was not found in location ${job.location}`,
        );
      }
    }
  }

  function fail(job: JobRecord, err: unknown): void {
    if (!(err instanceof MockBigQueryError)) throw err;
    job.error = err;
    counters.failedJobs++;
  }

  function runLoad(metadata: Record<string, unknown>, media: Uint8Array, injectErrors: boolean): JobRecord {
    const configuration = (metadata.configuration ?? {}) as Record<string, unknown>;
    const load = (configuration.load ?? {}) as Record<string, unknown>;
    const destinationDataset = (load.destinationTable as { datasetId?: string } | undefined)?.datasetId;
    const datasetLocation = destinationDataset
      ? warehouse.findDataset(destinationDataset)?.location
      : undefined;
    const job = newJob("LOAD", metadata.jobReference, configuration, datasetLocation);
    counters.loadJobs++;
    counters.bytesUploaded += media.byteLength;
    try {
      if (destinationDataset) checkLocation(job, [destinationDataset]);
      const dest = (load.destinationTable ?? {}) as {
        projectId?: string;
        datasetId?: string;
        tableId?: string;
      };
      if (!dest.datasetId || !dest.tableId) throw invalid("Required parameter is missing: destinationTable");
      if (dest.projectId !== undefined && dest.projectId !== opts.projectId) {
        throw notFound(`Not found: Project ${dest.projectId}`);
      }
      const quotaKey = `${dest.datasetId}.${dest.tableId}@${utcDay(opts.now())}`;
      const used = (quota.get(quotaKey) ?? 0) + 1;
      quota.set(quotaKey, used);
      if (used > opts.loadJobsPerTablePerDay) {
        throw new MockBigQueryError(
          403,
          "quotaExceeded",
          "Quota exceeded: Your table exceeded quota for imports or query appends per table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas",
        );
      }
      const format = String(load.sourceFormat ?? "CSV");
      if (format !== "NEWLINE_DELIMITED_JSON") {
        throw invalid(`The BigQuery mock only loads NEWLINE_DELIMITED_JSON: sourceFormat is ${format}`);
      }
      warehouse.dataset(dest.datasetId);
      const existing = warehouse.findTable(dest.datasetId, dest.tableId);
      const loadFields = (load.schema as { fields?: unknown } | undefined)?.fields;
      const configSchema = loadFields === undefined ? undefined : normalizeSchema(loadFields);
      const write = String(load.writeDisposition ?? "WRITE_APPEND");
      const create = String(load.createDisposition ?? "CREATE_IF_NEEDED");
      const options = (load.schemaUpdateOptions ?? []) as string[];
      const rules = {
        allowFieldAddition: options.includes("ALLOW_FIELD_ADDITION"),
        allowFieldRelaxation: options.includes("ALLOW_FIELD_RELAXATION"),
      };
      const name = `${opts.projectId}:${dest.datasetId}.${dest.tableId}`;
      let schema: BigQueryColumnSchema[];
      if (!existing) {
        if (create === "CREATE_NEVER") throw notFound(`Not found: Table ${name}`);
        if (!configSchema) {
          if (load.autodetect) throw invalid("Schema autodetection is not supported by the BigQuery mock");
          throw invalid("No schema specified on job or table.");
        }
        schema = configSchema;
      } else if (configSchema && write !== "WRITE_TRUNCATE") {
        // Check the evolution on a scratch copy; the real table changes only if the rows load.
        const scratch: StoredTable = { ...existing, rows: [] };
        warehouse.replaceSchema(scratch, configSchema, rules);
        schema = scratch.schema;
      } else schema = configSchema ?? existing.schema;
      if (write === "WRITE_EMPTY" && existing && existing.rows.length > 0) {
        throw new MockBigQueryError(409, "duplicate", `Already Exists: Table ${name}`);
      }
      if (injectErrors) {
        const field = schema[0]?.name ?? "unknown";
        throw tooManyErrors(1, [
          rowErrorProto(
            0,
            `Could not parse value (injected load_job_errors fault). Field: ${field}; Value: ?`,
          ),
        ]);
      }
      const read = readNdjson(media, schema, {
        maxBadRecords: Number(load.maxBadRecords ?? 0),
        ignoreUnknownValues: Boolean(load.ignoreUnknownValues),
      });
      let table = existing;
      if (!table) {
        table = warehouse.createTable(dest.datasetId, dest.tableId, {
          schema: { fields: schema },
          ...(load.timePartitioning ? { timePartitioning: load.timePartitioning } : {}),
          ...(load.clustering ? { clustering: load.clustering } : {}),
        });
      } else if (write === "WRITE_TRUNCATE") {
        table.schema = schema;
      } else if (configSchema) {
        warehouse.replaceSchema(table, configSchema, rules);
      }
      table.rows = write === "WRITE_TRUNCATE" ? read.rows : [...table.rows, ...read.rows];
      table.lastModifiedTime = opts.now();
      job.warnings = read.errors;
      job.load = {
        inputFileBytes: media.byteLength,
        outputRows: read.rows.length,
        // BigQuery reports the stored size; the uploaded size is a close, cheap stand-in.
        outputBytes: media.byteLength,
        badRecords: read.badRecords,
      };
    } catch (err) {
      fail(job, err);
    }
    return job;
  }

  async function runQuery(
    config: Record<string, unknown>,
    reference: unknown,
    jobConfiguration: Record<string, unknown>,
    immediate = false,
  ): Promise<JobRecord> {
    const datasets = typeof config.query === "string" ? datasetsIn(config.query) : [];
    const job = newJob(
      "QUERY",
      reference,
      jobConfiguration,
      warehouse.findDataset(datasets[0] ?? "")?.location,
    );
    counters.queryJobs++;
    try {
      checkLocation(job, datasets);
      if (config.useLegacySql !== false) {
        throw invalidQuery("Legacy SQL is not supported by the BigQuery mock: set useLegacySql to false");
      }
      if (typeof config.query !== "string") throw invalid("Required parameter is missing: query");
      const cap = config.maximumBytesBilled;
      const context = {
        defaultDataset: config.defaultDataset as { datasetId: string } | undefined,
        params: decodeParams(config.queryParameters),
        maximumBytesBilled: cap === undefined || cap === null ? undefined : Number(cap),
      };
      const target = dmlTarget(config.query, context.defaultDataset?.datasetId);
      if (target && !immediate) {
        enqueueDml(job, { table: target, sql: config.query, context, phase: "queued", snapshot: 0 });
        if (opts.jobPollsUntilDone === 0) await advanceDml(job);
      } else if (target) {
        // jobs.query waits server-side: the statement runs now, one DML commit at a time.
        job.result = await serially(async () => {
          const result = await executeStatement(config.query as string, { warehouse, ...context });
          result.apply?.();
          return result;
        });
      } else job.result = await executeStatement(config.query, { warehouse, ...context });
      if (!job.dml) counters.bytesBilled += job.result?.bytesBilled ?? 0;
    } catch (err) {
      fail(job, err);
    }
    return job;
  }

  /** The `dataset.table` a mutating DML statement writes, or `undefined` for anything else. */
  function dmlTarget(sql: string, defaultDataset?: string): string | undefined {
    const m =
      /^\s*(?:MERGE(?:\s+INTO)?|INSERT(?:\s+INTO)?|UPDATE|DELETE(?:\s+FROM)?)\s+(`[^`]+`(?:\.`[^`]+`)*|[\w.-]+)/i
        .exec(sql);
    if (!m) return undefined;
    const parts = m[1].replaceAll("`", "").split(".");
    return parts.length === 1 ? `${defaultDataset ?? ""}.${parts[0]}` : parts.slice(-2).join(".");
  }

  function tableDml(table: string): TableDml {
    let state = dmlTables.get(table);
    if (!state) dmlTables.set(table, state = { running: [], queued: [], commits: [], version: 0 });
    return state;
  }

  /** Starts a DML job, queues it behind the two running on its table, or refuses it past 20 queued. */
  function enqueueDml(job: JobRecord, dml: DmlJob): void {
    const state = tableDml(dml.table);
    if (state.running.length + state.queued.length >= DML_RUNNING + DML_QUEUED) {
      counters.dmlQueueFull++;
      throw new MockBigQueryError(
        400,
        "resourcesExceeded",
        `Resources exceeded during query execution: Too many DML statements outstanding against table ${opts.projectId}:${dml.table}, limit is ${DML_QUEUED}.`,
      );
    }
    job.dml = dml;
    if (state.running.length < DML_RUNNING) {
      dml.phase = "running";
      dml.snapshot = state.version;
      state.running.push(job);
    } else state.queued.push(job);
    counters.dmlMaxOutstanding = Math.max(
      counters.dmlMaxOutstanding,
      state.running.length + state.queued.length,
    );
  }

  /** Finishes a running DML job once it has been polled enough: commit, or fail on a conflicting commit. */
  async function advanceDml(job: JobRecord): Promise<void> {
    const dml = job.dml;
    if (!dml || dml.phase !== "running" || job.polls < opts.jobPollsUntilDone) return;
    await serially(async () => {
      if (dml.phase !== "running") return;
      const state = tableDml(dml.table);
      try {
        const result = await executeStatement(dml.sql, { warehouse, ...dml.context });
        const written = result.modified?.partitions ?? new Set<string>();
        const conflict = state.commits.some((c) =>
          c.version > dml.snapshot && [...written].some((p) => c.partitions.has(p))
        );
        if (conflict) {
          counters.dmlConflicts++;
          throw invalidQuery(
            `Could not serialize access to table ${opts.projectId}:${dml.table} due to concurrent update`,
          );
        }
        result.apply?.();
        counters.bytesBilled += result.bytesBilled;
        if (written.size > 0) {
          state.version++;
          state.commits.push({ version: state.version, partitions: written });
          if (state.commits.length > 100) state.commits.shift();
        }
        job.result = result;
      } catch (err) {
        fail(job, err);
      } finally {
        endDml(job);
      }
    });
  }

  /** Takes a DML job off its table's slots and starts the next queued one. */
  function endDml(job: JobRecord): void {
    const dml = job.dml!;
    const state = tableDml(dml.table);
    dml.phase = "done";
    state.running = state.running.filter((j) => j !== job);
    state.queued = state.queued.filter((j) => j !== job);
    while (state.running.length < DML_RUNNING && state.queued.length > 0) {
      const next = state.queued.shift()!;
      next.dml!.phase = "running";
      next.dml!.snapshot = state.version;
      state.running.push(next);
    }
  }

  function queryResponse(
    job: JobRecord,
    query: URLSearchParams,
    kind: string,
    int64Timestamp: boolean,
  ): unknown {
    const r = job.result!;
    const p = opts.projectId;
    const out: Record<string, unknown> = {
      kind: kind === "jobs.query" ? "bigquery#queryResponse" : "bigquery#getQueryResultsResponse",
      jobReference: { projectId: p, jobId: job.id, location: job.location },
      jobComplete: true,
      totalBytesProcessed: String(r.bytesProcessed),
      cacheHit: false,
    };
    if (r.dml) {
      out.numDmlAffectedRows = String(r.dml.inserted + r.dml.updated + r.dml.deleted);
      out.dmlStats = {
        insertedRowCount: String(r.dml.inserted),
        updatedRowCount: String(r.dml.updated),
        deletedRowCount: String(r.dml.deleted),
      };
    }
    if (r.schema && r.rows) {
      const start = Number(query.get("pageToken") ?? query.get("startIndex") ?? 0);
      const max = query.has("maxResults") ? Number(query.get("maxResults")) : r.rows.length;
      const page = r.rows.slice(start, start + max);
      out.schema = { fields: r.schema };
      out.totalRows = String(r.rows.length);
      out.rows = page.map((row) => ({ f: row.map((v, i) => encodeCell(v, r.schema![i], int64Timestamp)) }));
      if (start + page.length < r.rows.length) out.pageToken = String(start + page.length);
    } else out.totalRows = "0";
    return out;
  }

  // --- request handling -------------------------------------------------------------------------

  async function handle(
    request: Request,
    r: Route,
  ): Promise<{ response: Response; kind: string; jobId?: string; statement?: string }> {
    const url = new URL(request.url);
    const q = url.searchParams;
    const kind = r.kind;
    if (kind === "oauth.token") {
      await request.arrayBuffer();
      return {
        kind,
        response: json({
          access_token: "mock-access-token",
          expires_in: 3599,
          token_type: "Bearer",
          scope: "https://www.googleapis.com/auth/bigquery",
        }),
      };
    }
    if (r.projectId !== opts.projectId) {
      throw notFound(`Not found: Project ${r.projectId}`);
    }
    const [, dsId, , tId] = r.segments;
    const body = async () => {
      const text = await request.text();
      if (text === "") return {};
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new MockBigQueryError(400, "parseError", "Parse Error");
      }
    };
    const location = (datasetId: string) => warehouse.findDataset(datasetId)?.location ?? "US";
    switch (kind) {
      case "datasets.list":
        return {
          kind,
          response: json({
            kind: "bigquery#datasetList",
            etag: '"mock"',
            datasets: warehouse.datasets().map((d) => ({
              kind: "bigquery#dataset",
              id: `${opts.projectId}:${d.datasetId}`,
              datasetReference: { projectId: opts.projectId, datasetId: d.datasetId },
              location: d.location,
            })),
          }),
        };
      case "datasets.insert": {
        const b = await body();
        const ref = (b.datasetReference ?? {}) as { datasetId?: string };
        if (!ref.datasetId) throw invalid("Required parameter is missing: datasetReference.datasetId");
        const dataset = warehouse.createDataset(ref.datasetId, {
          ...(b.location ? { location: String(b.location) } : {}),
          ...(b.description !== undefined ? { description: String(b.description) } : {}),
          ...(b.labels ? { labels: b.labels as Record<string, string> } : {}),
          ...(b.defaultTableExpirationMs !== undefined
            ? { defaultTableExpirationMs: String(b.defaultTableExpirationMs) }
            : {}),
          ...(b.defaultPartitionExpirationMs !== undefined
            ? { defaultPartitionExpirationMs: String(b.defaultPartitionExpirationMs) }
            : {}),
        });
        return { kind, response: json(warehouse.datasetResource(dataset)) };
      }
      case "datasets.get":
        return { kind, response: json(warehouse.datasetResource(warehouse.dataset(dsId))) };
      case "datasets.patch": {
        const b = await body();
        const dataset = warehouse.dataset(dsId);
        if (b.description !== undefined) dataset.description = String(b.description);
        if (b.labels !== undefined) dataset.labels = b.labels as Record<string, string>;
        for (const key of ["defaultTableExpirationMs", "defaultPartitionExpirationMs"] as const) {
          if (b[key] !== undefined) dataset[key] = b[key] === null ? undefined : String(b[key]);
        }
        return { kind, response: json(warehouse.datasetResource(dataset)) };
      }
      case "datasets.delete":
        warehouse.deleteDataset(dsId, q.get("deleteContents") === "true");
        return { kind, response: new HttpResponse(null, { status: 204 }) };
      case "tables.list": {
        const tables = warehouse.tables(dsId);
        return {
          kind,
          response: json({
            kind: "bigquery#tableList",
            etag: '"mock"',
            tables: tables.map((t) => {
              const full = warehouse.tableResource(t, location(dsId));
              return {
                kind: full.kind,
                id: full.id,
                tableReference: full.tableReference,
                type: "TABLE",
                ...(t.timePartitioning ? { timePartitioning: full.timePartitioning } : {}),
                ...(t.clustering ? { clustering: full.clustering } : {}),
                creationTime: full.creationTime,
                ...(t.expirationTime ? { expirationTime: t.expirationTime } : {}),
              };
            }),
            totalItems: tables.length,
          }),
        };
      }
      case "tables.insert": {
        const b = await body();
        const ref = (b.tableReference ?? {}) as { tableId?: string };
        if (!ref.tableId) throw invalid("Required parameter is missing: tableReference.tableId");
        const table = warehouse.createTable(dsId, ref.tableId, b);
        return { kind, response: json(warehouse.tableResource(table, location(dsId))) };
      }
      case "tables.get":
        return { kind, response: json(warehouse.tableResource(warehouse.table(dsId, tId), location(dsId))) };
      case "tables.patch":
      case "tables.update": {
        const table = warehouse.patchTable(dsId, tId, await body());
        return { kind, response: json(warehouse.tableResource(table, location(dsId))) };
      }
      case "tables.delete":
        warehouse.deleteTable(dsId, tId);
        return { kind, response: new HttpResponse(null, { status: 204 }) };
      case "tabledata.insertAll":
        return { kind, response: insertAll(warehouse.table(dsId, tId), await body()) };
      case "tabledata.list": {
        const table = warehouse.table(dsId, tId);
        const start = Number(q.get("pageToken") ?? q.get("startIndex") ?? 0);
        const max = q.has("maxResults") ? Number(q.get("maxResults")) : table.rows.length;
        const page = table.rows.slice(start, start + max);
        const int64 = q.get("formatOptions.useInt64Timestamp") === "true";
        return {
          kind,
          response: json({
            kind: "bigquery#tableDataList",
            etag: '"mock"',
            totalRows: String(table.rows.length),
            rows: page.map((row) => ({ f: table.schema.map((f) => encodeCell(row[f.name], f, int64)) })),
            ...(start + page.length < table.rows.length ? { pageToken: String(start + page.length) } : {}),
          }),
        };
      }
      case "jobs.insert": {
        const b = await body();
        const configuration = (b.configuration ?? {}) as Record<string, unknown>;
        if (configuration.query) {
          const job = await runQuery(
            configuration.query as Record<string, unknown>,
            b.jobReference,
            configuration,
          );
          const statement = String((configuration.query as { query?: unknown }).query ?? "");
          return { kind: "jobs.insert.query", jobId: job.id, statement, response: json(jobResource(job)) };
        }
        if (configuration.load) {
          throw invalid(
            "Loading from sourceUris is not supported by the BigQuery mock: upload the data (uploadType=multipart or resumable)",
          );
        }
        throw invalid("The BigQuery mock runs only load and query jobs");
      }
      case "jobs.get": {
        const job = jobs.get(r.segments[1]);
        if (!job) {
          throw notFound(`Not found: Job ${opts.projectId}:${q.get("location") ?? "US"}.${r.segments[1]}`);
        }
        job.polls++;
        await advanceDml(job);
        return { kind, jobId: job.id, response: json(jobResource(job)) };
      }
      case "jobs.cancel": {
        const job = jobs.get(r.segments[1]);
        if (!job) {
          throw notFound(`Not found: Job ${opts.projectId}:${q.get("location") ?? "US"}.${r.segments[1]}`);
        }
        if (job.dml && job.dml.phase !== "done") {
          fail(
            job,
            new MockBigQueryError(
              400,
              "stopped",
              `Job ${opts.projectId}:${job.location}.${job.id} was cancelled`,
            ),
          );
          endDml(job);
        }
        return {
          kind,
          jobId: job.id,
          response: json({ kind: "bigquery#jobCancelResponse", job: jobResource(job) }),
        };
      }
      case "jobs.query": {
        const b = await body();
        const statement = typeof b.query === "string" ? b.query : undefined;
        const job = await runQuery(b, { location: b.location }, {
          query: {
            query: b.query,
            useLegacySql: b.useLegacySql,
            ...(b.queryParameters
              ? { queryParameters: b.queryParameters, parameterMode: b.parameterMode }
              : {}),
            ...(b.maximumBytesBilled !== undefined ? { maximumBytesBilled: b.maximumBytesBilled } : {}),
          },
        }, true);
        // jobs.query waits for the result server-side, so the job is already DONE.
        job.polls = Math.max(job.polls, opts.jobPollsUntilDone);
        if (job.error) {
          return { kind, jobId: job.id, statement, response: json(job.error.body(), job.error.code) };
        }
        const int64 =
          (b.formatOptions as { useInt64Timestamp?: boolean } | undefined)?.useInt64Timestamp === true;
        const params = new URLSearchParams(
          b.maxResults !== undefined ? { maxResults: String(b.maxResults) } : {},
        );
        return { kind, jobId: job.id, statement, response: json(queryResponse(job, params, kind, int64)) };
      }
      case "jobs.getQueryResults": {
        const job = jobs.get(r.segments[1]);
        if (!job || job.type !== "QUERY") {
          throw notFound(`Not found: Job ${opts.projectId}:${q.get("location") ?? "US"}.${r.segments[1]}`);
        }
        job.polls++;
        await advanceDml(job);
        if (jobState(job) !== "DONE") {
          return {
            kind,
            jobId: job.id,
            response: json({
              kind: "bigquery#getQueryResultsResponse",
              jobReference: { projectId: opts.projectId, jobId: job.id, location: job.location },
              jobComplete: false,
            }),
          };
        }
        if (job.error) return { kind, jobId: job.id, response: json(job.error.body(), job.error.code) };
        const int64 = q.get("formatOptions.useInt64Timestamp") === "true";
        return { kind, jobId: job.id, response: json(queryResponse(job, q, kind, int64)) };
      }
      case "jobs.insert.load": {
        const bytes = new Uint8Array(await request.arrayBuffer());
        const { metadata, media } = parseMultipart(request.headers.get("content-type") ?? "", bytes);
        return loadResponse(metadata, media, `${request.method} ${r.path}`);
      }
      case "jobs.insert.resumable": {
        const metadata = await body();
        const id = newId("upload_");
        uploads.set(id, { id, projectId: opts.projectId, metadata, chunks: [], received: 0 });
        const location = `${r.base.replace(/\/$/, "")}/upload/bigquery/v2/projects/${
          encodeURIComponent(opts.projectId)
        }/jobs?uploadType=resumable&upload_id=${id}`;
        return { kind, response: new HttpResponse(null, { status: 200, headers: { Location: location } }) };
      }
      case "upload.chunk":
        return await uploadChunk(request, q.get("upload_id")!, r);
    }
    throw new Error(`Unrouted kind ${kind}`);
  }

  function loadResponse(
    metadata: Record<string, unknown>,
    media: Uint8Array,
    target: string,
  ): { response: Response; kind: string; jobId: string } {
    const configuration = (metadata.configuration ?? {}) as Record<string, unknown>;
    if (!configuration.load) throw invalid("An upload must carry a load job configuration");
    const injectErrors = pickFault(target, ["load_job_errors"]) === "load_job_errors";
    const job = runLoad(metadata, media, injectErrors);
    return { kind: "jobs.insert.load", jobId: job.id, response: json(jobResource(job)) };
  }

  async function uploadChunk(
    request: Request,
    id: string,
    r: Route,
  ): Promise<{ response: Response; kind: string; jobId?: string }> {
    const session = uploads.get(id);
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (!session) throw notFound(`Not found: upload session ${id}`);
    const incomplete = () => {
      const headers: Record<string, string> = session.received > 0
        ? { Range: `bytes=0-${session.received - 1}` }
        : {};
      return { kind: "upload.chunk", response: new HttpResponse(null, { status: 308, headers }) };
    };
    if (session.jobId) {
      return {
        kind: "upload.chunk",
        jobId: session.jobId,
        response: json(jobResource(jobs.get(session.jobId)!)),
      };
    }
    const range = parseContentRange(request.headers.get("content-range"), bytes.byteLength);
    if (range.start === undefined) {
      if (range.total !== undefined && range.total === session.received) return finish(session, r);
      return incomplete();
    }
    if (range.start > session.received) {
      throw invalid(
        `Invalid request. Content-Range starts at ${range.start} but ${session.received} bytes were received`,
      );
    }
    // A retried chunk may overlap what already arrived: keep only the new bytes.
    const fresh = bytes.subarray(session.received - range.start);
    session.chunks.push(new Uint8Array(fresh));
    session.received += fresh.byteLength;
    if (range.total !== undefined && session.received >= range.total) return finish(session, r);
    return incomplete();
  }

  function finish(session: ResumableSession, r: Route): { response: Response; kind: string; jobId: string } {
    const media = concatChunks(session.chunks, session.received);
    const result = loadResponse(session.metadata, media, `PUT ${r.path}`);
    session.jobId = result.jobId;
    session.chunks = [];
    return result;
  }

  function insertAll(table: StoredTable, b: Record<string, unknown>): Response {
    counters.streamingInserts++;
    const entries = (b.rows ?? []) as { json?: Record<string, unknown> }[];
    const insertErrors: { index: number; errors: BigQueryErrorProto[] }[] = [];
    const good: Record<string, unknown>[] = [];
    entries.forEach((entry, index) => {
      try {
        good.push(
          loadObject(entry.json ?? {}, table.schema, { ignoreUnknown: Boolean(b.ignoreUnknownValues) }),
        );
      } catch (err) {
        if (!(err instanceof RowError)) throw err;
        const field = /(?:Field|field): ([\w.]+)/.exec(err.message)?.[1] ?? "";
        insertErrors.push({ index, errors: [{ reason: "invalid", location: field, message: err.message }] });
      }
    });
    if (insertErrors.length > 0 && !b.skipInvalidRows) {
      const bad = new Set(insertErrors.map((e) => e.index));
      entries.forEach((_, index) => {
        if (!bad.has(index)) {
          insertErrors.push({ index, errors: [{ reason: "stopped", location: "", message: "" }] });
        }
      });
      insertErrors.sort((x, y) => x.index - y.index);
    } else {
      table.rows = [...table.rows, ...good];
    }
    return json({
      kind: "bigquery#tableDataInsertAllResponse",
      ...(insertErrors.length ? { insertErrors } : {}),
    });
  }

  async function resolver(request: Request): Promise<Response> {
    const r = route(request)!;
    const at = opts.now();
    const target = `${request.method} ${r.path}`;
    const record = (status: number, kind: string, extra: Partial<BigQueryCall> = {}) =>
      calls.push({ at, method: request.method, path: r.path, kind, status, ...extra });
    const httpFault = pickFault(target, ["http500", "http503", "rateLimitExceeded"]);
    if (httpFault) {
      const err = FAULT_ERRORS[httpFault as keyof typeof FAULT_ERRORS]();
      record(err.code, r.kind);
      return json(err.body(), err.code);
    }
    const carriesUpload = r.kind === "jobs.insert.load" || r.kind === "upload.chunk";
    if (carriesUpload && pickFault(target, ["upload_cut"]) === "upload_cut") {
      // The connection drops mid-body: half the bytes arrived, no job exists, the client sees a network error.
      const bytes = new Uint8Array(await request.arrayBuffer());
      const half = Math.floor(bytes.byteLength / 2);
      counters.bytesUploaded += half;
      const session = r.kind === "upload.chunk"
        ? uploads.get(new URL(request.url).searchParams.get("upload_id")!)
        : undefined;
      let range: { start?: number } = {};
      try {
        range = parseContentRange(request.headers.get("content-range"), bytes.byteLength);
      } catch {
        // A malformed range on a cut request keeps nothing; the client sees the same network error.
      }
      if (session && !session.jobId && range.start !== undefined && range.start <= session.received) {
        const fresh = bytes.subarray(session.received - range.start, half);
        session.chunks.push(new Uint8Array(fresh));
        session.received += fresh.byteLength;
      }
      record(0, r.kind);
      return HttpResponse.error();
    }
    try {
      const lost = pickFault(target, ["answer_lost", "no_answer"]);
      const out = await handle(request, r);
      if (lost) {
        // The request took effect, but its answer never reaches the client.
        record(0, out.kind, out.jobId ? { jobId: out.jobId } : {});
        return lost === "answer_lost" ? HttpResponse.error() : new Promise<Response>(() => {});
      }
      record(out.response.status, out.kind, {
        ...(out.jobId ? { jobId: out.jobId } : {}),
        ...(out.statement !== undefined ? { statement: out.statement } : {}),
      });
      return out.response;
    } catch (err) {
      if (!(err instanceof MockBigQueryError)) throw err;
      record(err.code, r.kind);
      return json(err.body(), err.code);
    }
  }

  const handlers: RequestHandler[] = [
    http.all(({ request }) => route(request) !== undefined, ({ request }) => resolver(request)),
  ];

  return {
    handlers,
    calls,
    table(datasetId, tableId) {
      const t = warehouse.findTable(datasetId, tableId);
      if (!t) return undefined;
      return structuredClone({
        datasetId: t.datasetId,
        tableId: t.tableId,
        schema: t.schema,
        ...(t.timePartitioning ? { timePartitioning: t.timePartitioning } : {}),
        ...(t.clustering ? { clustering: t.clustering } : {}),
        ...(t.expirationTime !== undefined ? { expirationTime: t.expirationTime } : {}),
        rows: t.rows,
      });
    },
    rows(datasetId, tableId) {
      const t = warehouse.findTable(datasetId, tableId);
      return t ? structuredClone(t.rows) : [];
    },
    counters() {
      return { ...counters };
    },
    configure(next) {
      validateOptions(next);
      opts = { ...opts, ...next };
      if (next.faults) ruleCounts = opts.faults.map(() => 0);
      warehouse.setContext(opts.projectId, () => opts.now());
    },
    reset() {
      warehouse.clear();
      calls.length = 0;
      jobs.clear();
      uploads.clear();
      quota.clear();
      ruleCounts = opts.faults.map(() => 0);
      random = mulberry32(opts.seed);
      dmlTables.clear();
      Object.assign(counters, {
        loadJobs: 0,
        queryJobs: 0,
        dmlConflicts: 0,
        dmlQueueFull: 0,
        dmlMaxOutstanding: 0,
        bytesBilled: 0,
        streamingInserts: 0,
        failedJobs: 0,
        bytesUploaded: 0,
      });
    },
  };
}

/**
 * An `authClient` stand-in for `new BigQuery({ projectId, authClient: fakeAuthClient(), apiEndpoint })`:
 * it signs requests with a fixed bearer token, so no credentials, metadata server or token endpoint are needed.
 *
 * @returns An object with the `AuthClient` methods the BigQuery client calls.
 */
export function fakeAuthClient(): unknown {
  const headers = () => new Headers({ authorization: "Bearer mock-access-token" });
  return {
    getRequestHeaders: () => Promise.resolve(headers()),
    getAccessToken: () => Promise.resolve({ token: "mock-access-token", res: null }),
    getProjectId: () => Promise.resolve(undefined),
    credentials: { access_token: "mock-access-token", token_type: "Bearer" },
  };
}

/**
 * The text of an application-default credentials file (`GOOGLE_APPLICATION_CREDENTIALS`) for a user
 * account: the mock's token endpoint trades its refresh token for an access token, so the real ADC chain
 * runs end to end with no real credentials.
 */
export const FAKE_ADC_FILE: string = JSON.stringify({
  type: "authorized_user",
  client_id: "test-client.apps.googleusercontent.com",
  client_secret: "test-secret",
  refresh_token: "test-refresh-token",
});
