/**
 * Column types and values for the BigQuery mock: schema normalisation, the NDJSON load coercion
 * (with BigQuery's per-row error messages) and the REST `f`/`v` cell encoding.
 *
 * Stored values: INTEGER/FLOAT/NUMERIC as numbers, BOOLEAN as booleans, TIMESTAMP as ISO-8601 UTC
 * strings from `Date.prototype.toISOString` (millisecond precision, so they also sort as strings),
 * DATE as `YYYY-MM-DD`, JSON as the parsed value, REPEATED as arrays (never NULL), RECORD as objects.
 *
 * @module
 */
import { invalid } from "./_bigquery_errors.ts";

/** A column of a BigQuery table schema, as the REST API spells it. */
export interface BigQueryColumnSchema {
  name: string;
  type: string;
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED";
  fields?: BigQueryColumnSchema[];
}

const TYPE_ALIASES: Record<string, string> = {
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  BOOL: "BOOLEAN",
  STRUCT: "RECORD",
};
const KNOWN_TYPES = new Set([
  "STRING",
  "BYTES",
  "INTEGER",
  "FLOAT",
  "NUMERIC",
  "BIGNUMERIC",
  "BOOLEAN",
  "TIMESTAMP",
  "DATE",
  "TIME",
  "DATETIME",
  "GEOGRAPHY",
  "JSON",
  "RECORD",
]);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** Maps a standard-SQL type name to the legacy name BigQuery's REST API returns (`INT64` → `INTEGER`). */
export function canonicalType(type: string): string {
  const upper = String(type).toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

/**
 * Validates a schema sent by a client and returns it the way `tables.get` would show it.
 *
 * @param fields The client's fields.
 * @returns Fields with legacy type names and an explicit mode.
 * @throws {MockBigQueryError} `invalid` for a bad name, type, mode or a duplicate column.
 */
export function normalizeSchema(fields: unknown): BigQueryColumnSchema[] {
  if (!Array.isArray(fields)) throw invalid("Schema fields must be an array");
  const seen = new Set<string>();
  return fields.map((raw) => {
    const field = raw as BigQueryColumnSchema;
    if (typeof field?.name !== "string" || !FIELD_NAME.test(field.name)) {
      throw invalid(
        `Invalid field name "${field?.name}". Fields must contain only letters, numbers, and underscores, ` +
          "start with a letter or underscore, and be at most 300 characters long.",
      );
    }
    const lower = field.name.toLowerCase();
    if (seen.has(lower)) throw invalid(`Field ${field.name} already exists in schema`);
    seen.add(lower);
    const type = canonicalType(field.type ?? "STRING");
    if (!KNOWN_TYPES.has(type)) throw invalid(`Invalid value for type: ${field.type} is not a valid value`);
    const mode = String(field.mode ?? "NULLABLE").toUpperCase();
    if (mode !== "NULLABLE" && mode !== "REQUIRED" && mode !== "REPEATED") {
      throw invalid(`Invalid value for mode: ${field.mode} is not a valid value`);
    }
    const out: BigQueryColumnSchema = { name: field.name, type, mode: mode as BigQueryColumnSchema["mode"] };
    if (type === "RECORD") {
      if (!Array.isArray(field.fields) || field.fields.length === 0) {
        throw invalid(`Field ${field.name} is type RECORD but has no schema`);
      }
      out.fields = normalizeSchema(field.fields);
    }
    return out;
  });
}

// Schemas are replaced, never edited in place, so a name index per schema array stays valid.
const fieldIndexes = new WeakMap<readonly BigQueryColumnSchema[], Map<string, BigQueryColumnSchema>>();

function fieldIndex(schema: readonly BigQueryColumnSchema[]): Map<string, BigQueryColumnSchema> {
  let index = fieldIndexes.get(schema);
  if (!index) {
    index = new Map();
    for (const f of schema) index.set(f.name.toLowerCase(), f);
    for (const f of schema) index.set(f.name, f);
    fieldIndexes.set(schema, index);
  }
  return index;
}

/** Finds a field by name, case-insensitively like BigQuery. */
export function findField(
  schema: readonly BigQueryColumnSchema[],
  name: string,
): BigQueryColumnSchema | undefined {
  const index = fieldIndex(schema);
  return index.get(name) ?? index.get(name.toLowerCase());
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

// Stored forms; values already in them skip parsing (the common case when staging mirrors the target).
const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CANONICAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Normalises a TIMESTAMP text to the stored ISO form, or `undefined` when BigQuery would refuse it. */
function canonicalTimestamp(text: string): string | undefined {
  if (CANONICAL_TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text))) return text;
  const ms = parseTimestamp(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Parses a TIMESTAMP literal to epoch milliseconds, or `undefined` when BigQuery would refuse it. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Number((frac + "000").slice(0, 3)));
  const check = new Date(ms);
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +s > 59) {
    return undefined;
  }
  let offsetMin = 0;
  if (zone !== "Z" && zone !== "z" && zone !== "UTC") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  return ms - offsetMin * 60_000;
}

