/**
 * The data `ccpipe report html` puts in its page: aggregates (per period and model, per model, per
 * project), the session list, prompt-correction outcomes, rejects per file and the last run's
 * reconciliation. Prompt text only when asked for (`includeText`): it is the user's private data.
 *
 * @module
 */
import { buildReport, type ReportKind, type ReportOptions, type UsageTotals } from "./build_report.ts";
import type { UsageFact } from "./usage_query.ts";
import { isoInstant } from "./usage_query.ts";
import type { Warehouse } from "./warehouse.ts";
import { eventDateOf } from "../stages/_identity.ts";
import { minuteFormatter } from "../format.ts";

/** One period series: keys in order, and per model the tokens and cost of each key. */
export interface PeriodSeries {
  keys: string[];
  tokens: Record<string, number[]>;
  cost: Record<string, (number | null)[]>;
}

/** Columns of {@linkcode HtmlData.sessions}'s rows, in order. */
export const SESSION_COLUMNS = [
  "session_id",
  "project",
  "first_timestamp",
  "last_timestamp",
  /** The first message's local time in the report's zone, `YYYY-MM-DD HH:MM` (shown, filtered and sorted on). */
  "started",
  "messages",
  "prompts",
  "tool_uses",
  "total_tokens",
  "cost_usd",
  "title",
] as const;

/** Everything the page shows. */
export interface HtmlData {
  schema_version: 1;
  generated_at: string;
  timezone: string;
  prices: string;
  since: string | null;
  until: string | null;
  project: string | null;
  models: string[];
  totals: UsageTotals;
  periods: Record<"daily" | "weekly" | "monthly", PeriodSeries>;
  by_model: { model: string; total_tokens: number; cost_usd: number | null }[];
  by_project: { project: string; total_tokens: number; cost_usd: number | null }[];
  /** Cost per loading machine (null: loaded before machine ids), only when more than one machine is present. */
  by_machine?: { machine_id: string | null; total_tokens: number; cost_usd: number | null }[];
  /** The `--machine` and `--user` filters, if any. */
  machine: string | null;
  user: string | null;
  /** One array per session, values in {@linkcode SESSION_COLUMNS} order (arrays, not objects: half the bytes). */
  sessions: (string | number | null)[][];
  /** Sessions left out beyond `maxSessions` (the most recent are kept). */
  sessions_omitted: number;
  corrections: { status: string; count: number }[];
  rejects: { file: string; count: number }[];
  rejects_total: number;
  last_run: Record<string, unknown> | null;
  unpriced_models: string[];
  /** Typed prompts with their corrections: only with `includeText`. */
  prompts?: { session_id: string; timestamp: string | null; text: string; corrected_text: string | null }[];
}

/** Options of {@linkcode collectHtmlData}. */
export interface HtmlDataOptions extends Omit<ReportOptions, "kind" | "breakdown"> {
  /** The instant the page says it was made. */
  now: Date;
  /** Put typed prompt texts in the page. @default {false} */
  includeText?: boolean;
  /** Most sessions listed (the most recent). @default {5000} */
  maxSessions?: number;
  /** Most prompts listed with `includeText` (the most recent). @default {5000} */
  maxPrompts?: number;
  /** Most files listed under rejects. @default {50} */
  maxRejectFiles?: number;
}

