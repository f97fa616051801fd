/**
 * `ccpipe report daily|weekly|monthly|session|project|model|machine|user`: usage and Claude cost without
 * writing SQL, from the DuckDB file of a data dir or from BigQuery. Reads only; never writes.
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { dataDirLayout } from "../../state/data_dir.ts";
import {
  type BreakdownDimension,
  BreakdownDimensions,
  buildReport,
  type ReportKind,
  ReportKinds,
} from "../../report/build_report.ts";
import { openDuckDbWarehouse, readUsage, type Warehouse } from "../../report/warehouse.ts";
import type { UsageWindow } from "../../report/usage_query.ts";
import { type FlagSpecs, inGroup, type ParsedFlags, unknownChoice } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { bigQueryConfigFrom, bigQueryFlags } from "../bigquery_args.ts";
import { readConfigFile } from "../config_file.ts";
import type { CommandContext } from "../context.ts";
import { renderReportCsv, renderReportTable } from "../report_render.ts";
import { dataDirFlags, jsonFlag, resolveDataDir } from "../shared_args.ts";
import { timeZoneFrom } from "./run.ts";

const { project: _bigQueryProject, ...otherBigQueryFlags } = bigQueryFlags;

/** The report names `ccpipe report` takes: the tables, and the HTML page. */
export const ReportNames = [...ReportKinds, "html"] as const;

/** Flags of `ccpipe report`. */
export const reportFlags: FlagSpecs = {
  ...inGroup("input", {
    since: { type: "string", value: "DATE", help: "First day to include, YYYY-MM-DD (in --timezone)" },
    until: { type: "string", value: "DATE", help: "Last day to include, YYYY-MM-DD (in --timezone)" },
    project: {
      type: "string",
      value: "NAME",
      help: "Only this Claude Code project: its path (the cwd) or its last path segment",
    },
    machine: {
      type: "string",
      value: "ID",
      help: "Only the rows this machine loaded: its machine_id (see 'ccpipe report machine')",
    },
    user: { type: "string", value: "LABEL", help: "Only the rows loaded with this --user label" },
    timezone: {
      type: "string",
      value: "ZONE",
      help: "IANA time zone days, weeks and months are counted in (default UTC; env CCPIPE_TIMEZONE)",
    },
    ...dataDirFlags,
    config: { type: "string", value: "FILE", help: "Config file (default <data-dir>/config.json)" },
  }),
  ...inGroup("output", {
    breakdown: {
      type: "string",
      value: "BY",
      bare: "model",
      choices: BreakdownDimensions,
      help: "Split every row by BY: model (when BY is left out), machine or user",
    },
    ...jsonFlag("Print one JSON object"),
    csv: { type: "boolean", help: "Print CSV" },
    out: { type: "string", value: "FILE", help: "With html: the page to write (default ccpipe-report.html)" },
    "include-text": {
      type: "boolean",
      help: "With html: put the typed prompts' text in the page (private; left out by default)",
    },
  }),
  ...inGroup("bigquery", {
    sink: {
      type: "string",
      value: "NAME",
      choices: ["duckdb", "bigquery"],
      help: "Where the tables are: duckdb (default) or bigquery",
    },
    "bigquery-project": {
      type: "string",
      value: "ID",
      help: "BigQuery project, with --sink bigquery (env CCPIPE_BIGQUERY_PROJECT)",
    },
    ...otherBigQueryFlags,
  }),
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a `YYYY-MM-DD` flag.
 *
 * @throws {UsageError} When it is not a real calendar date.
 */
export function dateFlag(flags: ParsedFlags, name: string): string | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!DATE.test(text) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw new UsageError(`--${name} must be a date as YYYY-MM-DD: got '${text}'`);
  }
  return text;
}

/**
 * Bounds on `event_date` wide enough for any report zone and any load-time zone (each within a day of
 * UTC, so two days either side): the exact cut is made per row, from the timestamp, in the report's zone.
 */
export function eventDateWindow(since?: string, until?: string): UsageWindow {
  const shift = (date: string, days: number) =>
    new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  return { ...(since ? { fromDate: shift(since, -2) } : {}), ...(until ? { toDate: shift(until, 2) } : {}) };
}