/** Normalises a DATE literal to `YYYY-MM-DD`, or `undefined` when it is not a valid date. */
export function parseDate(text: string): string | undefined {
  if (CANONICAL_DATE.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text)) return text;
  }
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  const iso = new Date(ms).toISOString().slice(0, 10);
  return iso === `${m[1]}-${m[2].padStart(2, "0")}-${m[3].padStart(2, "0")}` ? iso : undefined;
}

/** A value as BigQuery's load errors quote it (`string_value: "abc"`). */
function protoValue(value: unknown): string {
  if (typeof value === "string") return `string_value: "${value}"`;
  if (typeof value === "number") {
    return Number.isInteger(value) ? `int_value: ${value}` : `double_value: ${value}`;
  }
  if (typeof value === "boolean") return `bool_value: ${value}`;
  return `${JSON.stringify(value)}`;
}

function displayValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

const TYPE_WORDS: Record<string, string> = {
  INTEGER: "integer",
  FLOAT: "double",
  NUMERIC: "numeric",
  BIGNUMERIC: "bignumeric",
  BOOLEAN: "boolean",
  TIMESTAMP: "timestamp",
  DATE: "date",
  DATETIME: "datetime",
  TIME: "time",
  BYTES: "bytes",
  STRING: "string",
  GEOGRAPHY: "geography",
};

/** A per-row problem in loaded data; the message is BigQuery's wording without the row prefix. */
export class RowError extends Error {
  /**
   * Builds a row error.
   *
   * @param message BigQuery's row-level message.
   */
  constructor(message: string) {
    super(message);
    this.name = "RowError";
  }
}

function cannotConvert(value: unknown, field: BigQueryColumnSchema, path: string): RowError {
  return new RowError(
    `Could not convert value '${protoValue(value)}' to ${
      TYPE_WORDS[field.type] ?? field.type.toLowerCase()
    }. ` +
      `Field: ${path}; Value: ${displayValue(value)}`,
  );
}

const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function loadScalar(
  value: unknown,
  field: BigQueryColumnSchema,
  path: string,
  ignoreUnknown: boolean,
): unknown {
  if (Array.isArray(value)) throw new RowError(`Array specified for non-repeated field: ${path}.`);
  if (field.type !== "RECORD" && field.type !== "JSON" && typeof value === "object" && value !== null) {
    throw new RowError(`JSON object specified for non-record field: ${path}`);
  }
  switch (field.type) {
    case "STRING":
    case "GEOGRAPHY":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      throw cannotConvert(value, field, path);
    case "INTEGER":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      if (typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) return Number(value);
      throw cannotConvert(value, field, path);
    case "FLOAT":
    case "NUMERIC":
    case "BIGNUMERIC":
      if (typeof value === "number") return value;
      if (typeof value === "string" && NUMERIC_TEXT.test(value.trim())) return Number(value);
      throw cannotConvert(value, field, path);
    case "BOOLEAN":
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
        return value.trim().toLowerCase() === "true";
      }
      throw cannotConvert(value, field, path);
    case "TIMESTAMP": {
      if (typeof value === "string") {
        const stored = canonicalTimestamp(value);
        if (stored !== undefined) return stored;
      }
      const ms = typeof value === "number" ? value * 1000 : undefined;
      if (ms === undefined || !Number.isFinite(ms)) {
        throw new RowError(
          `Couldn't convert value to timestamp: Could not parse '${displayValue(value)}' as a timestamp. ` +
            `Required format is YYYY-MM-DD HH:MM[:SS[.SSSSSS]] or YYYY/MM/DD HH:MM[:SS[.SSSSSS]] Field: ${path}; ` +
            `Value: ${displayValue(value)}`,
        );
      }
      return new Date(ms).toISOString();
    }
    case "DATE": {
      const date = typeof value === "string" ? parseDate(value) : undefined;
      if (date === undefined) throw cannotConvert(value, field, path);
      return date;
    }
    case "DATETIME":
    case "TIME":
    case "BYTES":
      if (typeof value === "string") return value;
      throw cannotConvert(value, field, path);
    case "JSON":
      return value;
    case "RECORD":
      if (typeof value !== "object" || value === null) {
        throw new RowError(`Could not convert non-object value to record. Field: ${path}`);
      }
      return loadObject(value as Record<string, unknown>, field.fields ?? [], {
        ignoreUnknown,
        prefix: `${path}.`,
      });
  }
  throw cannotConvert(value, field, path);
}

