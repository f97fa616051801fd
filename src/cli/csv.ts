/**
 * CSV output (RFC 4180) for `--csv`.
 *
 * @module
 */

/**
 * Renders one CSV line: null and undefined as empty cells, quotes where a cell holds a comma,
 * a quote or a line break, objects as JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvLine } from "./csv.ts";
 * assert.equal(csvLine(["a,b", 'say "hi"', null, 3]), '"a,b","say ""hi""",,3');
 * ```
 */
export function csvLine(values: unknown[]): string {
  return values.map((value) => {
    const text = value === null || value === undefined
      ? ""
      : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(",");
}
