/**
 * `ccpipe report` as text: an aligned table that fits 80 columns with a totals row, or CSV.
 *
 * @module
 */
import {
  BREAKDOWN_FIELD,
  type BreakdownShare,
  KEY_FIELD,
  type Report,
  type ReportRow,
  type UsageTotals,
} from "../report/build_report.ts";
import { csvLine } from "./csv.ts";
import { renderTable, type TableColumn } from "./table.ts";

/** Width the report table must fit. */
export const REPORT_WIDTH = 80;

const KEY_HEADER: Record<Report["report"], string> = {
  daily: "Date",
  weekly: "Week of",
  monthly: "Month",
  session: "Session",
  project: "Project",
  model: "Model",
  machine: "Machine",
  user: "User",
};

/** How a machine or user that is not known reads in the table (rows loaded before machines were stamped). */
export const UNKNOWN_LABEL = "(unknown)";

const NUMBER_COLUMNS: [keyof UsageTotals, string][] = [
  ["input_tokens", "Input"],
  ["output_tokens", "Output"],
  ["cache_creation_input_tokens", "Cache wr"],
  ["cache_read_input_tokens", "Cache rd"],
  ["total_tokens", "Total"],
];

function full(n: number): string {
  return n.toLocaleString("en-US");
}

/** 3 significant digits with a K/M/B suffix: used when full numbers would not fit. */
function compact(n: number): string {
  for (const [unit, size] of [["B", 1e9], ["M", 1e6], ["K", 1e3]] as const) {
    if (n < size) continue;
    const digits = (n / size).toPrecision(3);
    return `${digits.includes(".") ? digits.replace(/\.?0+$/, "") : digits}${unit}`;
  }
  return String(n);
}

/** A cost as a person reads it: 4 decimals below $1, cents above; `n/a` when unpriced. */
export function formatCost(cost: number | null): string {
  if (cost === null) return "n/a";
  return cost < 1
    ? `$${cost.toFixed(4)}`
    : `$${cost.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A model name without the `claude-` every Claude model starts with. */
function shortModel(model: string): string {
  return model.replace(/^claude-/, "");
}

function keyText(report: Report, row: ReportRow): string[] {
  const key = String(row[KEY_FIELD[report.report]] ?? UNKNOWN_LABEL);
  switch (report.report) {
    case "session":
      return [key.slice(0, 8), String(row.project ?? "").split("/").pop() ?? ""];
    case "model":
      return [shortModel(key)];
    default:
      return [key];
  }
}

/** The name of a breakdown share: a short model name, or the machine or user (unknown when null). */
function shareText(report: Report, share: BreakdownShare): string {
  if (report.breakdown === "machine") return share.machine_id ?? UNKNOWN_LABEL;
  if (report.breakdown === "user") return share.user_label ?? UNKNOWN_LABEL;
  return shortModel(share.model ?? "");
}

/**
 * Renders a report as table lines (the totals row last, then a line naming the price data and zone).
 *
 * @param report The report.
 * @returns Lines no wider than {@linkcode REPORT_WIDTH} (the key column is shortened if needed).
 */
export function renderReportTable(report: Report): string[] {
  const keyColumns: TableColumn[] = report.report === "session"
    ? [{ header: "Session" }, { header: "Project" }]
    : [{ header: KEY_HEADER[report.report] }];
  const columns: TableColumn[] = [
    ...keyColumns,
    ...NUMBER_COLUMNS.map(([, header]) => ({ header, align: "right" as const })),
    { header: "Cost USD", align: "right" },
  ];
  const build = (num: (n: number) => string) => {
    const cells = (key: string[], t: UsageTotals) => [
      ...key,
      ...NUMBER_COLUMNS.map(([field]) => num(t[field] as number)),
      formatCost(t.cost_usd),
    ];
    const pad = keyColumns.slice(1).map(() => "");
    const rows: string[][] = [];
    for (const row of report.rows) {
      rows.push(cells(keyText(report, row), row));
      for (const share of row.breakdown ?? []) {
        const name = `  ${shareText(report, share)}`;
        rows.push(cells(report.report === "session" ? ["", name] : [name], share));
      }
    }
    const footer = cells(["Total", ...pad], report.totals);
    return renderTable(columns, rows, {
      footer,
      maxWidth: REPORT_WIDTH,
      shrink: report.report === "session" ? 1 : 0,
    });
  };
  let lines = build(full);
  if (lines.some((l) => l.length > REPORT_WIDTH)) lines = build(compact);
  const zone = report.report === "daily" || report.report === "weekly" || report.report === "monthly"
    ? `; days in ${report.timezone}`
    : "";
  lines.push(
    `${full(report.totals.responses)} API responses; cost from ${report.prices}${zone}`,
  );
  return lines;
}

/**
 * Renders a report as CSV (RFC 4180): one line per row, or per row and model (machine, user) with
 * `--breakdown`; headers are the JSON field names, and an unknown machine or user is an empty cell.
 */
export function renderReportCsv(report: Report): string[] {
  const key = KEY_FIELD[report.report];
  const context = report.report === "session" ? ["project", "first_timestamp", "last_timestamp"] : [];
  const numbers = [
    "responses",
    ...NUMBER_COLUMNS.map(([f]) => f),
    "cache_creation_1h_input_tokens",
    "web_search_requests",
    "cost_usd",
  ];
  const breakdown = report.breakdown === null ? null : BREAKDOWN_FIELD[report.breakdown];
  const header = [key, ...context, breakdown ?? "models", ...numbers];
  const lines = [csvLine(header)];
  for (const row of report.rows) {
    const lead = [row[key], ...context.map((c) => row[c])];
    if (breakdown) {
      for (const s of row.breakdown ?? []) {
        const values = s as unknown as Record<string, unknown>;
        lines.push(csvLine([...lead, values[breakdown], ...numbers.map((n) => values[n])]));
      }
    } else {
      lines.push(csvLine([...lead, row.models.join(" "), ...numbers.map((n) => row[n])]));
    }
  }
  return lines;
}
