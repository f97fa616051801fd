// The MERGE statement shared by the SQL sinks: update matched rows following the table's merge
// rules, insert the rest. Identifiers are quoted by the caller's `quote`.
import type { TableDef } from "../schema/tables.ts";

/** Builds the SET expression of one column for a matched row. */
export function mergeSetExpression(
  table: TableDef,
  column: string,
  ref: (alias: "S" | "T", col: string) => string,
): string {
  const sticky = table.stickyGroup;
  if (sticky && sticky.columns.includes(column)) {
    return `CASE WHEN ${ref("S", sticky.guard)} IS NULL AND ${ref("T", sticky.guard)} IS NOT NULL THEN ${
      ref("T", column)
    } ELSE ${ref("S", column)} END`;
  }
  if (table.mergeRules?.[column] === "prefer_new_non_null") {
    return `COALESCE(${ref("S", column)}, ${ref("T", column)})`;
  }
  return ref("S", column);
}

/**
 * Builds `MERGE INTO target T USING source S ON keys WHEN MATCHED [AND cond] THEN UPDATE ... WHEN NOT
 * MATCHED THEN INSERT ...` for a table definition.
 */
export function buildMerge(
  table: TableDef,
  target: string,
  source: string,
  quote: (identifier: string) => string,
  options: { mergeInto?: boolean } = {},
): string {
  const ref = (alias: "S" | "T", col: string) => `${alias}.${quote(col)}`;
  const on = table.key.map((k) => `${ref("T", k)} = ${ref("S", k)}`).join(" AND ");
  const updatable = table.columns.filter((c) => !table.key.includes(c.name));
  const set = updatable.map((c) => `${quote(c.name)} = ${mergeSetExpression(table, c.name, ref)}`).join(", ");
  const cond = table.replaceWhenGreater
    ? ` AND ${ref("S", table.replaceWhenGreater)} > ${ref("T", table.replaceWhenGreater)}`
    : "";
  const cols = table.columns.map((c) => quote(c.name)).join(", ");
  const vals = table.columns.map((c) => ref("S", c.name)).join(", ");
  return `MERGE ${options.mergeInto === false ? "" : "INTO "}${target} T USING ${source} S ON ${on} ` +
    `WHEN MATCHED${cond} THEN UPDATE SET ${set} ` +
    `WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${vals})`;
}
