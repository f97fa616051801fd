/**
 * The pipeline: Stages 0–4 composed over one streaming pass, staged as a load package and loaded by
 * a sink. Every side effect (file system, clock, progress, sink, Gemini) is passed in.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { createRunId } from "../ids.ts";
import type { CorrectionResult, PromptToCorrect } from "../stages/correct.ts";
import type { FileSystem } from "../io/file_system.ts";
import type { Clock, Progress } from "../ports.ts";
import { silentProgress, systemClock } from "../ports.ts";
import type { MessageRow, RawRecord, RejectRow, RunRow, TableName } from "../schema/mod.ts";
import type { LoadResult, Sink, StagedTable } from "../sinks/sink.ts";
import { clean, type CleanEvent, createCleanStats } from "../stages/clean.ts";
import { discover } from "../stages/discover.ts";
import { extract } from "../stages/extract.ts";
import { SessionAccumulator, toMessageRow } from "../stages/identify.ts";
import { Inventory, type Manifest } from "../stages/inventory.ts";
import { UsageAccumulator } from "../stages/usage.ts";
import { loadState, saveState, statePaths } from "../state/state_store.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { NdjsonWriter, readNdjson } from "./staging.ts";
import { LOCAL_MACHINE, type MachineColumns } from "../io/machine.ts";
import { reconcile, type Reconciliation } from "./reconcile.ts";
import { acquireLock } from "./lock.ts";

export type { CorrectionResult, PromptToCorrect };

/** Stage 4 as the pipeline sees it: results in input order, plus counts for the reconciliation. */
export interface Stage4Runner {
  readonly model: string;
  /** Whether an LLM is available; without one every prompt is `skipped_no_llm` and no pass runs. */
  readonly enabled: boolean;
  correct(prompts: AsyncIterable<PromptToCorrect>): AsyncIterable<CorrectionResult>;
  /** Counts for the reconciliation and the `runs` row, read after `correct` finished. */
  accounting(): Stage4Accounting;
}

/** What Stage 4 reports to the run. */
export interface Stage4Accounting {
  sent: number;
  cacheHits: number;
  skipped: number;
  dedupedInRun: number;
  pending: number;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** Set when the stage stopped early, e.g. `daily_quota`. */
  stopped: string | null;
  details: Record<string, unknown>;
}

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions {
  sources: string[];
  dataDir: string;
  fs: FileSystem;
  /** Opens the sink for a run; `null` stages the package and loads nothing (`--sink none`). */
  openSink: ((runId: string) => Promise<Sink>) | null;
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
  durationMs: number;
}

