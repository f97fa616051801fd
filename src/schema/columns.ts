/**
 * Derives warehouse-neutral column descriptions from zod table schemas, so DuckDB and BigQuery
 * table definitions come from the same source as the TypeScript row types.
 *
 * @module
 */
import type { z } from "zod";

/** The logical column types ccpipe tables use; each sink maps them to its own SQL types. */
export const ColumnTypes = [
  "string",
  "int",
  "float",
  "bool",
  "timestamp",
  "date",
  "json",
  "string[]",
] as const;
/** One of {@linkcode ColumnTypes}. */
export type ColumnType = typeof ColumnTypes[number];

/** A column as a sink needs it: name, logical type and whether NULL is allowed. */
export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  description?: string;
}

/** Metadata a schema field may carry with `.meta({ column: "json" })` to force a column type. */
export interface ColumnMeta {
  column?: ColumnType;
  description?: string;
}

// deno-lint-ignore no-explicit-any
type AnySchema = z.ZodType<any>;

function unwrap(schema: AnySchema): { inner: AnySchema; nullable: boolean } {
  let current = schema;
  let nullable = false;
  for (;;) {
    const def = current.def as { type: string; innerType?: AnySchema };
    if ((def.type === "nullable" || def.type === "optional" || def.type === "default") && def.innerType) {
      nullable = true;
      current = def.innerType;
      continue;
    }
    return { inner: current, nullable };
  }
}

function metaOf(schema: AnySchema): ColumnMeta {
  return (schema.meta?.() ?? {}) as ColumnMeta;
}

function typeOf(name: string, schema: AnySchema): ColumnType {
  const forced = metaOf(schema).column;
  if (forced) return forced;
  const def = schema.def as { type: string; element?: AnySchema };
  const format = (schema as unknown as { format?: string | null }).format ?? null;
  switch (def.type) {
    case "string":
      if (format === "datetime") return "timestamp";
      if (format === "date") return "date";
      return "string";
    case "number":
      return format === "safeint" || format === "int32" || format === "int64" ? "int" : "float";
    case "boolean":
      return "bool";
    case "enum":
      return "string";
    case "array":
      if (def.element && unwrap(def.element).inner.def.type === "string") return "string[]";
      return "json";
    case "record":
    case "object":
    case "lazy":
    case "unknown":
      return "json";
    default:
      throw new TypeError(`Cannot derive a column type for '${name}': zod type is ${def.type}`);
  }
}

/**
 * Lists the columns of a flat zod object schema in declaration order.
 *
 * @param schema A `z.object` whose fields are scalars, string arrays or JSON blobs.
 * @returns One {@linkcode Column} per field.
 * @throws {TypeError} When a field has a zod type that has no column mapping.
 *
 * @example Columns of a small schema
 * ```ts
 * import { z } from "zod";
 * import { columnsOf } from "./columns.ts";
 * const cols = columnsOf(z.object({ id: z.string(), n: z.int().nullable() }));
 * if (cols[1].type !== "int" || !cols[1].nullable) throw new Error("unexpected");
 * ```
 */
export function columnsOf(schema: z.ZodObject): Column[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const { inner, nullable } = unwrap(field as AnySchema);
    const description = metaOf(field as AnySchema).description ?? metaOf(inner).description;
    return { name, type: typeOf(name, inner), nullable, ...(description ? { description } : {}) };
  });
}
