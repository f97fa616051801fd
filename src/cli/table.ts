/**
 * The CLI's one text-table renderer: aligned columns, a rule under the header, an optional totals row
 * under a second rule, and a width budget met by shortening one text column.
 *
 * @module
 */

/** A column: its header and which side its cells align to. */
export interface TableColumn {
  header: string;
  /** @default {"left"} */
  align?: "left" | "right";
}

/** Options of {@linkcode renderTable}. */
export interface TableOptions {
  /** A last row (totals), set off by a rule. */
  footer?: string[];
  /** Widest line allowed; the `shrink` column is cut (with `…`) to meet it. @default {Infinity} */
  maxWidth?: number;
  /** Index of the column that may be shortened. @default {0} */
  shrink?: number;
  /** Text before every line. @default {""} */
  indent?: string;
}

/** Cuts `text` to `width` characters, marking the cut with `…`. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * Renders rows of cells under their headers.
 *
 * @param columns The columns.
 * @param rows One array of cell texts per row.
 * @param options Footer, width budget, indent.
 * @returns The lines, without trailing spaces.
 *
 * @example A two-column table with a totals row
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTable } from "./table.ts";
 * const lines = renderTable([{ header: "day" }, { header: "n", align: "right" }], [["mon", "5"], ["tue", "12"]], {
 *   footer: ["total", "17"],
 * });
 * assert.deepEqual(lines, ["day     n", "-----  --", "mon     5", "tue    12", "-----  --", "total  17"]);
 * ```
 */
export function renderTable(columns: TableColumn[], rows: string[][], options: TableOptions = {}): string[] {
  const all = [...rows, ...(options.footer ? [options.footer] : [])];
  const widths = columns.map((c, i) => Math.max(c.header.length, ...all.map((r) => (r[i] ?? "").length)));
  const indent = options.indent ?? "";
  const max = options.maxWidth ?? Infinity;
  const shrink = options.shrink ?? 0;
  const total = indent.length + widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  if (total > max && widths[shrink] !== undefined) {
    widths[shrink] = Math.max(columns[shrink].header.length, 6, widths[shrink] - (total - max));
  }
  const line = (cells: string[]) =>
    (indent + cells.map((cell, i) => {
      const text = truncate(cell ?? "", widths[i]);
      return columns[i].align === "right" ? text.padStart(widths[i]) : text.padEnd(widths[i]);
    }).join("  ")).trimEnd();
  const rule = line(widths.map((w) => "-".repeat(w)));
  return [
    line(columns.map((c) => c.header)),
    rule,
    ...rows.map(line),
    ...(options.footer ? [rule, line(options.footer)] : []),
  ];
}
