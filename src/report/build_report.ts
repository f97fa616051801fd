/**
 * Builds a usage report (daily, weekly, monthly, session, project, model, machine, user) from the usage rows: each
 * response is priced on its own (prices can depend on the request's size and time), then summed under
 * its key in the report's time zone. The result is the `--json` contract, `schema_version` 1.
 *
 * @module
 */
import { ClaudePricer, PRICES_SOURCE } from "../pricing/claude_prices.ts";
import { eventDateOf } from "../stages/_identity.ts";
import { USAGE_TOKEN_COLUMNS, type UsageFact, type UsageTokenColumn } from "./usage_query.ts";

/** The report names `ccpipe report` accepts (html aside). */
export const ReportKinds = [
  "daily",
  "weekly",
  "monthly",
  "session",
  "project",
  "model",
  "machine",
  "user",
] as const;
/** One of {@linkcode ReportKinds}. */
export type ReportKind = typeof ReportKinds[number];

/** The key field each report's rows carry. */
export const KEY_FIELD: Record<ReportKind, string> = {
  daily: "date",
  weekly: "week",
  monthly: "month",
  session: "session_id",
  project: "project",
  model: "model",
  machine: "machine_id",
  user: "user_label",
};

/** What `--breakdown` splits each row by: the model (the default), the loading machine or the `--user` label. */
export const BreakdownDimensions = ["model", "machine", "user"] as const;
/** One of {@linkcode BreakdownDimensions}. */
export type BreakdownDimension = typeof BreakdownDimensions[number];

/** The field a breakdown entry is keyed by, under the usage table's name. */
export const BREAKDOWN_FIELD = {
  model: "model",
  machine: "machine_id",
  user: "user_label",
} as const satisfies Record<BreakdownDimension, keyof UsageFact>;

/** The summed numbers of a group of responses. */
export interface UsageTotals extends Record<UsageTokenColumn, number> {
  responses: number;
  /** USD; null when any response of the group has no price (never a partial sum passed off as the cost). */
  cost_usd: number | null;
}

/**
 * One share of a row (with `--breakdown`): its key under {@linkcode BREAKDOWN_FIELD} (`model`,
 * `machine_id` or `user_label`; a machine or user is null on rows loaded before machines were stamped).
 */
export interface BreakdownShare extends UsageTotals {
  model?: string;
  machine_id?: string | null;
  user_label?: string | null;
}

/** One report row: its key field (`date`, `week`, …), extra context, the models seen and the totals. */
export interface ReportRow extends UsageTotals {
  [key: string]: unknown;
  models: string[];
  breakdown?: BreakdownShare[];
}

/** The `--json` output of `ccpipe report`. */
export interface Report {
  schema_version: 1;
  report: ReportKind;
  timezone: string;
  prices: string;
  since: string | null;
  until: string | null;
  project: string | null;
  /** The `--machine` filter, if any. */
  machine: string | null;
  /** The `--user` filter, if any. */
  user: string | null;
  /** What each row's `breakdown` splits by, or null without `--breakdown`. */
  breakdown: BreakdownDimension | null;
  rows: ReportRow[];
  totals: UsageTotals;
  /** Models that had no price (their rows' `cost_usd` is null). */
  unpriced_models: string[];
}

/** Options of {@linkcode buildReport}. */
export interface ReportOptions {
  kind: ReportKind;
  /** IANA zone that days, weeks and months are counted in. @default {"UTC"} */
  timeZone?: string;
  /** First day kept (`YYYY-MM-DD`, in `timeZone`), inclusive. */
  since?: string;
  /** Last day kept (`YYYY-MM-DD`, in `timeZone`), inclusive. */
  until?: string;
  /** Keep only this project: its full path, or its last path segment. */
  project?: string;
  /** Keep only the rows this machine loaded (its `machine_id`). */
  machine?: string;
  /** Keep only the rows loaded with this `--user` label. */
  user?: string;
  /** Split every row by model, machine or user; `true` means by model. */
  breakdown?: BreakdownDimension | boolean;
}

function emptyTotals(): UsageTotals {
  const t = { responses: 0, cost_usd: 0 } as UsageTotals;
  for (const c of USAGE_TOKEN_COLUMNS) t[c] = 0;
  return t;
}

function add(into: UsageTotals, fact: UsageFact, cost: number | null): void {
  into.responses++;
  for (const c of USAGE_TOKEN_COLUMNS) into[c] += fact[c] ?? 0;
  into.cost_usd = into.cost_usd === null || cost === null ? null : into.cost_usd + cost;
}

/** The Monday (`YYYY-MM-DD`) of the ISO week holding `date`. */
export function isoWeekMonday(date: string): string {
  const ms = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(ms - weekday * 86_400_000).toISOString().slice(0, 10);
}

function matchesProject(project: string, wanted: string): boolean {
  return project === wanted || project.endsWith(`/${wanted}`);
}

interface Group {
  row: ReportRow;
  models: Map<string | null, BreakdownShare>;
  /** By machine or user, with `--breakdown machine|user`. */
  shares: Map<string | null, BreakdownShare>;
  first: string | null;
  last: string | null;
}

function addShare(
  shares: Map<string | null, BreakdownShare>,
  field: typeof BREAKDOWN_FIELD[BreakdownDimension],
  fact: UsageFact,
  cost: number | null,
): void {
  const key = fact[field];
  const share = shares.get(key) ?? { [field]: key, ...emptyTotals() };
  shares.set(key, share);
  add(share, fact, cost);
}