/**
 * Checks one field of an NDJSON row against its column and converts it to the stored form.
 *
 * @param value The parsed JSON value (`undefined` when the key is absent).
 * @param field The column.
 * @param options `path` names the field in messages; `ignoreUnknown` mirrors `ignoreUnknownValues`.
 * @returns The stored value.
 * @throws {RowError} With BigQuery's message when the value does not fit.
 */
function loadValue(
  value: unknown,
  field: BigQueryColumnSchema,
  options: { path: string; ignoreUnknown: boolean },
): unknown {
  const { path, ignoreUnknown } = options;
  if (field.mode === "REPEATED") {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw cannotConvert(value, field, path);
    return value.map((item) => {
      if (item === null) {
        throw new RowError(`Array cannot have a null element; error in writing field ${path}`);
      }
      return loadScalar(item, field, path, ignoreUnknown);
    });
  }
  if (value === undefined || (value === null && field.type !== "JSON")) {
    if (field.mode === "REQUIRED") {
      throw new RowError(
        value === undefined
          ? `Missing required field: ${path}.`
          : `Only optional fields can be set to NULL. Field: ${path}; Value: NULL`,
      );
    }
    return null;
  }
  if (value === null) return null;
  return loadScalar(value, field, path, ignoreUnknown);
}

/**
 * Checks a whole NDJSON object against a schema and converts it to a stored row (every column present).
 *
 * @param object The parsed line.
 * @param schema The destination schema.
 * @param options `ignoreUnknown` drops keys the schema lacks instead of failing; `prefix` for nested paths.
 * @returns The stored row.
 * @throws {RowError} For the first field that does not fit.
 */
export function loadObject(
  object: Record<string, unknown>,
  schema: readonly BigQueryColumnSchema[],
  options: { ignoreUnknown: boolean; prefix?: string },
): Record<string, unknown> {
  const prefix = options.prefix ?? "";
  const index = fieldIndex(schema);
  // Keys that differ from a column name only by case still land in that column, as in BigQuery.
  let inexact: Map<string, string> | undefined;
  for (const key in object) {
    const field = index.get(key) ?? index.get(key.toLowerCase());
    if (!field) {
      if (!options.ignoreUnknown) throw new RowError(`No such field: ${prefix}${key}.`);
      continue;
    }
    if (field.name !== key) (inexact ??= new Map()).set(field.name, key);
  }
  const row: Record<string, unknown> = {};
  for (const field of schema) {
    const key = inexact?.get(field.name) ?? field.name;
    row[field.name] = loadValue(object[key], field, {
      path: `${prefix}${field.name}`,
      ignoreUnknown: options.ignoreUnknown,
    });
  }
  return row;
}

/** A REST cell: `{ v: ... }`. */
export interface Cell {
  v: unknown;
}

function encodeScalar(value: unknown, field: BigQueryColumnSchema, int64Timestamp: boolean): unknown {
  switch (field.type) {
    case "BOOLEAN":
      return value ? "true" : "false";
    case "TIMESTAMP": {
      const ms = typeof value === "string" ? parseTimestamp(value) ?? 0 : Number(value);
      return int64Timestamp ? String(Math.round(ms * 1000)) : String(ms / 1000);
    }
    case "JSON":
      return JSON.stringify(value);
    case "RECORD": {
      const object = value as Record<string, unknown>;
      return { f: (field.fields ?? []).map((f) => encodeCell(object[f.name], f, int64Timestamp)) };
    }
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/**
 * Encodes a stored value as a REST `f`/`v` cell (all scalars as strings, like BigQuery).
 *
 * @param value The stored value.
 * @param field Its column.
 * @param int64Timestamp `formatOptions.useInt64Timestamp`: TIMESTAMP as integer microseconds, else float seconds.
 * @returns The cell.
 */
export function encodeCell(value: unknown, field: BigQueryColumnSchema, int64Timestamp: boolean): Cell {
  if (value === null || value === undefined) return { v: field.mode === "REPEATED" ? [] : null };
  if (field.mode === "REPEATED") {
    const items = Array.isArray(value) ? value : [value];
    return { v: items.map((item) => ({ v: encodeScalar(item, field, int64Timestamp) })) };
  }
  return { v: encodeScalar(value, field, int64Timestamp) };
}
