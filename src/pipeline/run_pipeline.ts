/**
 * The pipeline, dlt-style: phases that each take the previous phase's output, so each can be tested
 * alone and every crash point is visible here:
 *
 * 1. discover (Stage 0) the files, take the lock, load the committed state;
 * 2. extract (Stage 1) → normalise (Stages 2–3) → stage: rows into a load package under `runs/<run_id>/`;
 * 3. correct (Stage 4) the package's prompts;
 * 4. load the package into the sink, `runs` row last;
 * 5. commit the state (watermarks, seen set, turns, pending prompts) atomically, only after the load.
 *
 * A kill anywhere before 5 leaves the old state, so the next run rereads the same bytes and the MERGE
 * absorbs whatever was loaded already. Every side effect (file system, clock, progress, sink, Gemini)
 * is passed in.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import { createRunId } from "../ids.ts";
import type { CorrectionResult, PromptToCorrect, Stage4Accounting, Stage4Runner } from "./stage4.ts";
import type { FileSystem } from "../io/file_system.ts";
import type { Clock, Progress } from "../ports.ts";
import { silentProgress, systemClock } from "../ports.ts";
import type { RunRow, TableName } from "../schema/mod.ts";
import type { LoadResult, Sink, StagedTable } from "../sinks/sink.ts";
import { discover } from "../stages/discover.ts";
import { Inventory, type Manifest } from "../stages/inventory.ts";
import {
  commitState,
  emptyState,
  type LastLoad,
  loadState,
  type PipelineState,
  type StateChange,
} from "../state/state_store.ts";
import { dataDirLayout, makeDataDirPrivate, makePrivateDir, pruneDataDir } from "../state/data_dir.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { NdjsonWriter } from "./staging.ts";
import {
  type PendingRef,
  queueHoldsText,
  resolvePendingQueue,
  writePendingQueue,
} from "../state/pending_queue.ts";
import { LOCAL_MACHINE, type MachineColumns } from "../io/machine.ts";
import { reconcile, type Reconciliation } from "./reconcile.ts";
import { acquireLock } from "./lock.ts";
import { createRunCounts, normalise, type PackageRow, type RunCounts } from "./normalise.ts";
import { type LoadPackage, PackageTables, stagePackage } from "./stage_package.ts";
import { correctPackage } from "./correct_package.ts";
import { preparedChunks } from "./prepare_pool.ts";
import { loadPackage } from "./load_package.ts";

export type { CorrectionResult, PromptToCorrect, Stage4Accounting, Stage4Runner };

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions {
  sources: string[];
  dataDir: string;
  fs: FileSystem;
  /** Opens the sink for a run; `null` stages the package and loads nothing (`--sink none`). */
  openSink: ((runId: string) => Promise<Sink>) | null;
  /**
   * Whether the warehouse still looks like the one `last` loaded into, without opening it (the DuckDB file
   * is there). With it, a run whose files all end at their watermarks opens no sink; without it, every run
   * opens the sink to check it is not behind the state.
   */
  warehouseLooksCurrent?: (last: LastLoad) => Promise<boolean>;
  /** Last stage to run (0–4). @default 4 */
  untilStage?: number;
  stage4?: Stage4Runner | null;
  clock?: Clock;
  progress?: Progress;
  signal?: AbortSignal;
  /** Run id to use (tests); generated from the clock otherwise. */
  runId?: string;
  /** Report what would be loaded and called without loading or committing state. */
  dryRun?: boolean;
  /** IANA time zone of `event_date` (the partition day). @default {"UTC"} */
  timeZone?: string;
  /** The machine (and user) every staged row is stamped with. @default {{ machine_id: "local", user_label: null }} */
  machine?: MachineColumns;
  /**
   * Worker threads that read and prepare files (Stages 1–3 per file); 0 prepares on this thread, through
   * `fs`. Workers read the local disk, so pass 0 with a file system of your own. @default {0}
   */
  prepareThreads?: number;
}