async function appendFile(from: string, to: string): Promise<void> {
  const source = await Deno.open(from, { read: true });
  const target = await Deno.open(to, { write: true, append: true, create: true });
  await source.readable.pipeTo(target.writable);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function tally(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/**
 * Runs the pipeline once over `sources` into `dataDir`.
 *
 * @param options Sources, data dir, ports, sink and Stage 4.
 * @returns The run's summary (also written to `runs/<run_id>/summary.json`).
 * @throws {InputError} For missing sources, unreadable files or an unwritable data dir.
 * @throws {SinkError} When the warehouse refuses the load (state is then not advanced).
 */
export async function runPipeline(options: PipelineOptions): Promise<RunSummary> {
  const runId = options.runId ?? createRunId(new Date((options.clock ?? systemClock).now()));
  try {
    return await runOnce({ ...options, runId });
  } catch (error) {
    // A failed or interrupted run leaves nothing to load later (state was not advanced, so the next
    // run reads the same bytes again): drop its staged rows, keep its manifest for the record.
    await removeStagedFiles(`${options.dataDir}/runs/${runId}`);
    throw error;
  }
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

async function runOnce(options: PipelineOptions & { runId: string }): Promise<RunSummary> {
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? silentProgress;
  const untilStage = options.untilStage ?? 4;
  const started = clock.now();
  const runId = options.runId;
  const runDir = `${options.dataDir}/runs/${runId}`;
  const files = await discover(options.sources, { fs: options.fs });
  if (files.length === 0) {
    throw new InputError(`No Claude Code transcripts (*.jsonl) found under ${options.sources.join(", ")}`);
  }
  await using _lock = await acquireLock(options.dataDir);
  await Deno.mkdir(runDir, { recursive: true });

  const state = await loadState(options.dataDir);
  const inventory = new Inventory(options.sources, files);
  const cleanStats = createCleanStats();
  const usage = new UsageAccumulator(runId);
  const sessions = new SessionAccumulator(runId);
  const kinds: Record<string, number> = {};
  const stage4 = untilStage >= 4 && options.stage4?.enabled ? options.stage4 : null;
  const promptStatus = stage4 ? "pending" : "skipped_no_llm";

  const machine = options.machine ?? LOCAL_MACHINE;
  const writers = {
    messages: await NdjsonWriter.create(`${runDir}/messages.ndjson`, machine),
    usage: await NdjsonWriter.create(`${runDir}/usage.ndjson`, machine),
    sessions: await NdjsonWriter.create(`${runDir}/sessions.ndjson`, machine),
    rejects: await NdjsonWriter.create(`${runDir}/rejects.ndjson`, machine),
  };
  const prompts = stage4 ? await NdjsonWriter.create(`${runDir}/prompts.ndjson`) : null;
  // Without Stage 4 the run's prompts wait in the pending list, so a later run with a key corrects them.
  const waiting = !stage4 && untilStage >= 3 && !options.dryRun
    ? await NdjsonWriter.create(`${runDir}/prompts_waiting.ndjson`)
    : null;
  let lines = 0, blank = 0, bytesRead = 0, records = 0, rejects = 0, glued = 0, promptCount = 0, carried = 0;
  // Prompts an earlier run left pending (per-day quota, transient failures) go through Stage 4 again.
  const pendingStore = `${statePaths(options.dataDir).dir}/pending_prompts.ndjson`;
  if (stage4 && prompts && await exists(pendingStore)) {
    for await (const row of readNdjson<MessageRow>(pendingStore)) {
      carried++;
      const again = { ...row, run_id: runId, correction_status: "pending" };
      await writers.messages.write(again);
      await prompts.write({ uuid: row.uuid, text: row.text ?? "" });
    }
  }
  // A line that yields two events (a stub and the record glued after it) is one line: count it once.
  let lastEvent: { file: string; line: number } | null = null;
  const sameLineAsLast = (file: string, line: number) => lastEvent?.file === file && lastEvent.line === line;
  const newWatermarks = new Map(state.watermarks);

  // Stage 1 feeds Stage 2 through a small pump: records go on, rejects and file ends are handled here.
  async function* rawRecords(): AsyncGenerator<RawRecord> {
    for await (
      const event of extract(files, {
        fs: options.fs,
        watermarks: state.watermarks,
        progress,
        signal: options.signal,
      })
    ) {
      inventory.observe(event);
      if (event.kind === "record") {
        records++;
        if (sameLineAsLast(event.record.file, event.record.line)) glued++;
        lastEvent = { file: event.record.file, line: event.record.line };
        yield event.record;
      } else if (event.kind === "reject") {
        rejects++;
        if (sameLineAsLast(event.reject.source_file, event.reject.line_number)) glued++;
        lastEvent = { file: event.reject.source_file, line: event.reject.line_number };
        await writers.rejects.write({ ...event.reject, run_id: runId } satisfies RejectRow);
      } else {
        lines += event.linesRead;
        blank += event.blankLines;
        bytesRead += event.bytesRead;
        newWatermarks.set(event.watermark.path, event.watermark);
      }
    }
  }

  const writeMessage = async (row: MessageRow) => {
    await writers.messages.write(row);
    sessions.observeMessage(row);
    tally(kinds, row.kind);
    if (row.kind === "human_prompt") {
      promptCount++;
      await prompts?.write({ uuid: row.uuid, text: row.text ?? "" });
      await waiting?.write(row);
    }
  };

  if (untilStage < 2) {
    // Stages 0–1 still read every byte: the manifest and the rejects come from that pass.
    for await (const _record of rawRecords()) { /* counted by the pump */ }
  } else {
    const cleaned: AsyncIterable<CleanEvent> = clean(rawRecords(), {
      seen: state.seen,
      usage,
      stats: cleanStats,
      timeZone: options.timeZone,
    });
    for await (const event of cleaned) {
      if (event.kind === "reject") {
        await writers.rejects.write({ ...event.reject, run_id: runId } satisfies RejectRow);
      } else if (event.kind === "session_meta") {
        sessions.observeMeta(event.meta);
      } else if (untilStage >= 3) {
        await writeMessage(
          toMessageRow(event.record, { runId, turns: state.turns, promptStatus, timeZone: options.timeZone }),
        );
      }
    }
  }
  if (untilStage >= 2) { for (const row of usage.rows()) await writers.usage.write(row); }
  if (untilStage >= 3) { for (const row of sessions.rows()) await writers.sessions.write(row); }

  const manifest = inventory.manifest(new Date(clock.now()));
  const manifestPath = `${runDir}/manifest.json`;
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2));

  let messagesStaged = await writers.messages.close("messages");
  const staged: StagedTable[] = [];
  let stage4Accounting: Stage4Accounting | null = null;
  let pendingAfter: StagedTable | null = null;

  if (stage4 && prompts) {
    const promptsStaged = await prompts.close("messages");
    if (promptsStaged.rows > 0) {
      const results = stage4.correct(readNdjson<PromptToCorrect>(promptsStaged.path))[Symbol.asyncIterator]();
      const corrected = await NdjsonWriter.create(`${runDir}/messages.corrected.ndjson`);
      const stillPending = await NdjsonWriter.create(`${runDir}/pending_prompts.ndjson`);
      // Merge-join by order: Stage 4 yields one result per prompt, in prompt order.
      for await (const row of readNdjson<MessageRow>(messagesStaged.path)) {
        if (row.kind === "human_prompt") {
          const next = await results.next();
          if (next.done || next.value.uuid !== row.uuid) {
            throw new Error(`Stage 4 returned results out of order at prompt ${row.uuid}`);
          }
          row.corrected_text = next.value.corrected_text;
          row.correction_status = next.value.correction_status;
          row.correction_model = next.value.correction_model;
          if (row.correction_status === "pending" || row.correction_status.startsWith("failed_")) {
            await stillPending.write(row);
          }
        }
        await corrected.write(row);
      }
      // Let Stage 4 finish (its accounting is completed when its generator ends).
      const end = await results.next();
      if (!end.done) throw new Error("Stage 4 returned more results than prompts");
      pendingAfter = await stillPending.close("messages");
      const staged2 = await corrected.close("messages");
      await Deno.rename(staged2.path, messagesStaged.path);
      messagesStaged = { ...staged2, path: messagesStaged.path };
    }
    stage4Accounting = stage4.accounting();
    await Deno.remove(promptsStaged.path).catch(() => {});
  }
  staged.push(messagesStaged);
  staged.push(await writers.usage.close("usage"));
  staged.push(await writers.sessions.close("sessions"));
  staged.push(await writers.rejects.close("rejects"));

  const reconciliation = reconcile({
    lines: { read: lines, records, rejects, blank, glued },
    records: {
      ran: untilStage >= 2,
      parsed: records,
      unique: cleanStats.unique,
      duplicates: cleanStats.duplicates,
      withoutUuid: Object.values(cleanStats.withoutUuid).reduce((a, b) => a + b, 0),
      invalid: cleanStats.invalid,
    },
    prompts: {
      total: promptCount + carried,
      carriedOver: carried,
      sent: stage4Accounting?.sent ?? 0,
      cacheHits: stage4Accounting?.cacheHits ?? 0,
      skipped: stage4Accounting ? stage4Accounting.skipped : promptCount,
      dedupedInRun: stage4Accounting?.dedupedInRun ?? 0,
      pending: stage4Accounting?.pending ?? 0,
    },
  });

  const stoppedByQuota = stage4Accounting?.stopped === "daily_quota";
  // A rerun over unchanged input reads nothing and sends nothing: it loads nothing either, so running
  // ccpipe again (from cron, say) adds no row to any table, `runs` included.
  const nothingNew = lines === 0 && records === 0 && rejects === 0 && carried === 0 &&
    (stage4Accounting?.calls ?? 0) === 0;
  const status: RunSummary["status"] = options.dryRun
    ? "dry_run"
    : untilStage < 3
    ? "discovered"
    : nothingNew
    ? "nothing_new"
    : options.openSink === null
    ? "staged"
    : stoppedByQuota
    ? "stopped_daily_quota"
    : "completed";

  const runRow = (finishedAt: number): RunRow => ({
    run_id: runId,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(finishedAt).toISOString(),
    status,
    sources: options.sources,
    files: files.length,
    bytes_read: bytesRead,
    lines_read: lines,
    records_parsed: records,
    rejects: rejects + cleanStats.invalid,
    blank_lines: blank,
    unique_records: cleanStats.unique,
    duplicate_records: cleanStats.duplicates,
    usage_rows: usage.size,
    prompts: promptCount,
    llm_calls: stage4Accounting?.calls ?? 0,
    llm_cache_hits: stage4Accounting?.cacheHits ?? 0,
    llm_tokens_in: stage4Accounting?.tokensIn ?? 0,
    llm_tokens_out: stage4Accounting?.tokensOut ?? 0,
    llm_cost_usd: stage4Accounting?.costUsd ?? 0,
    duration_ms: finishedAt - started,
    stats: {
      reconciliation,
      kinds,
      recordTypes: manifest.totals.recordTypes,
      stage4: stage4Accounting?.details ?? null,
    },
  });

  const stageRunsRow = async (): Promise<StagedTable> => {
    const writer = await NdjsonWriter.create(`${runDir}/runs.ndjson`, machine);
    await writer.write(runRow(clock.now()));
    const runs = await writer.close("runs");
    staged.push(runs);
    return runs;
  };

  const loads: LoadResult[] = [];
  let tableCounts: Record<TableName, number> | null = null;
  let sinkInfo: RunSummary["sink"] = null;
  // The verdict informs; it does not gate: an incremental run with only rejects still records them.
  const shouldLoad = !options.dryRun && untilStage >= 3 && options.openSink !== null && !nothingNew;
  if (shouldLoad && options.openSink) {
    await using sink = await options.openSink(runId);
    sinkInfo = { name: sink.name, location: sink.location };
    await sink.prepare();
    for (const table of staged) loads.push(await sink.load(table));
    // The runs row goes last: its presence marks the run complete.
    loads.push(await sink.load(await stageRunsRow()));
    tableCounts = await sink.counts();
  }
  const commit = !options.dryRun && (shouldLoad || (options.openSink === null && untilStage >= 3));
  if (commit) {
    state.watermarks = newWatermarks;
    await saveState(options.dataDir, state);
    if (stage4 && pendingAfter) {
      if (pendingAfter.rows > 0) await Deno.rename(pendingAfter.path, pendingStore);
      else await Deno.remove(pendingStore).catch(() => {});
    }
  }
  if (waiting) {
    const waited = await waiting.close("messages");
    if (commit && waited.rows > 0) await appendFile(waited.path, pendingStore);
    await Deno.remove(waited.path).catch(() => {});
  }
  if (options.openSink === null && untilStage >= 3 && !options.dryRun) await stageRunsRow();

  // Staged files are the output only with `--sink none`; otherwise they were loaded or are not wanted.
  if (options.openSink !== null || options.dryRun) {
    for (const table of staged) await Deno.remove(table.path).catch(() => {});
  }

  const summary: RunSummary = {
    runId,
    status,
    dataDir: options.dataDir,
    runDir,
    sink: sinkInfo,
    manifest: { path: manifestPath, verdict: manifest.verdict, reasons: manifest.reasons },
    files: files.length,
    bytesRead,
    reconciliation,
    kinds,
    usageResponses: usage.size,
    sessionsTouched: sessions.size,
    staged,
    loads,
    tableCounts,
    stage4: stage4Accounting,
    durationMs: clock.now() - started,
  };
  await writeFileAtomic(`${runDir}/summary.json`, JSON.stringify(summary, null, 2));
  return summary;
}