/**
 * Aggregates usage rows into a report.
 *
 * @param facts The usage rows (any order), e.g. from {@linkcode usageQuery}.
 * @param options Which report, its time zone and filters.
 * @returns The report, rows sorted by key (periods, sessions by first activity) or by cost (projects,
 *   models, machines, users; an unknown machine or user after the named ones).
 */
export function buildReport(facts: Iterable<UsageFact>, options: ReportOptions): Report {
  const timeZone = options.timeZone ?? "UTC";
  const pricer = new ClaudePricer();
  const groups = new Map<string | null, Group>();
  const totals = emptyTotals();
  const keyField = KEY_FIELD[options.kind];
  const dimension = options.breakdown === true ? "model" : options.breakdown || null;
  const shareField = BREAKDOWN_FIELD[dimension ?? "model"];
  for (const fact of facts) {
    const date = eventDateOf(fact.timestamp, timeZone);
    if (options.since && (date === null || date < options.since)) continue;
    if (options.until && (date === null || date > options.until)) continue;
    if (options.project && !matchesProject(fact.project, options.project)) continue;
    if (options.machine !== undefined && fact.machine_id !== options.machine) continue;
    if (options.user !== undefined && fact.user_label !== options.user) continue;
    const key = keyOf(options.kind, fact, date);
    let group = groups.get(key);
    if (!group) {
      const row = { [keyField]: key, ...emptyTotals(), models: [] } as ReportRow;
      if (options.kind === "session") row.project = fact.project;
      group = { row, models: new Map(), shares: new Map(), first: null, last: null };
      groups.set(key, group);
    }
    const cost = pricer.costUsd(fact);
    add(group.row, fact, cost);
    add(totals, fact, cost);
    addShare(group.models, "model", fact, cost);
    if (dimension && dimension !== "model") addShare(group.shares, shareField, fact, cost);
    if (fact.timestamp) {
      if (group.first === null || fact.timestamp < group.first) group.first = fact.timestamp;
      if (group.last === null || fact.timestamp > group.last) group.last = fact.timestamp;
    }
  }
  const rows = [...groups.values()].map((g) => {
    const models = [...g.models.values()].sort(byCostThenName((s) => s.model!));
    const shares = dimension === "model"
      ? models
      : [...g.shares.values()].sort(byCostThenName((s) => s[shareField] ?? null));
    // Key and context first, then the numbers: the order a reader of the JSON expects.
    const row = {
      [keyField]: g.row[keyField],
      ...(options.kind === "session"
        ? { project: g.row.project, first_timestamp: g.first, last_timestamp: g.last }
        : {}),
      models: models.map((s) => s.model!),
      ...rounded(g.row),
      ...(dimension
        ? { breakdown: shares.map((s) => ({ [shareField]: s[shareField], ...rounded(s) })) }
        : {}),
    } as ReportRow;
    return { row, first: g.first };
  });
  if (["project", "model", "machine", "user"].includes(options.kind)) {
    rows.sort((a, b) => byCostThenName((r: ReportRow) => r[keyField] as string | null)(a.row, b.row));
  } else if (options.kind === "session") {
    rows.sort((a, b) => (a.first ?? "").localeCompare(b.first ?? ""));
  } else {
    rows.sort((a, b) => String(a.row[keyField]).localeCompare(String(b.row[keyField])));
  }
  return {
    schema_version: 1,
    report: options.kind,
    timezone: timeZone,
    prices: PRICES_SOURCE,
    since: options.since ?? null,
    until: options.until ?? null,
    project: options.project ?? null,
    machine: options.machine ?? null,
    user: options.user ?? null,
    breakdown: dimension,
    rows: rows.map((r) => r.row),
    totals: rounded(totals),
    unpriced_models: pricer.unpricedModels,
  };
}

/** The totals in a fixed order, the cost rounded to 1e-10 USD (sums of binary fractions drift in the last digits). */
function rounded(t: UsageTotals): UsageTotals {
  const out = { responses: t.responses } as UsageTotals;
  for (const c of USAGE_TOKEN_COLUMNS) out[c] = t[c];
  out.cost_usd = t.cost_usd === null ? null : Math.round(t.cost_usd * 1e10) / 1e10;
  return out;
}

function keyOf(kind: ReportKind, fact: UsageFact, date: string | null): string | null {
  switch (kind) {
    case "daily":
      return date ?? "unknown";
    case "weekly":
      return date ? isoWeekMonday(date) : "unknown";
    case "monthly":
      return date ? date.slice(0, 7) : "unknown";
    case "session":
      return fact.session_id;
    case "project":
      return fact.project;
    case "model":
      return fact.model;
    case "machine":
      return fact.machine_id;
    case "user":
      return fact.user_label;
  }
}

/** Highest cost first, unpriced last, then by name (an unknown machine or user after the named ones). */
function byCostThenName<T extends UsageTotals>(name: (t: T) => string | null): (a: T, b: T) => number {
  return (a, b) => {
    const ca = a.cost_usd ?? -1;
    const cb = b.cost_usd ?? -1;
    const [na, nb] = [name(a), name(b)];
    return cb - ca || Number(na === null) - Number(nb === null) || (na ?? "").localeCompare(nb ?? "");
  };
}