/** What a run did, printed by the CLI and stored as `runs/<run_id>/summary.json`. */
export interface RunSummary {
  runId: string;
  status: "completed" | "nothing_new" | "staged" | "discovered" | "dry_run" | "stopped_daily_quota";
  dataDir: string;
  runDir: string;
  sink: { name: string; location: string } | null;
  manifest: { path: string; verdict: Manifest["verdict"]; reasons: string[] };
  files: number;
  bytesRead: number;
  reconciliation: Reconciliation;
  kinds: Record<string, number>;
  usageResponses: number;
  sessionsTouched: number;
  staged: StagedTable[];
  loads: LoadResult[];
  tableCounts: Record<TableName, number> | null;
  stage4: Stage4Accounting | null;
  /** Values the row guard replaced so the warehouse could take the row, per `table.column`. */
  sanitised: Record<string, number>;
  /** Things the person should know (a warehouse rebuilt from the transcripts, say). */
  notices: string[];
  durationMs: number;
}

/**
 * Runs the pipeline once over `sources` into `dataDir`.
 *
 * @param options Sources, data dir, ports, sink and Stage 4.
 * @returns The run's summary (also written to `runs/<run_id>/summary.json`).
 * @throws {InputError} For missing sources, unreadable files, an unwritable data dir or corrupt state.
 * @throws {SinkError} When the warehouse refuses the load (state is then not advanced).
 */
export async function runPipeline(options: PipelineOptions): Promise<RunSummary> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const runId = options.runId ?? createRunId(new Date(started));
  const layout = dataDirLayout(options.dataDir);
  const runDir = layout.runDir(runId);
  const untilStage = options.untilStage ?? 4;
  const files = await discover(options.sources, { fs: options.fs });
  if (files.length === 0) {
    throw new InputError(`No Claude Code transcripts (*.jsonl) found under ${options.sources.join(", ")}`);
  }
  await using _lock = await acquireLock(options.dataDir);
  await makeDataDirPrivate(layout);
  await makePrivateDir(runDir);
  await pruneDataDir(layout, { now: started, keep: runId });
  let state = await loadState(layout.state);
  const loading = !options.dryRun && untilStage >= 3 && options.openSink !== null;
  const ctx: RunContext = { ...options, runId, runDir, untilStage, clock, started };
  try {
    // A rerun with nothing new (the common cron case) need not open the warehouse: a cheap look says
    // whether it is still there. Should a file turn out to hold new bytes after all (rewritten in place to
    // its old size), the run starts over with the warehouse open.
    if (loading && await looksQuiet(options, files, state)) {
      const summary = await runPhases(ctx, { files, state, sink: null, deferred: true, notices: [], layout });
      if (summary) return await finish(summary);
      await removeStagedFiles(runDir);
    }
    await using sink = loading && options.openSink ? await options.openSink(runId) : null;
    await makeDataDirPrivate(layout); // the sink may have created its database with the umask's mode
    const notices: string[] = [];
    if (sink && await warehouseIsBehind(sink, state)) {
      notices.push(
        `The warehouse ${sink.location} does not hold the rows the state says were loaded (deleted, or restored from an older copy): rereading every transcript to rebuild it`,
      );
      state = { ...emptyState(), generation: state.generation };
    }
    return await finish(
      await runPhases(ctx, { files, state, sink, deferred: false, notices, layout }) as RunSummary,
    );
  } catch (error) {
    // A failed or interrupted run leaves nothing to load later (state was not advanced, so the next
    // run reads the same bytes again): drop its staged rows, keep its manifest for the record.
    await removeStagedFiles(runDir);
    throw error;
  }

  async function finish(summary: RunSummary): Promise<RunSummary> {
    await makeDataDirPrivate(layout);
    return summary;
  }
}

/**
 * Whether a run can go without opening the warehouse: every file ends at its watermark (by size; extract
 * checks the bytes), no queued prompt needs the warehouse, and the warehouse looks like the one last loaded.
 */
async function looksQuiet(
  options: PipelineOptions,
  files: Awaited<ReturnType<typeof discover>>,
  state: PipelineState,
): Promise<boolean> {
  const last = state.lastLoad;
  if (!options.warehouseLooksCurrent || !last) return false;
  if (!files.every((file) => (state.watermarks.get(file.path)?.offset ?? 0) === file.size)) return false;
  if (state.pending !== null && (options.stage4?.enabled || await queueHoldsText(state.pending))) {
    return false;
  }
  return await options.warehouseLooksCurrent(last);
}

/** Whether `sink` lacks the last run the state recorded as loaded there (or any run, for older state). */
async function warehouseIsBehind(sink: Sink, state: PipelineState): Promise<boolean> {
  if (!sink.holdsRun) return false;
  const last = state.lastLoad;
  if (last) {
    if (last.sink !== sink.name || last.location !== sink.location) return !(await sink.holdsRun(null));
    return !(await sink.holdsRun(last.runId));
  }
  // State from before the commit record (or from `--sink none` runs) says only that files were read.
  return state.watermarks.size > 0 && !(await sink.holdsRun(null));
}