function series(
  facts: UsageFact[],
  kind: ReportKind,
  options: HtmlDataOptions,
  models: string[],
): PeriodSeries {
  const report = buildReport(facts, { ...options, kind, breakdown: true });
  const keyField = kind === "daily" ? "date" : kind === "weekly" ? "week" : "month";
  const keys = report.rows.map((r) => String(r[keyField]));
  const tokens: Record<string, number[]> = {};
  const cost: Record<string, (number | null)[]> = {};
  for (const model of models) {
    tokens[model] = report.rows.map((r) => r.breakdown?.find((b) => b.model === model)?.total_tokens ?? 0);
    cost[model] = report.rows.map((r) => {
      const share = r.breakdown?.find((b) => b.model === model);
      return share ? share.cost_usd : 0;
    });
  }
  return { keys, tokens, cost };
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Gathers the page's data from a warehouse and the usage rows already read from it.
 *
 * @param warehouse Where `sessions`, `messages`, `rejects` and `runs` are read.
 * @param facts The usage rows (see `readUsage`).
 * @param options Zone, filters and size bounds.
 */
export async function collectHtmlData(
  warehouse: Warehouse,
  facts: UsageFact[],
  options: HtmlDataOptions,
): Promise<HtmlData> {
  const t = (name: string) => warehouse.table(name);
  const timeZone = options.timeZone ?? "UTC";
  const byModel = buildReport(facts, { ...options, kind: "model" });
  const models = byModel.rows.map((r) => String(r.model));
  const byProject = buildReport(facts, { ...options, kind: "project" });
  const byMachine = buildReport(facts, { ...options, kind: "machine" });
  const bySession = new Map(
    buildReport(facts, { ...options, kind: "session" }).rows.map((r) => [String(r.session_id), r]),
  );

  const inRange = (iso: string | null) => {
    const date = eventDateOf(iso, timeZone);
    if (options.since && (date === null || date < options.since)) return false;
    if (options.until && (date === null || date > options.until)) return false;
    return true;
  };
  const wantedProject = (path: string | null) =>
    !options.project || path === options.project || (path ?? "").endsWith(`/${options.project}`);
  // Sessions carry no per-response machine: with a machine or user filter, keep those with usage that passed it.
  const wantedLoader = (id: string) =>
    (options.machine === undefined && options.user === undefined) || bySession.has(id);

  const sessionRows = await warehouse.query(
    `SELECT session_id, project, CAST(first_timestamp AS STRING) AS first_timestamp,
       CAST(last_timestamp AS STRING) AS last_timestamp, message_count, human_prompt_count, tool_use_count, title
     FROM ${t("sessions")}`,
  );
  const sessions = sessionRows
    .map((r) => ({
      id: String(r.session_id),
      project: (r.project as string | null) ?? null,
      first: isoInstant(r.first_timestamp),
      last: isoInstant(r.last_timestamp),
      row: r,
    }))
    .filter((r) => inRange(r.first) && wantedProject(r.project) && wantedLoader(r.id))
    .sort((a, b) => (b.first ?? "").localeCompare(a.first ?? ""));
  const maxSessions = options.maxSessions ?? 5000;
  const local = minuteFormatter(timeZone);
  const kept = sessions.slice(0, maxSessions).map(({ id, project, first, last, row }) => {
    const usage = bySession.get(id);
    return [
      id,
      project,
      first,
      last,
      first ? local.format(new Date(first)) : null,
      num(row.message_count),
      num(row.human_prompt_count),
      num(row.tool_use_count),
      usage?.total_tokens ?? 0,
      usage ? usage.cost_usd : 0,
      (row.title as string | null) ?? null,
    ];
  });

  const corrections = (await warehouse.query(
    `SELECT COALESCE(correction_status, 'none') AS status, COUNT(*) AS n FROM ${t("messages")}
     WHERE kind = 'human_prompt' GROUP BY 1 ORDER BY 2 DESC`,
  )).map((r) => ({ status: String(r.status), count: Number(r.n) }));
  const rejectRows = (await warehouse.query(
    `SELECT source_file, COUNT(*) AS n FROM ${
      t("rejects")
    } GROUP BY source_file ORDER BY n DESC, source_file`,
  )).map((r) => ({ file: String(r.source_file), count: Number(r.n) }));
  const [run] = await warehouse.query(
    `SELECT run_id, status, CAST(started_at AS STRING) AS started_at, files, bytes_read, lines_read, records_parsed,
       rejects, blank_lines, unique_records, duplicate_records, usage_rows, prompts, llm_calls, llm_cache_hits,
       duration_ms, stats
     FROM ${t("runs")} ORDER BY started_at DESC LIMIT 1`,
  );
  let lastRun: Record<string, unknown> | null = null;
  if (run) {
    const { stats, ...rest } = run;
    // A JSON column: DuckDB hands it over as text, BigQuery's client as text or parsed (no cast needed).
    let reconciliation: unknown = null;
    try {
      const parsed = typeof stats === "string" ? JSON.parse(stats) : stats;
      reconciliation = (parsed as { reconciliation?: unknown } | null)?.reconciliation ?? null;
    } catch {
      // An older runs row without stats: the counts above still say what happened.
    }
    lastRun = {
      ...Object.fromEntries(
        Object.entries(rest).map(([k, v]) => [k, typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v]),
      ),
      reconciliation,
    };
  }

  const data: HtmlData = {
    schema_version: 1,
    generated_at: options.now.toISOString(),
    timezone: timeZone,
    prices: byModel.prices,
    since: options.since ?? null,
    until: options.until ?? null,
    project: options.project ?? null,
    machine: options.machine ?? null,
    user: options.user ?? null,
    models,
    totals: byModel.totals,
    periods: {
      daily: series(facts, "daily", options, models),
      weekly: series(facts, "weekly", options, models),
      monthly: series(facts, "monthly", options, models),
    },
    by_model: byModel.rows.map((r) => ({
      model: String(r.model),
      total_tokens: r.total_tokens,
      cost_usd: r.cost_usd,
    })),
    by_project: byProject.rows.map((r) => ({
      project: String(r.project),
      total_tokens: r.total_tokens,
      cost_usd: r.cost_usd,
    })),
    ...(byMachine.rows.length > 1
      ? {
        by_machine: byMachine.rows.map((r) => ({
          machine_id: r.machine_id as string | null,
          total_tokens: r.total_tokens,
          cost_usd: r.cost_usd,
        })),
      }
      : {}),
    sessions: kept,
    sessions_omitted: sessions.length - kept.length,
    corrections,
    rejects: rejectRows.slice(0, options.maxRejectFiles ?? 50),
    rejects_total: rejectRows.reduce((a, r) => a + r.count, 0),
    last_run: lastRun,
    unpriced_models: byModel.unpriced_models,
  };
  if (options.includeText) {
    const keptIds = new Set(kept.map((s) => s[0]));
    const prompts = await warehouse.query(
      `SELECT session_id, CAST(timestamp AS STRING) AS timestamp, text, corrected_text FROM ${t("messages")}
       WHERE kind = 'human_prompt' ORDER BY timestamp DESC`,
    );
    data.prompts = prompts
      .filter((p) => keptIds.has(String(p.session_id)))
      .slice(0, options.maxPrompts ?? 5000)
      .map((p) => ({
        session_id: String(p.session_id),
        timestamp: isoInstant(p.timestamp),
        text: String(p.text ?? ""),
        corrected_text: (p.corrected_text as string | null) ?? null,
      }));
  }
  return data;
}
