/**
 * The last check before a row is staged: every value must be one the warehouse can take, whatever the
 * transcript held. A value that is not is replaced (lone surrogates by U+FFFD, an out-of-range time or
 * count by NULL, over-deep JSON by a marker) and each change is noted, so the row still loads and the
 * run says what it changed instead of failing on every rerun.
 *
 * @module
 */
import { cutCodePoints, sanitiseJson } from "../io/safe_json.ts";
import { type Column, type TableName, Tables } from "../schema/mod.ts";

// DuckDB and BigQuery both take years 0001-9999; `toISOString()` writes others as `+275760-…`.
const TIMESTAMP = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const DATE = /^(?!0000)\d{4}-\d{2}-\d{2}$/;

/**
 * Makes `row` safe to load into `table`, in place.
 *
 * @param table The table the row goes to.
 * @param row The row (its keys are the table's column names).
 * @returns One note per changed column, e.g. `timestamp out of range (+275760-09-13T00:…)`; empty
 * when the row was already safe.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { guardRow } from "./row_guard.ts";
 *
 * const row: Record<string, unknown> = { reject_key: "k", source_file: "f", line_number: 1, byte_offset: 0,
 *   error: "cut \ud83d", prefix: "", line_bytes: 1e300, run_id: "r" };
 * assert.deepEqual(guardRow("rejects", row), ["error: lone surrogate replaced", "line_bytes: 1e+300 is not a 64-bit integer"]);
 * assert.equal(row.error, "cut \uFFFD");
 * assert.equal(row.line_bytes, 0);
 * ```
 */
export function guardRow(table: TableName, row: Record<string, unknown>): string[] {
  const notes: string[] = [];
  for (const column of Tables[table].columns) {
    const value = row[column.name];
    if (value === null || value === undefined) continue;
    const fixed = check(column, value);
    if (fixed === undefined) continue;
    row[column.name] = fixed.value;
    notes.push(`${column.name}: ${fixed.note}`);
  }
  return notes;
}

function check(column: Column, value: unknown): { value: unknown; note: string } | undefined {
  switch (column.type) {
    case "string":
      return typeof value === "string" && !value.isWellFormed()
        ? { value: value.toWellFormed(), note: "lone surrogate replaced" }
        : undefined;
    case "string[]":
      return Array.isArray(value) && value.some((v) => typeof v === "string" && !v.isWellFormed())
        ? {
          value: value.map((v) => (typeof v === "string" ? v.toWellFormed() : v)),
          note: "lone surrogate replaced",
        }
        : undefined;
    case "timestamp":
      return typeof value === "string" && TIMESTAMP.test(value) ? undefined : outOfRange(column, value);
    case "date":
      return typeof value === "string" && DATE.test(value) ? undefined : outOfRange(column, value);
    case "int":
      return Number.isSafeInteger(value)
        ? undefined
        : { value: column.nullable ? null : 0, note: `${show(value)} is not a 64-bit integer` };
    case "float":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : { value: column.nullable ? null : 0, note: `${show(value)} is not a finite number` };
    case "json": {
      const { value: safe, notes } = sanitiseJson(value);
      return notes.length === 0 ? undefined : { value: safe, note: notes.join(", ") };
    }
    default:
      return undefined;
  }
}

function outOfRange(column: Column, value: unknown): { value: unknown; note: string } {
  return {
    value: column.nullable ? null : "1970-01-01T00:00:00.000Z",
    note: `${show(value)} is out of range`,
  };
}

function show(value: unknown): string {
  return cutCodePoints(String(value), 40).toWellFormed();
}

/**
 * {@linkcode guardRow}, and for a `messages` row also the record of what changed: the notes are added
 * to its `extra.ccpipe_sanitised`, so the row itself says which of its values are not the input's.
 *
 * @param table The table the row goes to.
 * @param row The row, made safe in place.
 * @returns The notes of {@linkcode guardRow}.
 */
export function guardAndNote(table: TableName, row: Record<string, unknown>): string[] {
  const notes = guardRow(table, row);
  if (notes.length > 0 && table === "messages") {
    const extra = (typeof row.extra === "object" && row.extra !== null && !Array.isArray(row.extra)
      ? row.extra
      : {}) as Record<string, unknown>;
    const earlier = Array.isArray(extra.ccpipe_sanitised) ? extra.ccpipe_sanitised : [];
    row.extra = { ...extra, ccpipe_sanitised: [...earlier, ...notes] };
  }
  return notes;
}

/**
 * Adds notes of {@linkcode guardRow} to per-column counts (`table.column` → rows changed).
 *
 * @param counts The counts, updated in place.
 * @param table The notes' table.
 * @param notes One row's notes.
 */
export function countNotes(counts: Record<string, number>, table: TableName, notes: readonly string[]): void {
  for (const note of notes) {
    const key = `${table}.${note.slice(0, note.indexOf(":"))}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
}