interface RunContext extends PipelineOptions {
  runId: string;
  runDir: string;
  untilStage: number;
  clock: Clock;
  started: number;
}

interface RunInputs {
  files: Awaited<ReturnType<typeof discover>>;
  state: PipelineState;
  sink: Sink | null;
  /** The warehouse was not opened as nothing looked new: stop (returning null) if something is. */
  deferred: boolean;
  notices: string[];
  layout: ReturnType<typeof dataDirLayout>;
}

async function runPhases(ctx: RunContext, inputs: RunInputs): Promise<RunSummary | null> {
  const { runId, runDir, untilStage, clock, started } = ctx;
  const { files, state, sink, notices, layout } = inputs;
  const stage4 = untilStage >= 4 && ctx.stage4?.enabled ? ctx.stage4 : null;
  const inventory = new Inventory(ctx.sources, files);
  const counts = createRunCounts(state.watermarks);

  // Extract → normalise → stage. Prompts an earlier run left pending go through Stage 4 again, first.
  const carried: Carried = { rows: 0, missing: 0, unresolved: null };
  const promptStatus = stage4 ? "pending" : "skipped_no_llm";
  const chunks = preparedChunks({
    files,
    watermarks: state.watermarks,
    fs: ctx.fs,
    options: {
      runId,
      untilStage,
      promptStatus,
      timeZone: ctx.timeZone,
      machine: ctx.machine ?? LOCAL_MACHINE,
      withText: stage4?.learn !== undefined,
    },
    inventory,
    progress: ctx.progress ?? silentProgress,
    signal: ctx.signal,
    threads: ctx.prepareThreads ?? 0,
  });
  const rows = normalise(chunks, {
    runId,
    untilStage,
    seen: state.seen,
    turns: state.turns,
    onMessage: stage4?.learn ? (row) => stage4.learn?.(row) : undefined,
  }, counts);
  const waitingPrompts = !stage4 && untilStage >= 3 && !ctx.dryRun;
  let pkg: LoadPackage = await stagePackage(
    stage4 ? concat(carriedPrompts(state.pending, { runId, runDir, sink, carried }), rows) : rows,
    {
      runDir,
      prompts: stage4 ? "stage4" : waitingPrompts ? "waiting" : "none",
      waitingRows: sink === null,
      machine: ctx.machine,
    },
  );
  if (inputs.deferred && (counts.lines > 0 || counts.records > 0 || counts.rejects > 0)) return null;
  faultPoint("stage");
  const manifest = inventory.manifest(new Date(clock.now()));
  const manifestPath = `${runDir}/manifest.json`;
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2));

  // Correct.
  let stage4Accounting: Stage4Accounting | null = null;
  let stillPending: StagedTable | null = null;
  if (stage4) {
    ({ pkg, pending: stillPending } = await correctPackage(pkg, stage4));
    stage4Accounting = stage4.accounting();
    faultPoint("correct");
  }

  if (carried.missing > 0) {
    notices.push(
      `${carried.missing} prompts waiting for correction are not in the warehouse ${sink?.location} (another warehouse, or rows deleted): they leave the queue uncorrected`,
    );
  }
  const reconciliation = reconcileRun(counts, carried.rows, untilStage, stage4Accounting);
  const stoppedByQuota = stage4Accounting?.stopped === "daily_quota";
  // A rerun over unchanged input reads nothing and sends nothing: it loads nothing either, so running
  // ccpipe again (from cron, say) adds no row to any table, `runs` included.
  const nothingNew = counts.lines === 0 && counts.records === 0 && counts.rejects === 0 &&
    carried.rows === 0 &&
    (stage4Accounting?.calls ?? 0) === 0;
  const status: RunSummary["status"] = ctx.dryRun
    ? "dry_run"
    : untilStage < 3
    ? "discovered"
    : nothingNew
    ? "nothing_new"
    : ctx.openSink === null
    ? "staged"
    : stoppedByQuota
    ? "stopped_daily_quota"
    : "completed";

  const staged: StagedTable[] = PackageTables.map((table) => pkg.tables[table]);
  const stageRunsRow = async (): Promise<StagedTable> => {
    await using writer = await NdjsonWriter.create(`${runDir}/runs.ndjson`, ctx.machine ?? LOCAL_MACHINE);
    await writer.write(
      runRow({ ctx, status, files: files.length, counts, manifest, reconciliation, stage4Accounting, pkg }),
    );
    const runs = await writer.close("runs");
    staged.push(runs);
    return runs;
  };

  // Load.
  let loads: LoadResult[] = [];
  let tableCounts: Record<TableName, number> | null = null;
  // The verdict informs; it does not gate: an incremental run with only rejects still records them.
  const shouldLoad = sink !== null && !nothingNew;
  if (sink && shouldLoad) {
    ({ loads, tableCounts } = await loadPackage(sink, [...staged], { stageRunsRow, signal: ctx.signal }));
    faultPoint("loaded");
  }

  // Commit, only after the load. A queue still holding prompt text (from an earlier version) is rewritten
  // as references by the first run with a warehouse, even one with nothing new to load.
  const migrate = sink !== null && !ctx.dryRun && untilStage >= 3 && await queueHoldsText(state.pending);
  const commit = !ctx.dryRun && untilStage >= 3 && (shouldLoad || ctx.openSink === null || migrate);
  const unresolved = carried.unresolved ? await carried.unresolved.close("messages") : null;
  if (commit) {
    ctx.signal?.throwIfAborted();
    await commitState(layout.state, state, {
      watermarks: counts.watermarks,
      seen: state.seen,
      turns: state.turns,
      pending: await nextPending(state, {
        corrected: stage4 !== null,
        stillPending,
        waiting: pkg.waiting,
        unresolved,
        runDir,
        refs: sink !== null,
        migrate,
      }),
      lastLoad: sink && shouldLoad ? { runId, sink: sink.name, location: sink.location } : state.lastLoad,
    });
    faultPoint("done");
  }
  for (const path of [pkg.waiting?.path, carried.unresolved?.path, `${runDir}/pending_next.ndjson`]) {
    if (path) await Deno.remove(path).catch(() => {});
  }
  if (ctx.openSink === null && untilStage >= 3 && !ctx.dryRun) await stageRunsRow();

  // Staged files are the output only with `--sink none`; otherwise they were loaded or are not wanted.
  if (ctx.openSink !== null || ctx.dryRun) {
    for (const table of staged) await Deno.remove(table.path).catch(() => {});
  }
  if (stillPending) await Deno.remove(stillPending.path).catch(() => {});

  const summary: RunSummary = {
    runId,
    status,
    dataDir: ctx.dataDir,
    runDir,
    sink: sink ? { name: sink.name, location: sink.location } : null,
    manifest: { path: manifestPath, verdict: manifest.verdict, reasons: manifest.reasons },
    files: files.length,
    bytesRead: counts.bytesRead,
    reconciliation,
    kinds: counts.kinds,
    usageResponses: counts.usageRows,
    sessionsTouched: counts.sessions,
    staged,
    loads,
    tableCounts,
    stage4: stage4Accounting,
    sanitised: pkg.sanitised,
    notices,
    durationMs: clock.now() - started,
  };
  if (!shouldLoad) summary.sink = null;
  await writeFileAtomic(`${runDir}/summary.json`, JSON.stringify(summary, null, 2));
  return summary;
}

