/**
 * Runs the BigQuery mock's statements on an in-memory DuckDB after a small dialect translation
 * (backticked paths and names, `@params`, `MERGE` without `INTO`, `IN UNNEST(...)`, `SAFE_CAST`,
 * GoogleSQL type names, double-quoted strings), keeping only the checks that are BigQuery's own:
 * one source row per target row in a MERGE, REQUIRED columns, and on-demand billing — bytes of the
 * referenced columns in the scanned partitions, all columns of the modified partitions (or of the
 * whole unpartitioned table) when the statement can update or delete, at least 10 MB per table —
 * checked against `maximumBytesBilled`.
 *
 * Each statement gets a fresh in-memory database holding the tables it names, copied from the warehouse; a
 * DML statement's target is read back, and its `apply()` replaces the stored rows, so a failed (or
 * conflicting, never applied) statement changes nothing.
 *
 * @module
 */
import { type DuckDBConnection, DuckDBInstance, listValue } from "@duckdb/node-api";
import { Buffer } from "node:buffer";
import { invalidQuery, MockBigQueryError, notFound } from "./_bigquery_errors.ts";
import { type BigQueryColumnSchema, canonicalType, parseDate, parseTimestamp } from "./_bigquery_values.ts";
import type { StoredTable, Warehouse } from "./_bigquery_warehouse.ts";

/** A named query parameter after decoding. */
export interface QueryParam {
  field: BigQueryColumnSchema;
  value: unknown;
}

/** What a statement runs with. */
export interface ExecContext {
  warehouse: Warehouse;
  defaultDataset?: { projectId?: string; datasetId: string };
  /** Parameters by lower-cased name. */
  params: Map<string, QueryParam>;
  maximumBytesBilled?: number;
}

/** What a statement did. */
export interface ExecResult {
  statementType: string;
  schema?: BigQueryColumnSchema[];
  rows?: unknown[][];
  dml?: { inserted: number; updated: number; deleted: number };
  /** Bytes of the data read and rewritten. */
  bytesProcessed: number;
  /** What on-demand pricing bills: at least 10 MB per table referenced. */
  bytesBilled: number;
  ddlTarget?: { datasetId: string; tableId: string };
  /** DML: the target table and the partitions (`YYYY-MM-DD`, `__NULL__`, or `__UNPARTITIONED__`) it modified. */
  modified?: { datasetId: string; tableId: string; partitions: Set<string> };
  /** DML: writes the new rows into the warehouse; until called the statement has changed nothing. */
  apply?: () => void;
}

let shared: Promise<DuckDBInstance> | undefined;
let statements = 0;

/** On-demand pricing's minimum per table referenced: 10 MB. */
export const MIN_BYTES_PER_TABLE = 10 * 1024 * 1024;

/**
 * Decodes the REST `queryParameters` list.
 *
 * @param list `queryParameters` from a query request or job configuration.
 * @returns Parameters by lower-cased name.
 * @throws {MockBigQueryError} `invalidQuery` for positional or malformed parameters.
 */
export function decodeParams(list: unknown): Map<string, QueryParam> {
  const params = new Map<string, QueryParam>();
  if (!Array.isArray(list)) return params;
  for (const raw of list) {
    const p = raw as {
      name?: string;
      parameterType?: { type?: string; arrayType?: { type?: string } };
      parameterValue?: { value?: unknown; arrayValues?: { value?: unknown }[] };
    };
    if (!p.name) throw invalidQuery("Positional query parameters are not supported by the BigQuery mock");
    const isArray = String(p.parameterType?.type).toUpperCase() === "ARRAY";
    const type = canonicalType(
      isArray ? p.parameterType?.arrayType?.type ?? "STRING" : p.parameterType?.type ?? "STRING",
    );
    const field: BigQueryColumnSchema = { name: p.name, type, mode: isArray ? "REPEATED" : "NULLABLE" };
    const value = isArray
      ? (p.parameterValue?.arrayValues ?? []).map((v) => decodeScalar(v.value, type, p.name!))
      : decodeScalar(p.parameterValue?.value, type, p.name);
    params.set(p.name.toLowerCase(), { field, value });
  }
  return params;
}