/**
 * Opens the warehouse a report reads: the data dir's DuckDB file, or BigQuery with `--sink bigquery`.
 *
 * @throws {UsageError} For an unknown sink.
 * @throws {InputError} When the database is missing.
 */
export async function openReportWarehouse(flags: ParsedFlags, ctx: CommandContext): Promise<Warehouse> {
  const sink = (flags.sink as string | undefined) ?? "duckdb";
  const dataDir = resolveDataDir(flags, ctx);
  if (sink === "duckdb") return await openDuckDbWarehouse(dataDirLayout(dataDir).database);
  if (sink !== "bigquery") {
    throw new UsageError(`--sink must be duckdb or bigquery for reports: got '${sink}'`);
  }
  const file = await readConfigFile(flags.config as string | undefined, dataDir);
  const config = bigQueryConfigFrom({ ...flags, project: flags["bigquery-project"] }, file, ctx);
  const { openBigQueryWarehouse } = await import("../../report/bigquery_warehouse.ts");
  return openBigQueryWarehouse({ config });
}

/** `ccpipe report`. */
export const reportCommand: Command = defineCommand({
  name: "report",
  operands: `<${ReportNames.join("|")}>`,
  actions: ReportNames,
  positionals: 1,
  description:
    `Tokens and Claude cost (USD) per day, ISO week, month, session, project, model, machine or user (the --user label runs were loaded with), with a totals row. Each API response is counted once and priced on its own with @pydantic/genai-prices (5-minute and 1-hour cache writes apart); a model without a price shows n/a (null in JSON). Reads only.

'html' writes one self-contained page with charts that works offline from file://.`,
  flags: reportFlags,
  run: ({ flags, positionals }, ctx) => runReport(flags, positionals, ctx),
});

async function runReport(flags: ParsedFlags, positionals: string[], ctx: CommandContext): Promise<number> {
  const kind = positionals[0];
  if (kind === undefined) {
    throw new UsageError(`report needs a name: ${ReportNames.join(", ")} (see 'ccpipe report --help')`);
  }
  if (!(ReportNames as readonly string[]).includes(kind)) throw unknownChoice("report", kind, ReportNames);
  if (kind !== "html" && (flags.out !== undefined || flags["include-text"])) {
    throw new UsageError("--out and --include-text go with 'ccpipe report html'");
  }
  if (flags.json && flags.csv) throw new UsageError("Choose one of --json and --csv");
  if (kind === "html" && flags.breakdown !== undefined) {
    throw new UsageError("--breakdown goes with the table reports, not html");
  }
  const since = dateFlag(flags, "since");
  const until = dateFlag(flags, "until");
  if (since && until && since > until) {
    throw new UsageError(`--since ${since} is after --until ${until}`);
  }
  const timeZone = timeZoneFrom(flags, ctx);
  await using warehouse = await openReportWarehouse(flags, ctx);
  const facts = await readUsage(warehouse, eventDateWindow(since, until));
  const filters = {
    timeZone,
    since,
    until,
    project: flags.project as string | undefined,
    machine: flags.machine as string | undefined,
    user: flags.user as string | undefined,
  };
  if (kind === "html") {
    const { writeHtmlReport } = await import("../../report/html_report.ts");
    const out = resolve((flags.out as string | undefined) ?? "ccpipe-report.html");
    const written = await writeHtmlReport(warehouse, facts, out, {
      ...filters,
      includeText: flags["include-text"] === true,
      now: new Date(ctx.clock.now()),
    });
    if (flags.json) ctx.output.out(JSON.stringify({ out, ...written }));
    else {
      ctx.output.out(
        `wrote ${out}: ${(written.bytes / 1024).toFixed(0)} KiB, ${written.sessions} sessions${
          written.prompts === null ? ", no prompt text" : `, ${written.prompts} prompts with their text`
        }`,
      );
    }
    return 0;
  }
  const report = buildReport(facts, {
    ...filters,
    kind: kind as ReportKind,
    breakdown: flags.breakdown as BreakdownDimension | undefined,
  });
  for (const model of report.unpriced_models) {
    ctx.output.err(`ccpipe: warning: ${report.prices} has no price for model ${model}; its cost is n/a`);
  }
  if (flags.json) ctx.output.out(JSON.stringify(report));
  else {for (const line of flags.csv ? renderReportCsv(report) : renderReportTable(report)) {
      ctx.output.out(line);
    }}
  return 0;
}