/** What {@linkcode nextPending} builds the queue from. */
interface PendingSources {
  /** Whether Stage 4 ran: every earlier waiting prompt then went through it, and `stillPending` is what is left. */
  corrected: boolean;
  stillPending: StagedTable | null;
  /** This run's prompts, when no Stage 4 ran. */
  waiting: StagedTable | null;
  /** References no warehouse could resolve (`--sink none`): they stay queued. */
  unresolved: StagedTable | null;
  runDir: string;
  /** Queue references only (a warehouse holds the rows), not whole rows. */
  refs: boolean;
  /** The current queue holds prompt text to rewrite as references. */
  migrate: boolean;
}

/** The pending list after the run (see {@linkcode StateChange.pending} and `src/state/pending_queue.ts`). */
async function nextPending(state: PipelineState, from: PendingSources): Promise<StateChange["pending"]> {
  const sources = from.corrected
    ? [from.stillPending?.path ?? null, from.unresolved?.path ?? null]
    : [state.pending, from.waiting?.path ?? null];
  if (!from.corrected && (from.waiting?.rows ?? 0) === 0 && !from.migrate) return "keep";
  // A new file: the old one stays in force until the commit record names the new one.
  const next = `${from.runDir}/pending_next.ndjson`;
  const entries = await writePendingQueue(next, sources, { refs: from.refs });
  return entries > 0 ? next : null;
}

