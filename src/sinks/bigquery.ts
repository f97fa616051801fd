/**
 * The BigQuery sink: free batch load jobs only (never streaming inserts), one load job per table per
 * run into a staging table, then one MERGE on the natural key into the partitioned and clustered
 * target, then the staging table is dropped.
 *
 * Why it is safe to kill at any point: the staging table's name is fixed by the run id and loaded
 * with `WRITE_TRUNCATE`, and the MERGE is idempotent, so a resumed run (same run id) reloads the
 * staging table and completes; the target is only written by the MERGE, which BigQuery applies
 * atomically. Every job is counted against the daily budgets (`bigquery_budget.ts`) before it starts.
 *
 * @module
 */
import { BigQuery, type Job, type JobMetadata, type Table, type TableMetadata } from "@google-cloud/bigquery";
import { SinkError } from "../errors.ts";
import { type Clock, systemClock } from "../ports.ts";
import { type TableDef, type TableName, TableNames, Tables } from "../schema/tables.ts";
import type { LoadResult, Sink, StagedTable } from "./sink.ts";
import type { BigQueryConfig } from "./bigquery_config.ts";
import { JobBudget } from "./bigquery_budget.ts";
import {
  type BigQueryField,
  bigQueryTableShapeOf,
  diffBigQuerySchema,
  patchedBigQuerySchema,
  type SchemaDiff,
} from "./bigquery_schema.ts";
import {
  countStatement,
  mergeStatement,
  sessionsRefreshStatement,
  stagingTableName,
  type Statement,
  type TableRef,
} from "./bigquery_sql.ts";

/** Options of {@linkcode createBigQuerySink}. */
export interface BigQuerySinkOptions {
  config: BigQueryConfig;
  /** The run id; names the staging tables, so a resumed run must pass the same one. */
  runId: string;
  /** The data dir's state folder, where the job budget counters live. */
  stateDir: string;
  /** A client to use instead of one built from `config` with application-default credentials. */
  client?: BigQuery;
  /** @default {systemClock} */
  clock?: Clock;
  /** Aborts the load between steps and during waits. */
  signal?: AbortSignal;
  /** Receives one line per step (never anything secret). @default no logging */
  log?: (line: string) => void;
}

/**
 * Builds a BigQuery client for a configuration: credentials from Google's application-default chain
 * (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud ADC, the metadata server) unless `authClient` is given,
 * and the SDK's own retries off, because the sink retries with backoff on its injected clock.
 *
 * @param config The sink configuration (`project`, `location`, `endpoint`).
 * @param options `authClient`: a stand-in for tests or callers with their own credentials.
 * @returns The client.
 */
