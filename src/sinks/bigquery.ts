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
import {
  BigQuery,
  type Dataset,
  type Job,
  type JobMetadata,
  type Table,
  type TableMetadata,
} from "@google-cloud/bigquery";
import { SinkError } from "../errors.ts";
import { type Clock, systemClock } from "../ports.ts";
import { type MessageRow, type TableDef, type TableName, TableNames, Tables } from "../schema/tables.ts";
import type { PendingRef } from "../state/pending_queue.ts";
import type { LoadResult, Sink, StagedTable } from "./sink.ts";
import type { BigQueryConfig } from "./bigquery_config.ts";
import { JobBudget, type JobTarget } from "./bigquery_budget.ts";
import {
  type BigQueryField,
  bigQueryTableShapeOf,
  diffBigQuerySchema,
  patchedBigQuerySchema,
  type SchemaDiff,
} from "./bigquery_schema.ts";
import {
  describeBigQueryError,
  httpStatusOf,
  isConcurrentDmlError,
  JobFailedError,
  type RetryContext,
  withRetry,
} from "./bigquery_retry.ts";
import {
  mergeStatement,
  readMessagesStatement,
  runExistsStatement,
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
  /** The machine the run loads for; part of the staging tables' names, as run ids repeat across machines. */
  machineId?: string;
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
  /** A signal that aborts after `ms`, the deadline of each request. @default {AbortSignal.timeout} */
  deadline?: (ms: number) => AbortSignal;
  /** Counts the retries the sink made (transient failures and DML conflicts). */
  retries?: { count: number };
}

export { describeBigQueryError, httpStatusOf, isRetriableBigQueryError } from "./bigquery_retry.ts";

/**
 * Builds a BigQuery client for a configuration: credentials from Google's application-default chain
 * (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud ADC, the metadata server) unless `authClient` is given,
 * and the SDK's own retries off, because the sink retries with backoff on its injected clock.
 *
 * An endpoint on the loopback interface is an emulator: it gets no credentials at all (no Google
 * token is sent to a local server), through an auth client that signs nothing. Without it the SDK
 * skips authentication for custom endpoints and its upload path then crashes on the missing headers
 * (`Cannot set properties of undefined (setting 'Content-Type')`, uncaught).
 *
 * @param config The sink configuration (`project`, `location`, `endpoint`, `requestTimeoutMs`).
 * @param options `authClient`: a stand-in for tests or callers with their own credentials.
 * @returns The client.
 */
export function createBigQueryClient(
  config: BigQueryConfig,
  options: { authClient?: unknown } = {},
): BigQuery {
  const authClient = options.authClient ??
    (config.endpoint && isLoopback(config.endpoint) ? anonymousAuthClient() : undefined);
  return new BigQuery({
    projectId: config.project,
    location: config.location,
    ...(config.endpoint ? { apiEndpoint: config.endpoint } : {}),
    ...(authClient ? { authClient: authClient as never } : {}),
    retryOptions: { autoRetry: false, maxRetries: 0 },
    // @google-cloud/common applies `timeout` to every JSON request (not typed on BigQueryOptions).
    ...({ timeout: config.requestTimeoutMs } as object),
  });
}

/**
 * Tells whether an endpoint is on this machine (an emulator), which then gets no credentials.
 *
 * @param endpoint An API root such as `http://127.0.0.1:9050`.
 * @returns `true` for localhost, 127.0.0.0/8 and ::1.
 */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** An auth client for emulators: requests go out with no credentials. */
function anonymousAuthClient(): unknown {
  return {
    getRequestHeaders: () => Promise.resolve(new Headers()),
    getAccessToken: () => Promise.resolve({ token: undefined, res: null }),
    getProjectId: () => Promise.resolve(undefined),
    credentials: {},
  };
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
  /** Why rows of the existing table would vanish: a table expiration or a partition expiration. */
  expiration?: string;
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
  const expiration = expirationOf(metadata);
  const action = diff.add.length || diff.relax.length ? "alter" : "none";
  return {
    plan: {
      ...base,
      action,
      add: diff.add.map((f) => f.name),
      relax: diff.relax,
      conflicts: diff.conflicts,
      ...(expiration ? { expiration } : {}),
    },
    existing,
    diff,
  };
}

