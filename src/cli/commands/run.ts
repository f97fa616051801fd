/**
 * `ccpipe run`: the whole pipeline over the user's transcripts into the chosen sink.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { runPipeline, type RunSummary } from "../../pipeline/run_pipeline.ts";
import type { Sink } from "../../sinks/sink.ts";
import { type FlagSpecs, formatHelp, intFlag, type ParsedFlags, parseFlags } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { terminalProgress } from "../progress.ts";
import { renderBigQueryPlan, renderRunSummary } from "../render.ts";
import { readConfigFile } from "../config_file.ts";
import { llmFlags, stage4From } from "../llm_args.ts";
import { bigQueryConfigFrom, bigQueryFlags } from "../bigquery_args.ts";
import type { ConfigFile } from "../config_file.ts";
import type { BigQueryConfig } from "../../sinks/bigquery_config.ts";
import { statePaths } from "../../state/state_store.ts";
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
    help: `Where the tables go: ${SinkNames.join(" | ")} (default duckdb)`,
  },
  "until-stage": {
    type: "string",
    value: "N",
    help: "Stop after stage N (0 discover … 4 correct; tables load when N ≥ 3)",
  },
  "dry-run": {
    type: "boolean",
    help: "Report what would be loaded and sent, without loading or calling anything",
  },
  timezone: {
    type: "string",
    value: "ZONE",
    help:
      "IANA time zone of event_date, the day rows are grouped and partitioned by (default UTC; env CCPIPE_TIMEZONE)",
  },
  ...bigQueryFlags,
  ...llmFlags,
};

const HELP = formatHelp(
  "ccpipe run [--source DIR]... [--data-dir DIR] [--sink duckdb|bigquery|none] [--until-stage N] [--dry-run] [--json]",
  "Runs Claude Code transcripts through discover, extract, clean, identify and correct, and loads the\n" +
    "messages, usage, sessions, rejects and runs tables. Only bytes appended since the last run are read.",
  runFlags,
);

/** The sink chosen by `--sink`, ready to open per run. */
export interface SinkChoice {
  name: typeof SinkNames[number];
  open: ((runId: string) => Promise<Sink>) | null;
  bigquery: BigQueryConfig | null;
}

/**
 * Resolves `--sink` (default duckdb) and its settings.
 *
 * @throws {UsageError} For an unknown sink name.
 * @throws {ConfigError} For missing or invalid BigQuery settings.
 */
export function sinkChoice(
  flags: ParsedFlags,
  dataDir: string,
  file: ConfigFile,
  ctx: CommandContext,
): SinkChoice {
  const name = (flags.sink as string | undefined) ?? "duckdb";
  if (!(SinkNames as readonly string[]).includes(name)) {
    throw new UsageError(`--sink must be one of ${SinkNames.join(", ")}: got '${name}'`);
  }
  if (name === "none") return { name, open: null, bigquery: null };
  if (name === "bigquery") {
    const config = bigQueryConfigFrom(flags, file, ctx);
    // The sinks are loaded on use: each pulls in a large SDK or a native library.
    const open = async (runId: string) => {
      const { createBigQuerySink } = await import("../../sinks/bigquery.ts");
      return createBigQuerySink({
        config,
        runId,
        stateDir: statePaths(dataDir).dir,
        clock: ctx.clock,
        signal: ctx.signal,
        log: flags.json ? undefined : (line) => ctx.output.err(line),
      });
    };
    return { name, open, bigquery: config };
  }
  const open = async () => (await import("../../sinks/duckdb.ts")).openDuckDbSink(`${dataDir}/ccpipe.duckdb`);
  return { name: "duckdb", open, bigquery: null };
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

/** Prints a summary as text or JSON. */
export function printSummary(summary: RunSummary, flags: ParsedFlags, ctx: CommandContext): void {
  if (flags.json) ctx.output.out(JSON.stringify(summary));
  else for (const line of renderRunSummary(summary)) ctx.output.out(line);
}

/** Exit code of a finished run: 0, or 75 when Stage 4 stopped on a per-day quota. */
export function exitCodeOf(summary: RunSummary): number {
  return summary.status === "stopped_daily_quota" ? 75 : 0;
}

/**
 * Runs `ccpipe run`.
 *
 * @returns The process exit code.
 */
export async function runCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { flags } = parseFlags(args, runFlags, { command: "run" });
  if (flags.help) {
    ctx.output.out(HELP);
    return 0;
  }
  const untilStage = intFlag(flags, "until-stage", { min: 0, max: 4 }) ?? 4;
  const timeZone = timeZoneFrom(flags, ctx);
  const sources = resolveSources(flags, ctx);
  const dataDir = resolveDataDir(flags, ctx);
  await ensureWritableDir(dataDir);
  const file = await readConfigFile(flags.config as string | undefined, dataDir);
  const sink = sinkChoice(flags, dataDir, file, ctx);
  const { runner, access } = await stage4From(flags, file, dataDir, ctx);
  const summary = await runPipeline({
    sources,
    dataDir,
    fs: ctx.fs,
    openSink: sink.open,
    untilStage,
    clock: ctx.clock,
    progress: terminalProgress(ctx.output),
    signal: ctx.signal,
    dryRun: flags["dry-run"] === true,
    stage4: runner,
    timeZone,
  });
  if (flags["dry-run"] && sink.bigquery) {
    const { planBigQueryLoad } = await import("../../sinks/bigquery.ts");
    const plan = await planBigQueryLoad({ config: sink.bigquery, staged: summary.staged, clock: ctx.clock });
    if (flags.json) {
      ctx.output.out(JSON.stringify({ ...summary, bigqueryPlan: plan }));
    } else {
      printSummary(summary, flags, ctx);
      for (const line of renderBigQueryPlan(plan)) ctx.output.out(line);
    }
  } else {
    printSummary(summary, flags, ctx);
  }
  const prompts = summary.reconciliation.prompts.total;
  if (
    !flags.json && untilStage >= 4 && access.kind === "none" && !flags["no-llm"] && !flags["dry-run"] &&
    prompts > 0
  ) {
    ctx.output.err(
      `ccpipe: Stage 4 skipped (no Gemini key): set GEMINI_API_KEY to correct the typos in ${prompts} prompts; 'ccpipe run --dry-run' shows what it would cost`,
    );
  }
  return exitCodeOf(summary);
}