function reconcileRun(
  counts: RunCounts,
  carried: number,
  untilStage: number,
  stage4: Stage4Accounting | null,
): Reconciliation {
  return reconcile({
    lines: {
      read: counts.lines,
      records: counts.records,
      rejects: counts.rejects,
      blank: counts.blank,
      glued: counts.glued,
    },
    records: {
      ran: untilStage >= 2,
      parsed: counts.records,
      unique: counts.clean.unique,
      duplicates: counts.clean.duplicates,
      withoutUuid: Object.values(counts.clean.withoutUuid).reduce((a, b) => a + b, 0),
      invalid: counts.clean.invalid,
    },
    prompts: {
      total: counts.prompts + carried,
      carriedOver: carried,
      sent: stage4?.sent ?? 0,
      cacheHits: stage4?.cacheHits ?? 0,
      skipped: stage4 ? stage4.skipped : counts.prompts,
      dedupedInRun: stage4?.dedupedInRun ?? 0,
      pending: stage4?.pending ?? 0,
      cleanLocal: stage4?.cleanLocal ?? 0,
    },
  });
}

function runRow(input: {
  ctx: RunContext;
  status: string;
  files: number;
  counts: RunCounts;
  manifest: Manifest;
  reconciliation: Reconciliation;
  stage4Accounting: Stage4Accounting | null;
  pkg: LoadPackage;
}): RunRow {
  const { ctx, counts, stage4Accounting } = input;
  const finishedAt = ctx.clock.now();
  return {
    run_id: ctx.runId,
    started_at: new Date(ctx.started).toISOString(),
    finished_at: new Date(finishedAt).toISOString(),
    status: input.status,
    sources: ctx.sources,
    files: input.files,
    bytes_read: counts.bytesRead,
    lines_read: counts.lines,
    records_parsed: counts.records,
    rejects: counts.rejects + counts.clean.invalid,
    blank_lines: counts.blank,
    unique_records: counts.clean.unique,
    duplicate_records: counts.clean.duplicates,
    usage_rows: counts.usageRows,
    prompts: counts.prompts,
    llm_calls: stage4Accounting?.calls ?? 0,
    llm_cache_hits: stage4Accounting?.cacheHits ?? 0,
    llm_tokens_in: stage4Accounting?.tokensIn ?? 0,
    llm_tokens_out: stage4Accounting?.tokensOut ?? 0,
    llm_cost_usd: stage4Accounting?.costUsd ?? 0,
    duration_ms: finishedAt - ctx.started,
    stats: {
      reconciliation: input.reconciliation,
      kinds: counts.kinds,
      recordTypes: input.manifest.totals.recordTypes,
      sanitised: input.pkg.sanitised,
      stage4: stage4Accounting?.details ?? null,
    },
  };
}

/** What re-staging the pending list found. */
interface Carried {
  rows: number;
  /** References the warehouse does not hold. */
  missing: number;
  /** References kept for a later run, as there is no warehouse to read them from (`--sink none`). */
  unresolved: NdjsonWriter | null;
}

/** The rows of the pending list (read back from the warehouse when queued as references), re-staged for this run's Stage 4. */
async function* carriedPrompts(
  pending: string | null,
  context: { runId: string; runDir: string; sink: Sink | null; carried: Carried },
): AsyncGenerator<PackageRow> {
  const { sink, carried } = context;
  const rows = resolvePendingQueue(pending, {
    read: sink ? (refs) => sink.readMessages(refs) : null,
    async onUnresolved(ref: PendingRef) {
      if (sink) {
        carried.missing++;
        return;
      }
      carried.unresolved ??= await NdjsonWriter.create(`${context.runDir}/pending_unresolved.ndjson`);
      await carried.unresolved.write(ref);
    },
  });
  for await (const row of rows) {
    carried.rows++;
    yield { table: "messages", row: { ...row, run_id: context.runId, correction_status: "pending" } };
  }
}

async function* concat<T>(...sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const source of sources) yield* source;
}

async function removeStagedFiles(runDir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(runDir)) {
      if (entry.isFile && entry.name.endsWith(".ndjson")) {
        await Deno.remove(`${runDir}/${entry.name}`).catch(() => {});
      }
    }
  } catch {
    // The run dir was never created.
  }
}