/** Says how a table's rows would expire (a table or partition expiration), or `undefined`. */
function expirationOf(metadata: TableMetadata): string | undefined {
  const parts = [
    metadata.expirationTime
      ? `the table expires at ${new Date(Number(metadata.expirationTime)).toISOString()}`
      : "",
    metadata.timePartitioning?.expirationMs
      ? `partitions expire after ${Number(metadata.timePartitioning.expirationMs) / 86_400_000} days`
      : "",
  ].filter(Boolean);
  return parts.length ? parts.join(" and ") : undefined;
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
  #machineId: string;
  #stateDir: string;
  #client: BigQuery;
  #context: RetryContext;
  #budget?: JobBudget;
  #prepared = false;
  #located = false;
  #jobLocation: string;

  constructor(options: BigQuerySinkOptions) {
    this.#config = options.config;
    this.#runId = options.runId;
    this.#machineId = options.machineId ?? "";
    this.#stateDir = options.stateDir;
    this.#client = options.client ?? createBigQueryClient(options.config);
    this.#context = {
      config: options.config,
      clock: options.clock ?? systemClock,
      signal: options.signal,
      log: options.log ?? (() => {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
      ...(options.retries ? { retries: options.retries } : {}),
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

  /** The dataset handle; its tables' load jobs run in the dataset's own location, not the client's default. */
  #dataset(): Dataset {
    return this.#client.dataset(this.#config.dataset, {
      projectId: this.#config.project,
      location: this.#jobLocation,
    });
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
    let exists = true;
    let defaults: { table?: string; partition?: string } = {};
    try {
      const [metadata] = await withRetry(
        `read dataset ${project}.${datasetId}`,
        context,
        () => this.#dataset().getMetadata(),
      );
      // Jobs must run where the dataset lives; a load job sent to another location fails with
      // "Not found: Dataset ... was not found in location US".
      if (metadata.location) this.#jobLocation = metadata.location;
      defaults = {
        table: metadata.defaultTableExpirationMs ?? undefined,
        partition: metadata.defaultPartitionExpirationMs ?? undefined,
      };
    } catch (error) {
      if (httpStatusOf((error as SinkError).cause) !== 404) throw error;
      exists = false;
    }
    const dataset = this.#dataset();
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
    const conflict = conflictError(project, datasetId, inspected) ??
      expirationError(project, datasetId, inspected);
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
        if (defaults.table || (defaults.partition && shape.timePartitioning)) {
          // A new table inherits the dataset's default expirations; rows would then vanish silently
          // and watermarks would never reload them. ccpipe's tables keep their rows.
          await withRetry(
            `clear the inherited expiration of ${this.#fullName(plan.table)}`,
            context,
            () =>
              table.setMetadata({
                expirationTime: null,
                ...(shape.timePartitioning
                  ? { timePartitioning: { ...shape.timePartitioning, expirationMs: null } }
                  : {}),
              } as never),
          );
          context.log(`bigquery: cleared the dataset's default expiration on ${this.#fullName(plan.table)}`);
        }
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

  /**
   * Runs one job to DONE: budget first, then insert under a job id chosen here and reused when the
   * insert is retried (a lost answer is resolved by looking the job up, so a job never runs twice),
   * then poll until DONE or the job deadline. A job that failed transiently — or, for DML, lost a
   * race with another machine's statement on the same table — is run again under a new id.
   */
  async #runJob(
    what: string,
    kind: "load" | "query",
    target: JobTarget,
    submit: (jobId: string) => Promise<Job>,
    prefix: string,
  ): Promise<{ job: Job; metadata: JobMetadata }> {
    const budget = await this.#openBudget();
    const context = this.#context;
    const dml = kind === "query" && typeof target === "string";
    const config = dml
      ? {
        ...context.config,
        retries: { ...context.config.retries, maxAttempts: context.config.retries.dmlMaxAttempts },
      }
      : context.config;
    return await withRetry(
      what,
      { ...context, config, deadline: () => new AbortController().signal },
      async () => {
        const jobId = `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
        // BigQuery's per-table quota counts load jobs on the table they write; DML has no daily quota
        // (only its concurrency limits), so queries count towards the project's budget alone.
        await budget.take(kind, kind === "load" ? target : { project: this.#config.project });
        const job = await this.#insert(what, jobId, submit);
        const metadata = await this.#poll(job, what);
        if (metadata.status?.errorResult) {
          const failure = new JobFailedError(job.id ?? jobId, metadata.status);
          if (isConcurrentDmlError(failure)) {
            context.log(
              `bigquery: ${what}: ${describeBigQueryError(failure)}`,
            );
          }
          throw failure;
        }
        return { job, metadata };
      },
    );
  }

  /** Inserts a job under a fixed id; after a failed or unanswered attempt, the job is looked up first. */
  async #insert(what: string, jobId: string, submit: (jobId: string) => Promise<Job>): Promise<Job> {
    const handle = this.#client.job(jobId, { location: this.#jobLocation });
    let attempted = false;
    return await withRetry(`start job ${jobId} (${what})`, this.#context, async () => {
      if (attempted) {
        try {
          const [metadata] = await handle.getMetadata();
          handle.metadata = metadata;
          return handle; // the earlier insert arrived: follow that job
        } catch (error) {
          if (httpStatusOf(error) !== 404) throw error;
        }
      }
      attempted = true;
      try {
        return await submit(jobId);
      } catch (error) {
        if (httpStatusOf(error) !== 409) throw error;
        const [metadata] = await handle.getMetadata(); // "Already Exists": it is ours
        handle.metadata = metadata;
        return handle;
      }
    });
  }

  async #poll(job: Job, what: string): Promise<JobMetadata> {
    const context = this.#context;
    const started = context.clock.now();
    let metadata = job.metadata as JobMetadata | undefined;
    while (metadata?.status?.state !== "DONE") {
      if (context.clock.now() - started > this.#config.jobTimeoutMs) {
        await job.cancel().catch(() => {});
        throw new SinkError(
          `Cannot ${what} as job ${job.id} did not finish within jobTimeoutMs (${this.#config.jobTimeoutMs} ms); ` +
            "it was cancelled",
          { transient: true },
        );
      }
      if (metadata) await context.clock.sleep(this.#config.jobPollIntervalMs, context.signal);
      [metadata] = await withRetry(`poll job ${job.id} (${what})`, context, () => job.getMetadata());
    }
    return metadata;
  }

  async #query(
    what: string,
    target: JobTarget,
    statement: Statement,
    prefix: string,
  ): Promise<{ job: Job; metadata: JobMetadata }> {
    return await this.#runJob(what, "query", target, async (jobId) => {
      const [job] = await this.#client.createQueryJob({
        query: statement.query,
        ...(statement.params ? { params: sdkParams(statement) } : {}),
        ...(statement.types ? { types: statement.types } : {}),
        location: this.#jobLocation,
        maximumBytesBilled: String(this.#config.maximumBytesBilled),
        jobTimeoutMs: this.#config.jobTimeoutMs,
        useLegacySql: false,
        jobId,
      });
      return job;
    }, prefix);
  }

  /**
   * Reads a table's row count from its metadata (`tables.get`): no query job, nothing billed, no
   * budget used. Exact here: ccpipe never streams, and load and DML jobs update `numRows` when done.
   */
  async #count(table: TableName): Promise<number> {
    const [metadata] = await withRetry(
      `read the row count of ${this.#fullName(table)}`,
      this.#context,
      () => this.#dataset().table(table).getMetadata(),
    );
    return Number(metadata.numRows ?? 0);
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
    const stagingName = stagingTableName(def.name, this.#runId, this.#machineId);
    // Check the whole table's jobs up front, so a budget never strands a load whose MERGE cannot run.
    const budget = await this.#openBudget();
    if (staged.rows > 0) {
      const queries = def.name === "sessions" ? 2 : 1; // the MERGE, and the sessions refresh
      budget.check("load", this.#fullName(stagingName));
      budget.check("query", { project: this.#config.project }, queries);
    }
    const rowsBefore = await this.#count(def.name);
    if (staged.rows === 0) {
      context.log(`bigquery: ${target}: nothing staged, no job started`);
      return { table: def.name, rowsStaged: 0, rowsBefore, rowsAfter: rowsBefore, bytes: 0 };
    }
    const stagingRef = this.#ref(stagingName);
    const dataset = this.#dataset();
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
      this.#fullName(stagingName),
      async (jobId) => {
        // A path makes the SDK stream the file (fs.createReadStream) into one multipart upload.
        const [job] = await staging.createLoadJob(staged.path, {
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          schema: shape.schema,
          writeDisposition: "WRITE_TRUNCATE",
          createDisposition: "CREATE_IF_NEEDED",
          ignoreUnknownValues: false,
          maxBadRecords: 0,
          jobId,
        });
        return job;
      },
      `ccpipe_load_${def.name}_`,
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
    const partitions = def.partitionBy ? await partitionValues(staged.path, def.partitionBy) : undefined;
    const { metadata: mergeMeta } = await this.#query(
      `merge ${this.#fullName(stagingName)} into ${target}`,
      target,
      mergeStatement(def, { target: this.#ref(def.name), staging: stagingRef }, partitions),
      `ccpipe_merge_${def.name}_`,
    );
    if (def.name === "sessions") {
      await this.#query(
        `refresh the session aggregates of ${target}`,
        target,
        sessionsRefreshStatement({
          sessions: this.#ref("sessions"),
          messages: this.#ref("messages"),
          staging: stagingRef,
        }),
        `ccpipe_refresh_${def.name}_`,
      );
    }
    const billed = mergeMeta.statistics?.query?.totalBytesBilled;
    context.log(
      `bigquery: merged ${this.#fullName(stagingName)} into ${target}` +
        (billed !== undefined ? ` (${billed} bytes billed)` : ""),
    );
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

  /**
   * Whether `runs` holds `runId` of this machine (any run of it when null). The table's metadata answers
   * for free when the table is missing or empty (a deleted dataset); otherwise one small query (10 MB
   * billed at most, under the bytes cap, counted against the query budget) looks for the run.
   */
  async holdsRun(runId: string | null): Promise<boolean> {
    let rows: number;
    try {
      rows = await this.#count("runs");
    } catch (error) {
      if (httpStatusOf((error as SinkError).cause) === 404) return false;
      throw error;
    }
    if (rows === 0) return false;
    const machineId = this.#machineId || null;
    if (machineId === null && runId === null) return true;
    const [result] = await this.#select(
      `look for run ${runId ?? "(any)"} in ${this.#fullName("runs")}`,
      runExistsStatement(this.#ref("runs"), { machineId, runId }),
      "ccpipe_check_runs_",
    );
    return Number(result?.n ?? 0) > 0;
  }

  /**
   * Reads back the `messages` rows of `refs` with one query per 5,000 prompts, pruned to their partitions
   * (see {@linkcode readMessagesStatement}), under the bytes cap and counted against the query budget.
   */
  async readMessages(refs: PendingRef[]): Promise<MessageRow[]> {
    if (refs.length === 0) return [];
    try {
      await this.#count("messages");
    } catch (error) {
      if (httpStatusOf((error as SinkError).cause) === 404) return [];
      throw error;
    }
    const def = Tables.messages;
    const out: MessageRow[] = [];
    for (let i = 0; i < refs.length; i += READ_BATCH) {
      const batch = refs.slice(i, i + READ_BATCH);
      const rows = await this.#select(
        `read back ${batch.length} waiting prompts from ${this.#fullName("messages")}`,
        readMessagesStatement(def, this.#ref("messages"), batch),
        "ccpipe_read_messages_",
      );
      for (const row of rows) out.push(stagedRow(def, row) as MessageRow);
    }
    return out;
  }

  /** Runs a (non-DML) query job and returns its rows as the SDK decodes them. */
  async #select(what: string, statement: Statement, prefix: string): Promise<Record<string, unknown>[]> {
    if (!this.#prepared && !this.#located) {
      // A query must run where the dataset lives (prepare() learns it too, but may not have run yet).
      const [metadata] = await withRetry(
        `read dataset ${this.location}`,
        this.#context,
        () => this.#dataset().getMetadata(),
      );
      if (metadata.location) this.#jobLocation = metadata.location;
      this.#located = true;
    }
    const { job } = await this.#query(what, { project: this.#config.project }, statement, prefix);
    const [rows] = await withRetry(
      `read the results of job ${job.id} (${what})`,
      this.#context,
      () => job.getQueryResults({ autoPaginate: true }),
    );
    return rows as Record<string, unknown>[];
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

/** Waiting prompts read back per query: a few hundred KB of parameters, well under the request limit. */
const READ_BATCH = 5000;

/**
 * A row as the SDK decodes it, shaped like a staged row: timestamps and dates as ISO strings (the SDK
 * wraps them), `json` columns parsed (the SDK gives their text).
 */
function stagedRow(def: TableDef, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of def.columns) {
    let value: unknown = row[column.name] ?? null;
    if (value !== null && typeof value === "object" && "value" in value) {
      value = (value as { value: unknown }).value;
    }
    if (value !== null && column.type === "timestamp") value = new Date(String(value)).toISOString();
    if (typeof value === "string" && column.type === "json") value = JSON.parse(value);
    out[column.name] = value;
  }
  return out;
}

/**
 * The SDK encodes a DATE parameter only from its own `BigQueryDate` objects (plain strings become
 * empty values, which match nothing), so DATE-typed values are wrapped.
 */
function sdkParams(statement: Statement): Record<string, unknown> {
  const params: Record<string, unknown> = { ...statement.params };
  for (const [name, type] of Object.entries(statement.types ?? {})) {
    const isDate = type === "DATE" || (Array.isArray(type) && type[0] === "DATE");
    const value = params[name];
    if (!isDate || value === undefined) continue;
    params[name] = Array.isArray(value)
      ? value.map((v) => BigQuery.date(String(v)))
      : BigQuery.date(String(value));
  }
  return params;
}

/**
 * Reads the distinct values of a DATE column from a staged NDJSON file, streaming (the MERGE then
 * touches only those partitions of the target). A row without the column counts as NULL.
 */
async function partitionValues(path: string, column: string): Promise<(string | null)[]> {
  const values = new Set<string | null>();
  const pattern = new RegExp(`"${column}":(?:"(\\d{4}-\\d{2}-\\d{2})"|null)`);
  const file = await Deno.open(path);
  let rest = "";
  const scan = (line: string) => {
    if (line.trim() === "") return;
    const match = pattern.exec(line);
    values.add(match?.[1] ?? null);
  };
  for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    lines.forEach(scan);
  }
  scan(rest);
  return [...values].sort((a, b) => (a ?? "").localeCompare(b ?? ""));
}

function expirationError(
  project: string,
  dataset: string,
  inspected: InspectedTable[],
): SinkError | undefined {
  const expiring = inspected.filter(({ plan }) => plan.expiration);
  if (expiring.length === 0) return undefined;
  const [first] = expiring;
  return new SinkError(
    `Cannot load into BigQuery as ${project}.${dataset}.${first.plan.table} would lose rows: ${first.plan.expiration}` +
      (expiring.length > 1 ? ` (and ${expiring.length - 1} more tables)` : "") +
      `; remove it with 'bq update --expiration 0 --time_partitioning_expiration 0 ${project}:${dataset}.${first.plan.table}'` +
      " (expired rows are never reloaded), so nothing was loaded",
  );
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
  /** Jobs the run would start: one load per non-empty table, and its queries (MERGE, sessions refresh). */
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
    // Per staged table with rows: the MERGE; sessions add the aggregate refresh (counts read metadata).
    queryJobs: withRows.reduce((sum, t) => sum + (t.rows === 0 ? 0 : t.table === "sessions" ? 2 : 1), 0),
  };
}