function decodeScalar(value: unknown, type: string, name: string): unknown {
  if (value === undefined || value === null) return null;
  const text = String(value);
  const bad = () => invalidQuery(`Invalid ${type} value for query parameter ${name}: ${text}`);
  switch (type) {
    case "INTEGER":
      if (!/^[+-]?\d+$/.test(text)) throw bad();
      return Number(text);
    case "FLOAT":
    case "NUMERIC": {
      const n = Number(text);
      if (Number.isNaN(n)) throw bad();
      return n;
    }
    case "BOOLEAN":
      if (!/^(true|false)$/i.test(text)) throw bad();
      return text.toLowerCase() === "true";
    case "TIMESTAMP": {
      const ms = parseTimestamp(text);
      if (ms === undefined) throw bad();
      return new Date(ms).toISOString();
    }
    case "DATE": {
      const date = parseDate(text);
      if (date === undefined) throw bad();
      return date;
    }
    default:
      return text;
  }
}

// ---------------------------------------------------------------------------------------------
// Dialect translation

const DUCK_TYPES: Record<string, string> = {
  STRING: "VARCHAR",
  BYTES: "BLOB",
  INTEGER: "BIGINT",
  FLOAT: "DOUBLE",
  NUMERIC: "DOUBLE",
  BIGNUMERIC: "DOUBLE",
  BOOLEAN: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
  DATETIME: "TIMESTAMP",
  DATE: "DATE",
  TIME: "TIME",
  JSON: "JSON",
  RECORD: "JSON",
  GEOGRAPHY: "VARCHAR",
};

function duckType(field: BigQueryColumnSchema): string {
  const base = DUCK_TYPES[canonicalType(field.type)] ?? "VARCHAR";
  return field.mode === "REPEATED" ? `${base}[]` : base;
}

interface TableUse {
  datasetId: string;
  tableId: string;
  /** `"dataset"."table"` in the translated text. */
  sql: string;
}

/** A statement in DuckDB's dialect, with the tables it names. */
interface Translated {
  sql: string;
  tables: TableUse[];
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Translates GoogleSQL text to DuckDB's: strings are copied as they are (double-quoted ones become
 * single-quoted), backticked paths become `"dataset"."table"`, other backticked names `"name"`.
 */
