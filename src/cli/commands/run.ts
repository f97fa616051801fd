/**
 * `ccpipe run`: the whole pipeline over the user's transcripts into the chosen sink.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { runPipeline, type RunSummary } from "../../pipeline/run_pipeline.ts";
import { silentProgress } from "../../ports.ts";
import type { Sink } from "../../sinks/sink.ts";
import { duckDbFileLooksCurrent } from "../../sinks/duckdb_file.ts";
import type { LastLoad } from "../../state/state_store.ts";
import { type FlagSpecs, inGroup, intFlag, type ParsedFlags } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { type CommandContext, defaultPrepareThreads } from "../context.ts";
import { terminalProgress, withLoadProgress } from "../progress.ts";
import { renderBigQueryPlan, renderRunSummary } from "../render.ts";
import { readConfigFile } from "../config_file.ts";
import { llmFlags, stage4From } from "../llm_args.ts";
import { bigQueryConfigFrom, bigQueryFlags, machineFlags, machineFrom } from "../bigquery_args.ts";
import type { ConfigFile } from "../config_file.ts";
import type { BigQueryConfig } from "../../sinks/bigquery_config.ts";
import { jsonLine } from "../json_output.ts";
import { count } from "../../format.ts";
import { type LastRun, readLastRun, recordRun } from "../last_run.ts";
import { dataDirLayout } from "../../state/data_dir.ts";
import { LOCAL_MACHINE, type MachineColumns } from "../../io/machine.ts";
import {
  dataDirFlags,
  ensureWritableDir,
  resolveDataDir,
  resolveSources,
  sourceFlags,
} from "../shared_args.ts";

/** The sinks `--sink` accepts. */
export const SinkNames = ["duckdb", "bigquery", "none"] as const;

/** Flags of `ccpipe run`. */
export const runFlags: FlagSpecs = {
  ...sourceFlags,
  ...dataDirFlags,
  sink: {
    type: "string",
    value: "NAME",
    group: "output",
    choices: SinkNames,
    help: `Where the tables go: ${SinkNames.join(", ")} (default duckdb; env CCPIPE_SINK)`,
  },
  timezone: {
    type: "string",
    value: "ZONE",
    group: "output",
    help:
      "IANA time zone of event_date, the day rows are grouped and partitioned by (default UTC; env CCPIPE_TIMEZONE); keep it the same from run to run",
  },
  "until-stage": {
    type: "string",
    value: "N",
    group: "general",
    help: "Stop after stage N (0 discover … 4 correct; tables load when N ≥ 3)",
  },
  "dry-run": {
    type: "boolean",
    group: "general",
    help: "Report what would be loaded and sent, without loading or calling anything",
  },
  threads: {
    type: "string",
    value: "N",
    group: "general",
    help:
      "Worker threads reading transcripts (default one per core but one, up to 3; 0: main thread only; env CCPIPE_THREADS)",
  },
  ...inGroup("stage4", llmFlags),
  ...inGroup("bigquery", bigQueryFlags),
  ...inGroup("general", machineFlags),
};

/** The sink chosen by `--sink`, ready to open per run. */
export interface SinkChoice {
  name: typeof SinkNames[number];
  open: ((runId: string) => Promise<Sink>) | null;
  /** A look at the warehouse without opening it (see `PipelineOptions.warehouseLooksCurrent`). */
  looksCurrent?: (last: LastLoad) => Promise<boolean>;
  bigquery: BigQueryConfig | null;
}

/**
 * Resolves `--sink` (default duckdb) and its settings.
 *
 * @throws {ConfigError} For missing or invalid BigQuery settings.
 */
export function sinkChoice(
  flags: ParsedFlags,
  dataDir: string,
  file: ConfigFile,
  ctx: CommandContext,
  machine: MachineColumns = LOCAL_MACHINE,
): SinkChoice {
  // `--sink` was checked against SinkNames when the flags were parsed; CCPIPE_SINK lets scheduled runs
  // (which get no extra flags) load BigQuery.
  const fromEnv = ctx.env("CCPIPE_SINK");
  if (fromEnv !== undefined && !(SinkNames as readonly string[]).includes(fromEnv)) {
    throw new UsageError(`CCPIPE_SINK must be one of ${SinkNames.join(", ")}: got '${fromEnv}'`);
  }
  const name = (flags.sink as SinkChoice["name"] | undefined) ??
    (fromEnv as SinkChoice["name"] | undefined) ??
    "duckdb";
  if (name === "none") return { name, open: null, bigquery: null };
  if (name === "bigquery") {
    const config = bigQueryConfigFrom(flags, file, ctx);
    // The sinks are loaded on use: each pulls in a large SDK or a native library.
    const open = async (runId: string) => {
      const { createBigQuerySink } = await import("../../sinks/bigquery.ts");
      return createBigQuerySink({
        config,
        runId,
        machineId: machine.machine_id,
        stateDir: dataDirLayout(dataDir).state,
        clock: ctx.clock,
        signal: ctx.signal,
        log: flags.json ? undefined : (line) => ctx.output.err(line),
      });
    };
    return { name, open, bigquery: config };
  }
  const database = dataDirLayout(dataDir).database;
  const open = async () => (await import("../../sinks/duckdb.ts")).openDuckDbSink(database);
  const looksCurrent = (last: LastLoad) => duckDbFileLooksCurrent(database, last);
  return { name: "duckdb", open, looksCurrent, bigquery: null };
}

/**
 * Reads `--timezone` (or `CCPIPE_TIMEZONE`), default UTC.
 *
 * @throws {UsageError} When it is not an IANA time zone.
 */
