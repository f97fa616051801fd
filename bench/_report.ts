/**
 * What one benchmark case found, and how the harness prints and stores it.
 *
 * @module
 */

/** One row of the harness's table. */
export interface CaseResult {
  /** Short case name, e.g. `1 speedup 5 vs 1 workers`. */
  name: string;
  /** The measured figure, formatted with its unit. */
  measured: string;
  /** The target, e.g. `≥ 4.75`, or `info` for rows that only inform. */
  target: string;
  /** Whether the target was met; `null` for rows without a target. */
  pass: boolean | null;
  /** How it was measured, in one line. */
  how: string;
  /** Raw numbers for `results.json`. */
  details?: Record<string, unknown>;
}

/**
 * Formats results as a GitHub-flavoured markdown table (readable in a terminal and in the README).
 *
 * @example
 * ```ts
 * import { formatTable } from "./_report.ts";
 * const table = formatTable([{ name: "x", measured: "5.0×", target: "≥ 4.75", pass: true, how: "ratio" }]);
 * if (!table.includes("| x ")) throw new Error("missing row");
 * ```
 *
 * @param results The rows.
 * @returns The table, one line per row plus a header.
 */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ["case", "measured", "target", "pass", "how measured"];
  const rows = results.map((r) => [r.name, r.measured, r.target, verdict(r.pass), r.how]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * Tells whether every row with a target met it.
 *
 * @param results The rows.
 * @returns `false` when any row has `pass === false`.
 */
export function allPassed(results: readonly CaseResult[]): boolean {
  return results.every((r) => r.pass !== false);
}

function verdict(pass: boolean | null): string {
  return pass === null ? "–" : pass ? "PASS" : "FAIL";
}

/**
 * Rounds to `digits` decimals (for readable JSON).
 *
 * @param value The number.
 * @param digits Decimals to keep.
 * @returns The rounded number.
 */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Formats bytes as MiB with one decimal.
 *
 * @param bytes A byte count.
 * @returns E.g. `"12.3 MiB"`.
 */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