function translate(sql: string, ctx: ExecContext): Translated {
  const tables: TableUse[] = [];
  const useTable = (parts: string[]): string => {
    const project = ctx.warehouse.projectId;
    let datasetId: string;
    let tableId: string;
    if (parts.length === 3) {
      if (parts[0] !== project) throw notFound(`Not found: Project ${parts[0]}`);
      [, datasetId, tableId] = parts;
    } else if (parts.length === 2) [datasetId, tableId] = parts;
    else {
      if (!ctx.defaultDataset) {
        throw invalidQuery(`Table "${parts[0]}" must be qualified with a dataset (e.g. dataset.table).`);
      }
      datasetId = ctx.defaultDataset.datasetId;
      tableId = parts[0];
    }
    const use = { datasetId, tableId, sql: `${quoteIdent(datasetId)}.${quoteIdent(tableId)}` };
    if (!tables.some((t) => t.sql === use.sql)) tables.push(use);
    return use.sql;
  };
  let out = "";
  let code = "";
  const flush = () => {
    out += translateCode(code, ctx, useTable);
    code = "";
  };
  for (let i = 0; i < sql.length;) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      let text = "";
      while (j < sql.length && sql[j] !== ch) {
        if (sql[j] === "\\" && j + 1 < sql.length) {
          text += sql[j + 1];
          j += 2;
        } else text += sql[j++];
      }
      if (j >= sql.length) throw invalidQuery(`Syntax error: Unclosed string literal at [1:${i + 1}]`);
      flush();
      out += `'${text.replaceAll("'", "''")}'`;
      i = j + 1;
    } else if (ch === "`") {
      // One backticked path may be split into backticked parts: `p`.`d`.`t`.
      const re = /`([^`]+)`(?:\.`([^`]+)`)?(?:\.`([^`]+)`)?/y;
      re.lastIndex = i;
      const m = re.exec(sql)!;
      if (!m) throw invalidQuery(`Syntax error: Unclosed identifier literal at [1:${i + 1}]`);
      const parts = [m[1], m[2], m[3]].filter((p): p is string => p !== undefined).flatMap((p) =>
        p.split(".")
      );
      const before = (code.match(/(\w+)\s*$/)?.[1] ?? "").toUpperCase();
      const isTable = parts.length > 1 ||
        ["FROM", "JOIN", "MERGE", "INTO", "USING", "UPDATE", "TABLE"].includes(before);
      flush();
      out += isTable ? useTable(parts) : parts.map(quoteIdent).join(".");
      i = m.index + m[0].length;
    } else {
      code += ch;
      i++;
    }
  }
  flush();
  return { sql: out, tables };
}

/** Rewrites the parts of GoogleSQL outside strings and backticks that DuckDB spells differently. */
function translateCode(code: string, ctx: ExecContext, useTable: (parts: string[]) => string): string {
  return code
    // Unquoted dataset.table after a table keyword.
    .replace(
      /\b(FROM|JOIN|MERGE|INTO|USING|UPDATE|TABLE(?:\s+IF\s+EXISTS)?)(\s+)([A-Za-z_][\w-]*(?:\.[A-Za-z_]\w*){1,2})\b/gi,
      (_, keyword, space, path) => `${keyword}${space}${useTable(path.split("."))}`,
    )
    .replace(/\bMERGE\s+(?!INTO\b)/i, "MERGE INTO ")
    .replace(/\bIN\s+UNNEST\s*\(\s*(@\w+)\s*\)/gi, "IN (SELECT unnest($1))")
    .replace(/\bSAFE_CAST\s*\(/gi, "TRY_CAST(")
    .replace(
      /\bAS\s+(INT64|FLOAT64|STRING|BOOL|BYTES|NUMERIC)\b/gi,
      (_, type: string) => `AS ${DUCK_TYPES[canonicalType(type)]}`,
    )
    .replace(/\bTO_JSON_STRING\s*\(/gi, "to_json(")
    .replace(/@(\w+)/g, (_, name: string) => {
      const param = ctx.params.get(name.toLowerCase());
      if (!param) throw invalidQuery(`Query parameter '${name}' not found`);
      return `CAST($${name.toLowerCase()} AS ${duckType(param.field)})`;
    });
}

// ---------------------------------------------------------------------------------------------
// Data in and out

/** The JSON structure `from_json` reads a table's rows with (JSON and RECORD columns stay JSON text). */
function jsonStructure(schema: readonly BigQueryColumnSchema[]): string {
  const shape: Record<string, unknown> = {};
  for (const field of schema) {
    const type = duckType({ ...field, mode: "NULLABLE" });
    shape[field.name] = field.mode === "REPEATED" ? [type] : type;
  }
  return JSON.stringify([shape]);
}

async function copyIn(connection: DuckDBConnection, use: TableUse, table: StoredTable): Promise<void> {
  await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(use.datasetId)}`);
  const columns = table.schema.map((f) =>
    `${quoteIdent(f.name)} ${duckType(f)}${f.mode === "REQUIRED" ? " NOT NULL" : ""}`
  );
  await connection.run(`CREATE TABLE ${use.sql} (${columns.join(", ")})`);
  if (table.rows.length === 0) return;
  const rows = table.rows.map((row) => {
    const copy: Record<string, unknown> = {};
    for (const field of table.schema) {
      const value = row[field.name] ?? null;
      // JSON columns hold parsed values; from_json's JSON type wants them as they are.
      copy[field.name] = value;
    }
    return copy;
  });
  const names = table.schema.map((f) => quoteIdent(f.name)).join(", ");
  const insert = await connection.prepare(
    `INSERT INTO ${use.sql} (${names}) SELECT ${names} FROM (SELECT unnest(from_json($rows::JSON, '${
      jsonStructure(table.schema).replaceAll("'", "''")
    }'), recursive := true))`,
  );
  insert.bind({ rows: JSON.stringify(rows) });
  await insert.run();
}

