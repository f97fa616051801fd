/**
 * Maps ccpipe's logical columns to BigQuery table schemas, and compares an existing table's schema
 * with the wanted one: which nullable columns to add, which columns to relax, which conflict.
 *
 * @module
 */
import type { Column, ColumnType } from "../schema/columns.ts";
import type { TableDef } from "../schema/tables.ts";

/** A BigQuery schema field as the REST API and `@google-cloud/bigquery` spell it. */
export interface BigQueryField {
  name: string;
  type: string;
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED";
  description?: string;
  fields?: BigQueryField[];
}

/** The options of `tables.insert` that shape a ccpipe table. */
export interface BigQueryTableShape {
  schema: { fields: BigQueryField[] };
  timePartitioning?: { type: "DAY"; field: string };
  clustering?: { fields: string[] };
}

const typeMap: Record<ColumnType, string> = {
  string: "STRING",
  int: "INT64",
  float: "FLOAT64",
  bool: "BOOL",
  timestamp: "TIMESTAMP",
  date: "DATE",
  json: "JSON",
  "string[]": "STRING",
};

// The REST API reports legacy type names for tables made by other tools; compare on standard names.
const standardTypes: Record<string, string> = {
  INTEGER: "INT64",
  FLOAT: "FLOAT64",
  BOOLEAN: "BOOL",
  RECORD: "STRUCT",
};

/**
 * Maps one logical column to a BigQuery field.
 *
 * @param column A column from `columnsOf()`.
 * @returns `string[]` as a REPEATED STRING, other types NULLABLE or REQUIRED after `column.nullable`.
 *
 * @example A nullable timestamp
 * ```ts
 * import { bigQueryFieldOf } from "./bigquery_schema.ts";
 * const field = bigQueryFieldOf({ name: "ts", type: "timestamp", nullable: true });
 * if (field.type !== "TIMESTAMP" || field.mode !== "NULLABLE") throw new Error("unexpected");
 * ```
 */
export function bigQueryFieldOf(column: Column): BigQueryField {
  const mode = column.type === "string[]" ? "REPEATED" : column.nullable ? "NULLABLE" : "REQUIRED";
  return {
    name: column.name,
    type: typeMap[column.type],
    mode,
    ...(column.description ? { description: column.description } : {}),
  };
}

/**
 * Builds the `tables.insert` shape of a table: schema, DAY partitioning on `partitionBy`, clustering.
 *
 * @param def A table definition from `src/schema/tables.ts`.
 * @returns The schema, partitioning and clustering BigQuery should create the table with.
 * @throws {TypeError} When `partitionBy` is not a DATE or TIMESTAMP column, or `clusterBy` names an unknown column.
 */
export function bigQueryTableShapeOf(def: TableDef): BigQueryTableShape {
  const fields = def.columns.map(bigQueryFieldOf);
  const byName = new Map(fields.map((field) => [field.name, field]));
  const shape: BigQueryTableShape = { schema: { fields } };
  if (def.partitionBy) {
    const field = byName.get(def.partitionBy);
    if (!field || (field.type !== "DATE" && field.type !== "TIMESTAMP")) {
      throw new TypeError(
        `Cannot partition '${def.name}' as 'partitionBy' must name a date or timestamp column: current value is ${def.partitionBy}`,
      );
    }
    shape.timePartitioning = { type: "DAY", field: def.partitionBy };
  }
  if (def.clusterBy?.length) {
    const unknown = def.clusterBy.find((name) => !byName.has(name));
    if (unknown) {
      throw new TypeError(
        `Cannot cluster '${def.name}' as 'clusterBy' must name its columns: current value is ${unknown}`,
      );
    }
    shape.clustering = { fields: [...def.clusterBy] };
  }
  return shape;
}

/** A column whose type or mode in the existing table cannot hold what ccpipe loads. */
export interface SchemaConflict {
  column: string;
  existing: string;
  wanted: string;
}

/** What it takes to make an existing table accept ccpipe's rows. */
export interface SchemaDiff {
  /** Columns missing from the table; added as NULLABLE (BigQuery cannot add REQUIRED columns). */
  add: BigQueryField[];
  /** REQUIRED columns ccpipe may load NULL into; relaxed to NULLABLE. */
  relax: string[];
  /** Columns that would need a retype: the load must stop before any data moves. */
  conflicts: SchemaConflict[];
}

function describe(field: BigQueryField): string {
  return `${standardType(field.type)} ${field.mode ?? "NULLABLE"}`;
}

function standardType(type: string): string {
  const upper = type.toUpperCase();
  return standardTypes[upper] ?? upper;
}

/**
 * Compares an existing table's fields with the wanted ones. Columns the table has beyond the wanted
 * ones are left alone: ccpipe never drops or retypes a column.
 *
 * @param existing The fields of the table as `tables.get` reports them.
 * @param wanted The fields ccpipe loads.
 * @returns The columns to add, the columns to relax and the conflicts.
 *
 * @example A missing column is added as NULLABLE
 * ```ts
 * import { diffBigQuerySchema } from "./bigquery_schema.ts";
 * const diff = diffBigQuerySchema([{ name: "a", type: "STRING" }], [
 *   { name: "a", type: "STRING", mode: "NULLABLE" },
 *   { name: "b", type: "INT64", mode: "REQUIRED" },
 * ]);
 * if (diff.add[0].mode !== "NULLABLE" || diff.conflicts.length !== 0) throw new Error("unexpected");
 * ```
 */
export function diffBigQuerySchema(
  existing: readonly BigQueryField[],
  wanted: readonly BigQueryField[],
): SchemaDiff {
  // BigQuery column names are case-insensitive.
  const have = new Map(existing.map((field) => [field.name.toLowerCase(), field]));
  const diff: SchemaDiff = { add: [], relax: [], conflicts: [] };
  for (const field of wanted) {
    const current = have.get(field.name.toLowerCase());
    if (!current) {
      diff.add.push({ ...field, mode: field.mode === "REPEATED" ? "REPEATED" : "NULLABLE" });
      continue;
    }
    const currentMode = current.mode ?? "NULLABLE";
    const wantedMode = field.mode ?? "NULLABLE";
    const sameType = standardType(current.type) === standardType(field.type);
    const repeatedMatches = (currentMode === "REPEATED") === (wantedMode === "REPEATED");
    if (!sameType || !repeatedMatches) {
      diff.conflicts.push({ column: field.name, existing: describe(current), wanted: describe(field) });
    } else if (currentMode === "REQUIRED" && wantedMode === "NULLABLE") {
      diff.relax.push(current.name);
    }
  }
  return diff;
}

/**
 * Applies a diff to a table's fields, giving the schema to send with `tables.patch`.
 *
 * @param existing The fields of the table as `tables.get` reports them.
 * @param diff The result of {@linkcode diffBigQuerySchema}.
 * @returns The existing fields, relaxed where listed, followed by the added ones.
 */
export function patchedBigQuerySchema(existing: readonly BigQueryField[], diff: SchemaDiff): BigQueryField[] {
  const relax = new Set(diff.relax);
  return [
    ...existing.map((field) => relax.has(field.name) ? { ...field, mode: "NULLABLE" as const } : field),
    ...diff.add,
  ];
}
