// The MERGE both SQL sinks run (DuckDB and BigQuery speak the same MERGE): upsert a source into its
// target on the natural key, following the table's merge rules. Column names go through the
// caller's `column` (quoting for DuckDB, identifier validation for BigQuery).
import type { TableDef } from "../schema/tables.ts";

/** How one sink spells the parts of a MERGE that differ. */
export interface MergeDialect {
  /** Renders a column name (quote it, or validate it and return it as is). */
  column: (name: string) => string;
  /** Whether to write `MERGE INTO` (DuckDB needs it; BigQuery takes plain `MERGE`). */
  into: boolean;
  /**
   * Keep one source row per key (`QUALIFY ROW_NUMBER() ... = 1`, the greatest `replaceWhenGreater`
   * first), so a staged file with duplicate keys cannot fail the MERGE. @default {false}
   */
  dedupe?: boolean;
  /** Update a matched row only when a column would change, so identical rows are not rewritten. @default {false} */
  onlyChanged?: boolean;
  /** Never update: rows are immutable once written (BigQuery then bills no full-table rewrite). @default {false} */
  insertOnly?: boolean;
  /** An extra condition on the target in `ON` (a constant partition filter, so BigQuery prunes). */
  targetFilter?: string;
}

/**
 * Builds the MERGE of `source` into `target`: `prefer_new_non_null` keeps the old value over a NULL,
 * `keep_first` keeps the old value unless it is NULL,
 * the sticky group keeps all its old values when the new guard is NULL and the old one is not, and
 * `replaceWhenGreater` updates a matched row only when the new value is greater. Key columns are
 * never updated. One clause per line.
 *
 * @param def The table definition.
 * @param target The target table, already quoted.
 * @param source The source table or parenthesised query, already quoted.
 * @param dialect Column rendering and the MERGE keyword.
 * @returns The statement.
 * @throws {TypeError} When the key is empty or a rule names an unknown column.
 */
export function buildMerge(def: TableDef, target: string, source: string, dialect: MergeDialect): string {
  const names = def.columns.map((column) => column.name);
  const known = new Set(names);
  const mentioned = [
    ...def.key,
    ...Object.keys(def.mergeRules ?? {}),
    ...(def.stickyGroup ? [def.stickyGroup.guard, ...def.stickyGroup.columns] : []),
    ...(def.replaceWhenGreater ? [def.replaceWhenGreater] : []),
  ];
  for (const name of mentioned) {
    if (!known.has(name)) {
      throw new TypeError(
        `Cannot build the MERGE of '${def.name}' as it names an unknown column: current value is ${name}`,
      );
    }
  }
  if (def.key.length === 0) {
    throw new TypeError(
      `Cannot build the MERGE of '${def.name}' as 'key' must list at least one column: current value is []`,
    );
  }
  const c = dialect.column;
  const columns = names.map(c);
  const keys = new Set(def.key);
  const sticky = new Set(def.stickyGroup?.columns ?? []);
  const guard = def.stickyGroup ? c(def.stickyGroup.guard) : undefined;
  // What each updatable column becomes on a key match.
  const assigned = names.filter((name) => !keys.has(name)).map((name): [string, string] => {
    const col = c(name);
    if (guard && sticky.has(name)) {
      return [col, `IF(S.${guard} IS NULL AND T.${guard} IS NOT NULL, T.${col}, S.${col})`];
    }
    if (def.mergeRules?.[name] === "prefer_new_non_null") return [col, `COALESCE(S.${col}, T.${col})`];
    if (def.mergeRules?.[name] === "keep_first") return [col, `COALESCE(T.${col}, S.${col})`];
    return [col, `S.${col}`];
  });
  const set = assigned.map(([col, value]) => `${col} = ${value}`);
  const on = [
    ...def.key.map((name) => `T.${c(name)} = S.${c(name)}`),
    ...(dialect.targetFilter ? [dialect.targetFilter] : []),
  ]
    .join(" AND ");
  const greater = def.replaceWhenGreater ? c(def.replaceWhenGreater) : undefined;
  // A matched row is rewritten only when an assignment would change it.
  const changed = dialect.onlyChanged
    ? ` AND (${assigned.map(([col, value]) => `${value} IS DISTINCT FROM T.${col}`).join(" OR ")})`
    : "";
  const when = (greater ? ` AND S.${greater} > T.${greater}` : "") + changed;
  const using = dialect.dedupe
    ? `(SELECT * FROM ${source} WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY ${
      def.key.map(c).join(", ")
    }${greater ? ` ORDER BY ${greater} DESC` : ""}) = 1)`
    : source;
  return [
    `MERGE${dialect.into ? " INTO" : ""} ${target} T USING ${using} S ON ${on}`,
    ...(set.length && !dialect.insertOnly ? [`WHEN MATCHED${when} THEN UPDATE SET ${set.join(", ")}`] : []),
    `WHEN NOT MATCHED THEN INSERT (${columns.join(", ")}) VALUES (${
      columns.map((col) => `S.${col}`).join(", ")
    })`,
  ].join("\n");
}