function selectStored(schema: readonly BigQueryColumnSchema[]): string {
  return schema.map((f) => {
    const col = quoteIdent(f.name);
    const type = canonicalType(f.type);
    if (type === "TIMESTAMP" && f.mode !== "REPEATED") {
      return `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${col}`;
    }
    if (type === "DATE" && f.mode !== "REPEATED") return `CAST(${col} AS VARCHAR) AS ${col}`;
    return col;
  }).join(", ");
}

function storedValue(value: unknown, field: BigQueryColumnSchema): unknown {
  if (value === null || value === undefined) return field.mode === "REPEATED" ? [] : null;
  if (field.mode === "REPEATED") {
    return (value as unknown[]).map((v) => storedValue(v, { ...field, mode: "NULLABLE" }));
  }
  switch (canonicalType(field.type)) {
    case "INTEGER":
    case "FLOAT":
    case "NUMERIC":
      return Number(value);
    case "JSON":
    case "RECORD":
      return typeof value === "string" ? JSON.parse(value) : value;
    case "TIMESTAMP":
      return typeof value === "string" && !value.endsWith("Z")
        ? new Date(value.replace(" ", "T") + "Z").toISOString()
        : value;
    default:
      return value;
  }
}

async function readRows(
  connection: DuckDBConnection,
  from: string,
  schema: readonly BigQueryColumnSchema[],
): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(`SELECT ${selectStored(schema)} FROM ${from}`);
  return reader.getRowObjectsJson().map((row) => {
    const out: Record<string, unknown> = {};
    for (const field of schema) out[field.name] = storedValue(row[field.name], field);
    return out;
  });
}

const BIGQUERY_TYPES: [RegExp, string][] = [
  [/^(BIGINT|INTEGER|HUGEINT|SMALLINT|TINYINT|UBIGINT|UINTEGER)$/, "INTEGER"],
  [/^(DOUBLE|FLOAT|DECIMAL.*)$/, "FLOAT"],
  [/^BOOLEAN$/, "BOOLEAN"],
  [/^TIMESTAMP.*$/, "TIMESTAMP"],
  [/^DATE$/, "DATE"],
  [/^JSON$/, "JSON"],
];

function bigQueryFieldOf(name: string, duckTypeName: string): BigQueryColumnSchema {
  const repeated = duckTypeName.endsWith("[]");
  const base = repeated ? duckTypeName.slice(0, -2) : duckTypeName;
  const type = BIGQUERY_TYPES.find(([re]) => re.test(base))?.[1] ?? "STRING";
  return { name, type, mode: repeated ? "REPEATED" : "NULLABLE" };
}

// ---------------------------------------------------------------------------------------------
// Billing

/** BigQuery's logical size of one value: STRING 2 + UTF-8 bytes, 8 for numbers, dates and times, 1 for BOOL. */
function valueBytes(value: unknown, field: BigQueryColumnSchema): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) {
    return value.reduce((sum, v) => sum + valueBytes(v, { ...field, mode: "NULLABLE" }), 0);
  }
  switch (canonicalType(field.type)) {
    case "STRING":
      return 2 + Buffer.byteLength(String(value), "utf8");
    case "BOOLEAN":
      return 1;
    case "JSON":
    case "RECORD":
      return Buffer.byteLength(JSON.stringify(value), "utf8");
    default:
      return 8;
  }
}