export function createBigQueryClient(
  config: BigQueryConfig,
  options: { authClient?: unknown } = {},
): BigQuery {
  return new BigQuery({
    projectId: config.project,
    location: config.location,
    ...(config.endpoint ? { apiEndpoint: config.endpoint } : {}),
    ...(options.authClient ? { authClient: options.authClient as never } : {}),
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
}

// ---------------------------------------------------------------------------------------------
// Errors and retries

const retriableReasons = new Set([
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "backendError",
  "internalError",
  "jobBackendError",
  "jobInternalError",
]);
const retriableStatus = new Set([408, 429, 500, 502, 503, 504]);
const networkCodes = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

interface ErrorLike {
  code?: unknown;
  message?: string;
  errors?: { reason?: string; message?: string; location?: string }[];
  name?: string;
  type?: string;
}

/** A job that reached DONE with an error result. */
class JobFailedError extends Error {
  readonly status: NonNullable<JobMetadata["status"]>;
  readonly jobId: string;
  constructor(jobId: string, status: NonNullable<JobMetadata["status"]>) {
    super(status.errorResult?.message ?? "job failed");
    this.jobId = jobId;
    this.status = status;
  }
  get retriable(): boolean {
    return retriableReasons.has(this.status.errorResult?.reason ?? "");
  }
}

/**
 * Tells whether a failed BigQuery request or job could succeed when tried again: HTTP 408/429/5xx,
 * the reasons `rateLimitExceeded` and `backendError`, and connections cut mid-request.
 *
 * @param error What the SDK threw.
 * @returns `true` for transient failures.
 */
export function isRetriableBigQueryError(error: unknown): boolean {
  if (error instanceof JobFailedError) return error.retriable;
  if (error instanceof SinkError || typeof error !== "object" || error === null) return false;
  const e = error as ErrorLike;
  if (typeof e.code === "number" && retriableStatus.has(e.code)) return true;
  if (e.errors?.some((item) => retriableReasons.has(item.reason ?? ""))) return true;
  if (typeof e.code === "string" && networkCodes.has(e.code)) return true;
  // node-fetch reports cut connections as FetchError of type "system"; fetch as a TypeError.
  if (e.name === "FetchError" || e.type === "system") return true;
  return e instanceof TypeError && /fetch|network|socket|terminated|aborted/i.test(e.message ?? "");
}

/**
 * Returns the HTTP status of an SDK error, if it carries one.
 *
 * @param error What the SDK threw.
 * @returns The status code or `undefined`.
 */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as ErrorLike | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Describes an SDK error in one line without its stack: status, reason and message.
 *
 * @param error What the SDK threw.
 * @returns A short description.
 */
export function describeBigQueryError(error: unknown): string {
  if (error instanceof JobFailedError) {
    const r = error.status.errorResult;
    return `job ${error.jobId} failed: ${r?.reason ?? "error"}: ${r?.message ?? ""}`.trim();
  }
  const e = (error ?? {}) as ErrorLike;
  const status = typeof e.code === "number" ? `HTTP ${e.code}` : typeof e.code === "string" ? e.code : "";
  const reason = e.errors?.[0]?.reason ?? "";
  const message = (e.message ?? String(error)).split("\n")[0].slice(0, 300);
  return [status, reason, message].filter(Boolean).join(": ");
}

interface RetryContext {
  config: BigQueryConfig;
  clock: Clock;
  signal?: AbortSignal;
  log: (line: string) => void;
}

async function withRetry<T>(what: string, context: RetryContext, fn: () => Promise<T>): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = context.config.retries;
  for (let attempt = 1;; attempt++) {
    context.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (error) {
      if (error instanceof SinkError) throw error;
      if (context.signal?.aborted) throw context.signal.reason;
      if (!isRetriableBigQueryError(error) || attempt >= maxAttempts) {
        const tried = attempt > 1 ? ` after ${attempt} attempts` : "";
        throw new SinkError(`Cannot ${what} as BigQuery failed${tried}: ${describeBigQueryError(error)}`, {
          cause: error,
          transient: isRetriableBigQueryError(error),
        });
      }
      // Exponential backoff with equal jitter: half fixed, half random, capped.
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
      context.log(
        `bigquery: ${what}: ${describeBigQueryError(error)}; retry ${attempt}/${
          maxAttempts - 1
        } in ${delay} ms`,
      );
      await context.clock.sleep(delay, context.signal);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Remote state: dataset and tables

/** What preparing one table involves. */
export interface TablePlan {
  table: TableName;
  /** `create`: missing; `alter`: columns to add or relax; `none`: ready as is. */
  action: "create" | "alter" | "none";
  /** Columns to add (nullable). */
  add: string[];
  /** REQUIRED columns to relax to NULLABLE. */
  relax: string[];
  /** Columns whose type differs: the load would stop before any data moves. */
  conflicts: { column: string; existing: string; wanted: string }[];
  partitioning?: string;
  clustering?: string[];
}

interface InspectedTable {
  plan: TablePlan;
  existing?: BigQueryField[];
  diff?: SchemaDiff;
}

async function inspectTable(table: Table, def: TableDef, context: RetryContext): Promise<InspectedTable> {
  const shape = bigQueryTableShapeOf(def);
  const base = {
    table: def.name,
    partitioning: shape.timePartitioning?.field,
    clustering: shape.clustering?.fields,
  };
  let metadata: TableMetadata | undefined;
  try {
    [metadata] = await withRetry(`read table ${def.name}`, context, () => table.getMetadata());
  } catch (error) {
    if (httpStatusOf((error as SinkError).cause) !== 404) throw error;
  }
  if (!metadata) {
    return { plan: { ...base, action: "create", add: [], relax: [], conflicts: [] } };
  }
  const existing = (metadata.schema?.fields ?? []) as BigQueryField[];
  const diff = diffBigQuerySchema(existing, shape.schema.fields);
  const action = diff.add.length || diff.relax.length ? "alter" : "none";
  return {
    plan: {
      ...base,
      action,
      add: diff.add.map((f) => f.name),
      relax: diff.relax,
      conflicts: diff.conflicts,
    },
    existing,
    diff,
  };
}

function conflictError(project: string, dataset: string, inspected: InspectedTable[]): SinkError | undefined {
  const conflicts = inspected.flatMap(({ plan }) =>
    plan.conflicts.map((c) =>
      `${project}.${dataset}.${plan.table}.${c.column} is ${c.existing}, ccpipe loads ${c.wanted}`
    )
  );
  if (conflicts.length === 0) return undefined;
  return new SinkError(
    `Cannot load into BigQuery as column ${conflicts[0]}` +
      (conflicts.length > 1 ? ` (and ${conflicts.length - 1} more: ${conflicts.slice(1).join("; ")})` : "") +
      "; ccpipe never retypes a column, so nothing was loaded",
  );
}

// ---------------------------------------------------------------------------------------------
// The sink

class BigQuerySink implements Sink {
  readonly name = "bigquery";
  readonly location: string;
  #config: BigQueryConfig;
  #runId: string;
  #stateDir: string;
  #client: BigQuery;
  #context: RetryContext;
  #budget?: JobBudget;
  #prepared = false;
  #jobLocation: string;

  constructor(options: BigQuerySinkOptions) {
    this.#config = options.config;
    this.#runId = options.runId;
    this.#stateDir = options.stateDir;
    this.#client = options.client ?? createBigQueryClient(options.config);
    this.#context = {
      config: options.config,
      clock: options.clock ?? systemClock,
      signal: options.signal,
      log: options.log ?? (() => {}),
    };
    this.location = `${options.config.project}.${options.config.dataset}`;
    this.#jobLocation = options.config.location;
  }

  #ref(table: string): TableRef {
    return { project: this.#config.project, dataset: this.#config.dataset, table };
  }

  #fullName(table: string): string {
    return `${this.#config.project}.${this.#config.dataset}.${table}`;
  }

  async #openBudget(): Promise<JobBudget> {
    this.#budget ??= await JobBudget.open(this.#stateDir, {
      limits: {
        loadJobsPerTablePerDay: this.#config.loadJobsPerTablePerDay,
        loadJobsPerDay: this.#config.loadJobsPerDay,
        queryJobsPerDay: this.#config.queryJobsPerDay,
      },
      clock: this.#context.clock,
    });
    return this.#budget;
  }

  async prepare(): Promise<void> {
    const { project, dataset: datasetId, location } = this.#config;
    const context = this.#context;
    const dataset = this.#client.dataset(datasetId, { projectId: project, location });
    let exists = true;
    try {
      const [metadata] = await withRetry(
        `read dataset ${project}.${datasetId}`,
        context,
        () => dataset.getMetadata(),
      );
      if (metadata.location) this.#jobLocation = metadata.location;
    } catch (error) {
      if (httpStatusOf((error as SinkError).cause) !== 404) throw error;
      exists = false;
    }
    if (!exists) {
      await withRetry(`create dataset ${project}.${datasetId}`, context, async () => {
        try {
          await dataset.create({ location });
        } catch (error) {
          if (httpStatusOf(error) !== 409) throw error; // created meanwhile: fine
        }
      });
      context.log(`bigquery: created dataset ${project}.${datasetId} in ${location}`);
    }
    // Inspect every table first, so a type conflict anywhere stops before anything is created or altered.
    const inspected: InspectedTable[] = [];
    for (const name of TableNames) {
      inspected.push(await inspectTable(dataset.table(name), Tables[name], context));
    }
    const conflict = conflictError(project, datasetId, inspected);
    if (conflict) throw conflict;
    for (const { plan, existing, diff } of inspected) {
      context.signal?.throwIfAborted();
      const def: TableDef = Tables[plan.table];
      const table = dataset.table(plan.table);
      if (plan.action === "create") {
        const shape = bigQueryTableShapeOf(def);
        await withRetry(`create table ${this.#fullName(plan.table)}`, context, async () => {
          try {
            await dataset.createTable(plan.table, shape);
          } catch (error) {
            if (httpStatusOf(error) !== 409) throw error;
          }
        });
        const layout = [
          shape.timePartitioning ? `partitioned by DAY(${shape.timePartitioning.field})` : "",
          shape.clustering ? `clustered by ${shape.clustering.fields.join(", ")}` : "",
        ].filter(Boolean).join(", ");
        context.log(`bigquery: created table ${this.#fullName(plan.table)}${layout ? ` (${layout})` : ""}`);
      } else if (plan.action === "alter" && existing && diff) {
        const fields = patchedBigQuerySchema(existing, diff);
        await withRetry(
          `add columns to ${this.#fullName(plan.table)}`,
          context,
          () => table.setMetadata({ schema: { fields } }),
        );
        context.log(
          `bigquery: altered table ${this.#fullName(plan.table)}: ` +
            [
              plan.add.length ? `added ${plan.add.join(", ")}` : "",
              plan.relax.length ? `relaxed ${plan.relax.join(", ")}` : "",
            ]
              .filter(Boolean).join("; "),
        );
      }
    }
    this.#prepared = true;
  }

  /** Runs one job: budget first, then submit, poll until DONE, and retry the whole job on transient failure. */
  async #runJob(
    what: string,
    kind: "load" | "query",
    table: string,
    submit: () => Promise<Job>,
  ): Promise<{ job: Job; metadata: JobMetadata }> {
    const budget = await this.#openBudget();
    return await withRetry(what, this.#context, async () => {
      await budget.take(kind, this.#fullName(table));
      const job = await submit();
      const metadata = await this.#poll(job, what);
      if (metadata.status?.errorResult) throw new JobFailedError(job.id ?? "?", metadata.status);
      return { job, metadata };
    });
  }

  async #poll(job: Job, what: string): Promise<JobMetadata> {
    let metadata = job.metadata as JobMetadata | undefined;
    while (metadata?.status?.state !== "DONE") {
      if (metadata) await this.#context.clock.sleep(this.#config.jobPollIntervalMs, this.#context.signal);
      [metadata] = await withRetry(`poll job ${job.id} (${what})`, this.#context, () => job.getMetadata());
    }
    return metadata;
  }

  async #query(
    what: string,
    table: string,
    statement: Statement,
  ): Promise<{ job: Job; metadata: JobMetadata }> {
    return await this.#runJob(what, "query", table, async () => {
      const [job] = await this.#client.createQueryJob({
        query: statement.query,
        ...(statement.params ? { params: statement.params } : {}),
        location: this.#jobLocation,
        maximumBytesBilled: String(this.#config.maximumBytesBilled),
        useLegacySql: false,
        jobPrefix: `ccpipe_q_${table}_`,
      });
      return job;
    });
  }

  async #count(table: TableName): Promise<number> {
    const { job } = await this.#query(
      `count rows of ${this.#fullName(table)}`,
      table,
      countStatement(this.#ref(table)),
    );
    const [rows] = await withRetry(
      `read the row count of ${this.#fullName(table)}`,
      this.#context,
      () => job.getQueryResults({ location: this.#jobLocation }),
    );
    return Number((rows[0] as { n?: unknown } | undefined)?.n ?? 0);
  }

  async load(staged: StagedTable): Promise<LoadResult> {
    const def: TableDef | undefined = Tables[staged.table];
    if (!def) {
      throw new TypeError(
        `Cannot load a staged table as 'table' must be a ccpipe table: current value is ${staged.table}`,
      );
    }
    const context = this.#context;
    context.signal?.throwIfAborted();
    if (!this.#prepared) await this.prepare();
    const target = this.#fullName(def.name);
    // Check the whole table's jobs up front, so a budget never strands a load whose MERGE cannot run.
    const budget = await this.#openBudget();
    if (staged.rows > 0) budget.check("load", target);
    budget.check("query", target, staged.rows === 0 ? 1 : def.name === "sessions" ? 4 : 3);
    const rowsBefore = await this.#count(def.name);
    if (staged.rows === 0) {
      context.log(`bigquery: ${target}: nothing staged, no job started`);
      return { table: def.name, rowsStaged: 0, rowsBefore, rowsAfter: rowsBefore, bytes: 0 };
    }
    const stagingName = stagingTableName(def.name, this.#runId);
    const stagingRef = this.#ref(stagingName);
    const dataset = this.#client.dataset(this.#config.dataset, { projectId: this.#config.project });
    const staging = dataset.table(stagingName);
    const shape = bigQueryTableShapeOf(def);

    // The staging table is created with an expiration first (a load job cannot set one), so a run that
    // dies before dropping it leaves nothing behind for long. A resumed run finds it and overwrites it.
    const expirationTime = String(context.clock.now() + this.#config.stagingExpirationMs);
    await withRetry(`create staging table ${this.#fullName(stagingName)}`, context, async () => {
      try {
        await dataset.createTable(stagingName, { schema: shape.schema, expirationTime });
      } catch (error) {
        if (httpStatusOf(error) !== 409) throw error;
      }
    });

    const { metadata: loadMeta } = await this.#runJob(
      `load ${staged.path} into ${this.#fullName(stagingName)}`,
      "load",
      def.name,
      async () => {
        // A path makes the SDK stream the file (fs.createReadStream) into one multipart upload.
        const [job] = await staging.createLoadJob(staged.path, {
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          schema: shape.schema,
          writeDisposition: "WRITE_TRUNCATE",
          createDisposition: "CREATE_IF_NEEDED",
          ignoreUnknownValues: false,
          maxBadRecords: 0,
          jobPrefix: `ccpipe_load_${def.name}_`,
        });
        return job;
      },
    ).catch((error) => {
      throw error instanceof SinkError && error.cause instanceof JobFailedError
        ? loadErrors(staged, target, error.cause)
        : error;
    });
    const loaded = loadMeta.statistics?.load;
    const rowsStaged = Number(loaded?.outputRows ?? staged.rows);
    const bytes = Number(loaded?.inputFileBytes ?? staged.bytes);
    context.log(`bigquery: loaded ${rowsStaged} rows (${bytes} bytes) into ${this.#fullName(stagingName)}`);
    if (rowsStaged !== staged.rows) {
      context.log(
        `bigquery: warning: ${staged.path} holds ${staged.rows} rows but the load job read ${rowsStaged}`,
      );
    }

    // Between the load and the MERGE the target is untouched: an abort here leaves a staging table
    // that the resumed run (same run id) overwrites.
    context.signal?.throwIfAborted();
    await this.#query(
      `merge ${this.#fullName(stagingName)} into ${target}`,
      def.name,
      mergeStatement(def, { target: this.#ref(def.name), staging: stagingRef }),
    );
    if (def.name === "sessions") {
      await this.#query(
        `refresh the session aggregates of ${target}`,
        def.name,
        sessionsRefreshStatement({
          sessions: this.#ref("sessions"),
          messages: this.#ref("messages"),
          staging: stagingRef,
        }),
      );
    }
    context.log(`bigquery: merged ${this.#fullName(stagingName)} into ${target}`);
    // Dropping needs no job (tables.delete), so it costs no budget; the expiration covers a failure here.
    try {
      await withRetry(`drop ${this.#fullName(stagingName)}`, context, async () => {
        try {
          await staging.delete();
        } catch (error) {
          if (httpStatusOf(error) !== 404) throw error;
        }
      });
    } catch (error) {
      context.log(`bigquery: warning: ${(error as Error).message}; it expires on its own`);
    }
    const rowsAfter = await this.#count(def.name);
    return { table: def.name, rowsStaged, rowsBefore, rowsAfter, bytes };
  }

  async counts(): Promise<Record<TableName, number>> {
    const counts = {} as Record<TableName, number>;
    for (const name of TableNames) counts[name] = await this.#count(name);
    return counts;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // The SDK holds no connection to close; nothing else is open between calls.
  }
}

function loadErrors(staged: StagedTable, target: string, failure: JobFailedError): SinkError {
  const summary = failure.status.errorResult;
  // BigQuery's errorResult is usually a summary ("too many errors"); the row errors follow in errors[].
  const rowErrors = (failure.status.errors ?? []).filter((e) => e.message !== summary?.message);
  const first = rowErrors.length ? rowErrors : [summary ?? {}];
  const quoted = first.slice(0, 3).map((e) =>
    [
      e.reason,
      e.location ? `at ${e.location}:` : "",
      (e.message ?? "").replace(/^Error while reading data, error message: /, ""),
    ]
      .filter(Boolean).join(" ")
  );
  const more = first.length > 3 ? ` (and ${first.length - 3} more)` : "";
  return new SinkError(
    `Cannot load ${staged.table} (${staged.path}) into ${target} as load job ${failure.jobId} failed` +
      `${summary?.reason ? ` (${summary.reason})` : ""}: ${quoted.join(" | ")}${more}; nothing was merged`,
    { cause: failure },
  );
}

/**
 * Creates the BigQuery sink. Nothing is contacted until `prepare()` or `load()`.
 *
 * @param options The configuration, run id, state dir and optional client, clock, signal and log.
 * @returns A {@linkcode Sink} named `bigquery` located at `project.dataset`.
 * @throws {TypeError} When `runId` is empty.
 */
export function createBigQuerySink(options: BigQuerySinkOptions): Sink {
  if (!options.runId) {
    throw new TypeError("Cannot create BigQuery sink as 'runId' must not be empty: current value is ''");
  }
  return new BigQuerySink(options);
}

// ---------------------------------------------------------------------------------------------
// Dry run

/** What a BigQuery load would do, found without starting any job. */
export interface BigQueryPlan {
  location: string;
  /** Whether the remote state could be read; when not, everything is assumed missing. */
  inspected: boolean;
  /** Why the remote state could not be read. */
  inspectError?: string;
  createDataset: boolean;
  tables: (TablePlan & { rows: number; bytes: number })[];
  /** Jobs the run would start: one load per non-empty table, and its queries (counts, MERGE, refresh). */
  loadJobs: number;
  queryJobs: number;
}

/**
 * Says what loading staged tables would create, alter and load (rows and bytes per table), reading
 * only metadata: it starts no job and changes nothing.
 *
 * @param options The configuration, the staged tables and an optional client.
 * @returns The plan; `inspected` is `false` when BigQuery could not be reached (then all is assumed missing).
 */
export async function planBigQueryLoad(
  options: { config: BigQueryConfig; staged: StagedTable[]; client?: BigQuery; clock?: Clock },
): Promise<BigQueryPlan> {
  const { config, staged } = options;
  const client = options.client ?? createBigQueryClient(config);
  const context: RetryContext = {
    config: { ...config, retries: { ...config.retries, maxAttempts: 1 } },
    clock: options.clock ?? systemClock,
    log: () => {},
  };
  const byTable = new Map(staged.map((s) => [s.table, s]));
  let createDataset = false;
  let inspected = true;
  let inspectError: string | undefined;
  let tables: TablePlan[] = [];
  try {
    const dataset = client.dataset(config.dataset, { projectId: config.project });
    try {
      await withRetry("read dataset", context, () => dataset.getMetadata());
    } catch (error) {
      if (httpStatusOf((error as SinkError).cause) !== 404) throw error;
      createDataset = true;
    }
    for (const name of TableNames) {
      const shape = bigQueryTableShapeOf(Tables[name]);
      tables.push(
        createDataset
          ? {
            table: name,
            action: "create",
            add: [],
            relax: [],
            conflicts: [],
            partitioning: shape.timePartitioning?.field,
            clustering: shape.clustering?.fields,
          }
          : (await inspectTable(dataset.table(name), Tables[name], context)).plan,
      );
    }
  } catch (error) {
    inspected = false;
    inspectError = (error as Error).message;
    createDataset = true;
    tables = TableNames.map((name) => {
      const shape = bigQueryTableShapeOf(Tables[name]);
      return {
        table: name,
        action: "create" as const,
        add: [],
        relax: [],
        conflicts: [],
        partitioning: shape.timePartitioning?.field,
        clustering: shape.clustering?.fields,
      };
    });
  }
  const withRows = tables.map((plan) => ({
    ...plan,
    rows: byTable.get(plan.table)?.rows ?? 0,
    bytes: byTable.get(plan.table)?.bytes ?? 0,
  }));
  const loaded = withRows.filter((t) => t.rows > 0);
  return {
    location: `${config.project}.${config.dataset}`,
    inspected,
    ...(inspectError ? { inspectError } : {}),
    createDataset,
    tables: withRows,
    loadJobs: loaded.length,
    // Per staged table: count before, MERGE, count after; sessions add the aggregate refresh.
    // As load() runs them: an empty table costs one count; a loaded one counts, MERGEs and counts again.
    queryJobs: withRows.reduce(
      (sum, t) => sum + (!byTable.has(t.table) ? 0 : t.rows === 0 ? 1 : t.table === "sessions" ? 4 : 3),
      0,
    ),
  };
}