export function timeZoneFrom(flags: ParsedFlags, ctx: CommandContext): string {
  const zone = (flags.timezone as string | undefined) ?? ctx.env("CCPIPE_TIMEZONE") ?? "UTC";
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(`--timezone must be an IANA time zone such as Europe/Paris: got '${zone}'`);
  }
}

/**
 * Prints a summary as text or JSON.
 *
 * @param summary The run's summary.
 * @param flags `json` picks the format.
 * @param ctx Where to print.
 * @param previous The run before this one, for "nothing new since …".
 */
export function printSummary(
  summary: RunSummary,
  flags: ParsedFlags,
  ctx: CommandContext,
  previous: LastRun | null = null,
): void {
  if (flags.json) ctx.output.out(jsonLine(summary));
  else {for (const line of renderRunSummary(summary, { previousRunAt: previous?.finished_at })) {
      ctx.output.out(line);
    }}
}

/**
 * Exit code of a finished run: 75 when Stage 4 stopped on a per-day quota, 1 when it made calls and every
 * one of its answers failed (a wrong endpoint, a refused key: the tables loaded, but nothing was
 * corrected and an unattended run must not look fine), else 0.
 */
export function exitCodeOf(summary: RunSummary): number {
  if (summary.status === "stopped_daily_quota") return 75;
  return stage4Failures(summary) === null ? 0 : 1;
}

/** The failed outcomes of a run whose Stage 4 calls all failed, e.g. `12 failed_http_5xx`; else null. */
export function stage4Failures(summary: RunSummary): string | null {
  const stage4 = summary.stage4;
  const statuses = (stage4?.details.statuses ?? {}) as Record<string, number>;
  const failed = Object.entries(statuses).filter(([status, count]) =>
    status.startsWith("failed_") && count > 0
  );
  const answered = Object.entries(statuses).some(([status, count]) =>
    count > 0 && (status === "corrected" || status === "unchanged" || status.startsWith("rejected_"))
  );
  if (!stage4 || stage4.calls === 0 || failed.length === 0 || answered) return null;
  return failed.map(([status, count]) => `${count} ${status}`).join(", ");
}

/** `ccpipe run`. */
export const runCommand: Command = defineCommand({
  name: "run",
  description:
    `Runs Claude Code transcripts through discover, extract, clean, identify and correct, and loads the
messages, usage, sessions, rejects and runs tables. Only bytes appended since the last run are read.

Without a Gemini key, Stage 4 is skipped and prompts wait for a run with one.`,
  flags: runFlags,
  async run({ flags }, ctx) {
    const untilStage = intFlag(flags, "until-stage", { min: 0, max: 4 }) ?? 4;
    const threads = intFlag(flags, "threads", { min: 0, max: 16 }) ?? ctx.prepareThreads ??
      defaultPrepareThreads(ctx.env);
    const timeZone = timeZoneFrom(flags, ctx);
    const sources = resolveSources(flags, ctx);
    const dataDir = resolveDataDir(flags, ctx);
    await ensureWritableDir(dataDir);
    const file = await readConfigFile(flags.config as string | undefined, dataDir);
    const machine = machineFrom(flags, ctx);
    const sink = sinkChoice(flags, dataDir, file, ctx, machine);
    const progress = flags.json ? silentProgress : terminalProgress(ctx.output);
    const { runner, access } = await stage4From(flags, file, dataDir, ctx, { progress });
    const previous = await readLastRun(dataDir);
    if (previous?.time_zone && previous.time_zone !== timeZone && untilStage >= 3 && !flags["dry-run"]) {
      ctx.output.err(
        `ccpipe: warning: --timezone ${timeZone} differs from ${previous.time_zone}, the zone earlier rows were loaded with; their event_date stays as it was (pass --timezone ${previous.time_zone} to keep one zone)`,
      );
    }
    const open = sink.open;
    const summary = await runPipeline({
      sources,
      dataDir,
      fs: ctx.fs,
      prepareThreads: threads,
      openSink: open &&
        (async (runId: string): Promise<Sink> => withLoadProgress(await open(runId), progress)),
      warehouseLooksCurrent: sink.looksCurrent,
      untilStage,
      clock: ctx.clock,
      progress,
      signal: ctx.signal,
      dryRun: flags["dry-run"] === true,
      stage4: runner,
      timeZone,
      machine,
    });
    await recordRun(dataDir, summary, { timeZone, previous, now: ctx.clock.now() });
    if (flags["dry-run"] && sink.bigquery) {
      const { planBigQueryLoad } = await import("../../sinks/bigquery.ts");
      const plan = await planBigQueryLoad({
        config: sink.bigquery,
        staged: summary.staged,
        clock: ctx.clock,
      });
      if (flags.json) {
        ctx.output.out(jsonLine({ ...summary, bigqueryPlan: plan }));
      } else {
        printSummary(summary, flags, ctx, previous);
        for (const line of renderBigQueryPlan(plan)) ctx.output.out(line);
      }
    } else {
      printSummary(summary, flags, ctx, previous);
    }
    for (const notice of summary.notices) ctx.output.err(`ccpipe: ${notice}`);
    const failures = stage4Failures(summary);
    if (failures) {
      ctx.output.err(
        `ccpipe: every Gemini call failed (${failures}); the tables loaded and those prompts stay pending for the next run: check the key and endpoint with 'ccpipe doctor'`,
      );
    }
    const prompts = summary.reconciliation.prompts.total;
    if (
      !flags.json && untilStage >= 4 && access.kind === "none" && !flags["no-llm"] && !flags["dry-run"] &&
      prompts > 0
    ) {
      ctx.output.err(
        `ccpipe: Stage 4 skipped (no Gemini key): set GEMINI_API_KEY to correct the typos in ${
          count(prompts, "prompt")
        }; 'ccpipe run --dry-run' shows what it would cost`,
      );
    }
    return exitCodeOf(summary);
  },
});