const NULL_PARTITION = "__NULL__";
const WHOLE_TABLE = "__UNPARTITIONED__";

function partitionOf(table: StoredTable, row: Record<string, unknown>): string {
  const field = table.timePartitioning?.field;
  if (!field) return WHOLE_TABLE;
  const value = row[field];
  return value === null || value === undefined ? NULL_PARTITION : String(value).slice(0, 10);
}

function bytesOf(
  table: StoredTable,
  columns: readonly BigQueryColumnSchema[],
  partitions?: ReadonlySet<string>,
): number {
  let total = 0;
  for (const row of table.rows) {
    if (partitions && !partitions.has(partitionOf(table, row))) continue;
    for (const field of columns) total += valueBytes(row[field.name], field);
  }
  return total;
}

/** The partitions a constant filter `alias.column IN UNNEST(@param)` [`OR alias.column IS NULL`] keeps. */
function prunedPartitions(
  sql: string,
  table: StoredTable,
  params: Map<string, QueryParam>,
): Set<string> | undefined {
  const field = table.timePartitioning?.field;
  if (!field) return undefined;
  const column = `\`?${field}\`?`;
  const m = new RegExp(`\\b\\w+\\.${column}\\s+IN\\s+UNNEST\\s*\\(\\s*@(\\w+)\\s*\\)`, "i").exec(sql);
  if (!m) return undefined;
  const values = params.get(m[1].toLowerCase())?.value;
  if (!Array.isArray(values)) return undefined;
  const kept = new Set(values.map((v) => String(v).slice(0, 10)));
  if (new RegExp(`\\b\\w+\\.${column}\\s+IS\\s+NULL`, "i").test(sql)) kept.add(NULL_PARTITION);
  return kept;
}

// ---------------------------------------------------------------------------------------------
// Statements

const STATEMENT_TYPES: [RegExp, string][] = [
  [/^\s*(SELECT|WITH)\b/i, "SELECT"],
  [/^\s*MERGE\b/i, "MERGE"],
  [/^\s*INSERT\b/i, "INSERT"],
  [/^\s*UPDATE\b/i, "UPDATE"],
  [/^\s*DELETE\b/i, "DELETE"],
  [/^\s*TRUNCATE\s+TABLE\b/i, "TRUNCATE_TABLE"],
  [/^\s*DROP\s+TABLE\b/i, "DROP_TABLE"],
];

function duckError(error: unknown, sql: string): MockBigQueryError {
  if (error instanceof MockBigQueryError) return error;
  const message = (error as Error).message ?? String(error);
  const required = /NOT NULL constraint failed: [^.]+\.(\w+)/.exec(message);
  if (required) return invalidQuery(`Required field ${required[1]} cannot be null`);
  return invalidQuery(`${message.split("\n")[0]}; statement: ${sql.slice(0, 80)}`);
}

/**
 * Runs one GoogleSQL statement against the warehouse.
 *
 * @param sql The statement (`useLegacySql: false`).
 * @param ctx The warehouse, default dataset, parameters and bytes cap.
 * @returns What it did: rows and schema for a SELECT, counts and the modified partitions for DML.
 * @throws {MockBigQueryError} `invalidQuery` for what BigQuery would refuse, `notFound` for a missing
 *   table, `bytesBilledLimitExceeded` past `maximumBytesBilled`.
 */
export async function executeStatement(sql: string, ctx: ExecContext): Promise<ExecResult> {
  const statementType = STATEMENT_TYPES.find(([re]) => re.test(sql))?.[1];
  if (!statementType) throw invalidQuery(`Statement not supported by the BigQuery mock: ${sql.slice(0, 80)}`);
  const translated = translate(sql, ctx);
  if (statementType === "DROP_TABLE") {
    const [use] = translated.tables;
    if (!use) throw invalidQuery("Syntax error: Expected a table name after DROP TABLE");
    if (ctx.warehouse.findTable(use.datasetId, use.tableId)) {
      ctx.warehouse.deleteTable(use.datasetId, use.tableId);
    } else if (!/\bIF\s+EXISTS\b/i.test(sql)) {
      throw notFound(`Not found: Table ${ctx.warehouse.projectId}:${use.datasetId}.${use.tableId}`);
    }
    return { statementType, bytesProcessed: 0, bytesBilled: 0, ddlTarget: use };
  }
  const stored = translated.tables.map((use) => ({
    use,
    table: ctx.warehouse.table(use.datasetId, use.tableId),
  }));
  const dml = statementType !== "SELECT";
  const target = dml ? stored[0] : undefined;
  const mutates = statementType === "UPDATE" || statementType === "DELETE" ||
    statementType === "TRUNCATE_TABLE" ||
    (statementType === "MERGE" && /\bTHEN\s+(UPDATE|DELETE)\b/i.test(sql));

  // Billing before running, as BigQuery estimates: referenced columns of the scanned partitions.
  const words = new Set((sql.match(/\w+/g) ?? []).map((w) => w.toLowerCase()));
  const star = /\*/.test(sql.replace(/COUNT\s*\(\s*\*\s*\)/gi, ""));
  let bytesProcessed = 0;
  let bytesBilled = 0;
  for (const { table } of stored) {
    const referenced = star ? table.schema : table.schema.filter((f) => words.has(f.name.toLowerCase()));
    // BigQuery prunes by a constant filter on the partition column: a DML target's, or a one-table SELECT's.
    const prunable = table === target?.table || (statementType === "SELECT" && stored.length === 1);
    const scanned = prunable ? prunedPartitions(sql, table, ctx.params) : undefined;
    const bytes = bytesOf(table, referenced, scanned);
    bytesProcessed += bytes;
    bytesBilled += Math.max(MIN_BYTES_PER_TABLE, bytes);
  }

  const connection = await (shared ??= DuckDBInstance.create(":memory:")).then((db) => db.connect());
  // Each statement gets its own in-memory database on the shared instance (creating an instance per
  // statement costs ~50 ms; attaching one ~2 ms), so concurrent statements never see each other's tables.
  const catalog = `stmt_${++statements}`;
  await connection.run(`ATTACH ':memory:' AS ${catalog}`);
  await connection.run(`USE ${catalog}`);
  try {
    for (const { use, table } of stored) await copyIn(connection, use, table);
    const prepared = await connection.prepare(translated.sql).catch((e) => {
      throw duckError(e, sql);
    });
    const values: Record<string, unknown> = {};
    for (const [name, param] of ctx.params) {
      if (!new RegExp(`\\$${name}\\b`).test(translated.sql)) continue;
      values[name] = Array.isArray(param.value) ? listValue(param.value as never[]) : param.value;
    }
    prepared.bind(values as never);
    if (!dml) {
      const reader = await prepared.runAndReadAll().catch((e) => {
        throw duckError(e, sql);
      });
      const names = reader.columnNames().map((n, i) =>
        /^[A-Za-z_]\w*$/.test(n) && !/[()]/.test(n) ? n : `f${i}_`
      );
      const schema = reader.columnTypes().map((t, i) => bigQueryFieldOf(names[i], t.toString()));
      const rows = reader.getRowsJson().map((row) => row.map((v, i) => storedValue(v, schema[i])));
      checkBilled(ctx, bytesBilled);
      return { statementType, schema, rows, bytesProcessed, bytesBilled };
    }
    const { use, table } = target!;
    if (statementType === "MERGE") await checkOneSourceRow(connection, translated.sql, sql, values);
    // RETURNING says which rows each clause wrote (an UPDATE to identical values is still a write,
    // as in BigQuery) and the partition each lives in.
    const field = table.timePartitioning?.field;
    const partition = field ? `CAST(${quoteIdent(field)} AS VARCHAR)` : "NULL";
    const action = statementType === "MERGE" ? "merge_action" : `'${statementType}'`;
    const written = statementType === "TRUNCATE_TABLE"
      ? table.rows.map((row) => ["DELETE", partitionOf(table, row)])
      : await connection.prepare(
        `${translated.sql.replace(/;\s*$/, "")} RETURNING ${action} AS __action, ${partition} AS __partition`,
      ).then(async (returning) => {
        returning.bind(values as never);
        return (await returning.runAndReadAll()).getRowsJson().map(([a, p]) => [
          String(a),
          !field ? WHOLE_TABLE : p === null ? NULL_PARTITION : String(p).slice(0, 10),
        ]);
      }).catch((e) => {
        throw duckError(e, sql);
      });
    if (statementType === "TRUNCATE_TABLE") await connection.run(translated.sql);
    const counts = { inserted: 0, updated: 0, deleted: 0 };
    const partitions = new Set<string>();
    for (const [kind, where] of written) {
      if (kind === "INSERT") counts.inserted++;
      else if (kind === "DELETE") counts.deleted++;
      else counts.updated++;
      partitions.add(where);
    }
    if (mutates) {
      // UPDATE/DELETE clauses bill every column of the modified partitions (the whole table when
      // unpartitioned and anything was modified), as the table stood before the statement.
      const changedOld = counts.updated + counts.deleted > 0;
      const rewritten = !changedOld ? 0 : bytesOf(table, table.schema, field ? partitions : undefined);
      bytesProcessed += rewritten;
      bytesBilled += rewritten;
    }
    checkBilled(ctx, bytesBilled);
    const rows = await readRows(connection, use.sql, table.schema);
    return {
      statementType,
      dml: counts,
      bytesProcessed,
      bytesBilled,
      modified: { datasetId: use.datasetId, tableId: use.tableId, partitions },
      apply() {
        table.rows = rows;
        table.lastModifiedTime = ctx.warehouse.now();
      },
    };
  } finally {
    await connection.run(`USE memory`).then(() => connection.run(`DETACH ${catalog}`)).catch(() => {});
    connection.closeSync();
  }
}

function checkBilled(ctx: ExecContext, billed: number): void {
  if (ctx.maximumBytesBilled !== undefined && billed > ctx.maximumBytesBilled) {
    throw new MockBigQueryError(
      400,
      "bytesBilledLimitExceeded",
      `Query exceeded limit for bytes billed: ${ctx.maximumBytesBilled}. ${billed} or higher required.`,
    );
  }
}

/** Fails like BigQuery when a target row matches more than one source row of a MERGE that updates. */
async function checkOneSourceRow(
  connection: DuckDBConnection,
  translated: string,
  original: string,
  values: Record<string, unknown>,
): Promise<void> {
  const m =
    /^\s*MERGE\s+INTO\s+(\S+)\s+(?:AS\s+)?(\w+)\s+USING\s+([\s\S]+?)\s+(?:AS\s+)?(\w+)\s+ON\s+([\s\S]+?)\s+WHEN\s/i
      .exec(translated);
  if (!m || !/\bWHEN\s+MATCHED\b/i.test(translated)) return;
  const [, target, t, source, s, on] = m;
  const check =
    `SELECT count(*) AS n FROM (SELECT ${t}.rowid FROM ${target} ${t} JOIN ${source} ${s} ON ${on} ` +
    `GROUP BY ${t}.rowid HAVING count(*) > 1)`;
  let n = 0;
  try {
    const prepared = await connection.prepare(check);
    const used = Object.fromEntries(Object.entries(values).filter(([name]) => check.includes(`$${name}`)));
    prepared.bind(used as never);
    n = Number((await prepared.runAndReadAll()).getRowsJson()[0]?.[0] ?? 0);
  } catch {
    return; // a shape the check cannot restate: the statement itself reports any error
  }
  if (n > 0) {
    throw invalidQuery(
      `UPDATE/MERGE must match at most one source row for each target row; statement: ${
        original.slice(0, 80)
      }`,
    );
  }
}
