/**
 * Runs parsed statements against the mock's warehouse with GoogleSQL semantics where they matter to
 * ccpipe: three-valued logic, MERGE that updates matched rows and inserts unmatched ones (and fails
 * when a target row matches twice), named parameters, and the `maximumBytesBilled` check.
 *
 * @module
 */
import { invalidQuery, MockBigQueryError, notFound } from "./_bigquery_errors.ts";
import {
  type Expr,
  parseStatement,
  type Select,
  type Source,
  type Statement,
  type TableRef,
} from "./_bigquery_sql_parse.ts";
import {
  assignValue,
  type BigQueryColumnSchema,
  canonicalType,
  compareValues,
  findField,
  normalizeSchema,
  parseDate,
  parseTimestamp,
  sqlTypeOf,
} from "./_bigquery_values.ts";
import { rowsBytes, type StoredTable, type Warehouse } from "./_bigquery_warehouse.ts";

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
  bytesProcessed: number;
  ddlTarget?: { datasetId: string; tableId: string };
}

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
    case "NUMERIC":
    case "BIGNUMERIC": {
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
    case "JSON":
      return JSON.parse(text);
    default:
      return text;
  }
}

// Evaluation scope: one binding per table in play (target, source, FROM table).
interface Binding {
  names: string[];
  schema: BigQueryColumnSchema[];
  row: Record<string, unknown> | null;
}
type Scope = Binding[];

const AGGREGATES = new Set([
  "COUNT",
  "COUNTIF",
  "SUM",
  "MIN",
  "MAX",
  "AVG",
  "ANY_VALUE",
  "LOGICAL_OR",
  "LOGICAL_AND",
  "ARRAY_AGG",
]);

function hasAggregate(e: Expr | undefined): boolean {
  if (!e) return false;
  switch (e.k) {
    case "call":
      return AGGREGATES.has(e.name) || e.args.some(hasAggregate);
    case "bin":
      return hasAggregate(e.l) || hasAggregate(e.r);
    case "not":
    case "neg":
    case "isnull":
    case "isbool":
    case "cast":
      return hasAggregate(e.e);
    case "in":
      return hasAggregate(e.e) || (e.list ?? []).some(hasAggregate);
    case "between":
      return hasAggregate(e.e) || hasAggregate(e.lo) || hasAggregate(e.hi);
    case "like":
      return hasAggregate(e.e) || hasAggregate(e.pattern);
    case "case":
      return hasAggregate(e.subject) || hasAggregate(e.else) ||
        e.whens.some(([a, b]) => hasAggregate(a) || hasAggregate(b));
    case "array":
      return e.items.some(hasAggregate);
    default:
      return false;
  }
}

function truthy(v: unknown): boolean {
  return v === true;
}

function keyOf(v: unknown): string {
  return JSON.stringify(v);
}

function likeToRegExp(pattern: string): RegExp {
  let out = "";
  for (const c of pattern) {
    if (c === "%") out += "[\\s\\S]*";
    else if (c === "_") out += "[\\s\\S]";
    else out += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

class Executor {
  #ctx: ExecContext;
  #resolved = new WeakMap<Expr, { index: number; key: string }>();
  #subqueries = new WeakMap<Select, Set<string>>();
  #now: number;

  constructor(ctx: ExecContext) {
    this.#ctx = ctx;
    this.#now = ctx.warehouse.now();
  }

  // --- tables ---------------------------------------------------------------------------------

  ref(ref: TableRef): { datasetId: string; tableId: string } {
    const { parts } = ref;
    const projectId = this.#ctx.warehouse.projectId;
    if (parts.length === 3) {
      if (parts[0] !== projectId) throw notFound(`Not found: Dataset ${parts[0]}:${parts[1]}`);
      return { datasetId: parts[1], tableId: parts[2] };
    }
    if (parts.length === 2) return { datasetId: parts[0], tableId: parts[1] };
    const dataset = this.#ctx.defaultDataset;
    if (!dataset) {
      throw invalidQuery(`Table "${parts[0]}" must be qualified with a dataset (e.g. dataset.table).`);
    }
    return { datasetId: dataset.datasetId, tableId: parts[0] };
  }

  table(ref: TableRef): StoredTable {
    const { datasetId, tableId } = this.ref(ref);
    const wh = this.#ctx.warehouse;
    wh.dataset(datasetId);
    const table = wh.findTable(datasetId, tableId);
    if (!table) {
      throw notFound(`Not found: Table ${wh.projectId}:${datasetId}.${tableId} was not found in location US`);
    }
    return table;
  }

  /** Every table a statement reads, for the bytes estimate. */
  scanned(stmt: Statement): StoredTable[] {
    const out = new Set<StoredTable>();
    const visitSelect = (s: Select) => {
      visitSource(s.from);
      for (const e of [s.where, s.having, ...(s.groupBy ?? [])]) visitExpr(e);
      if (s.items !== "*") { for (const item of s.items) visitExpr(item.expr); }
    };
    const visitSource = (src: Source | undefined) => {
      if (src?.table) out.add(this.table(src.table));
      if (src?.sub) visitSelect(src.sub);
    };
    const visitExpr = (e: Expr | undefined): void => {
      if (!e) return;
      if (e.k === "in" && e.sub) visitSelect(e.sub);
      if (e.k === "bin") {
        visitExpr(e.l);
        visitExpr(e.r);
      }
      if (e.k === "not") visitExpr(e.e);
      if (e.k === "in") visitExpr(e.e);
    };
    switch (stmt.kind) {
      case "select":
        visitSelect(stmt);
        break;
      case "merge":
        out.add(this.table(stmt.target));
        visitSource(stmt.source);
        break;
      case "delete":
        out.add(this.table(stmt.table));
        visitExpr(stmt.where);
        break;
      case "insert":
        if (stmt.select) visitSelect(stmt.select);
        break;
    }
    let bytes = 0;
    for (const table of out) bytes += rowsBytes(table.rows);
    this.#bytes = bytes;
    return [...out];
  }

  #bytes = 0;
  get bytes(): number {
    return this.#bytes;
  }

  // --- expressions ----------------------------------------------------------------------------

  resolve(e: Expr & { k: "col" }, scope: Scope): { index: number; key: string } {
    const cached = this.#resolved.get(e);
    if (cached) return cached;
    let found: { index: number; key: string } | undefined;
    if (e.qual !== undefined) {
      const qual = e.qual.toLowerCase();
      const index = scope.findIndex((b) => b.names.includes(qual));
      if (index < 0) throw invalidQuery(`Unrecognized name: ${e.qual}`);
      const field = findField(scope[index].schema, e.name);
      if (!field) throw invalidQuery(`Name ${e.name} not found inside ${e.qual}`);
      found = { index, key: field.name };
    } else {
      for (let index = 0; index < scope.length; index++) {
        const field = findField(scope[index].schema, e.name);
        if (!field) continue;
        if (found) throw invalidQuery(`Column name ${e.name} is ambiguous`);
        found = { index, key: field.name };
      }
      if (!found) throw invalidQuery(`Unrecognized name: ${e.name}`);
    }
    this.#resolved.set(e, found);
    return found;
  }

  param(name: string): QueryParam {
    const p = this.#ctx.params.get(name.toLowerCase());
    if (!p) throw invalidQuery(`Query parameter '${name}' not found`);
    return p;
  }

  /** Evaluates `e`; `group` holds the scopes of an aggregation group, `scope` is its representative. */
  eval(e: Expr, scope: Scope, group?: Scope[]): unknown {
    switch (e.k) {
      case "lit":
        return e.v;
      case "param":
        return this.param(e.name).value;
      case "col": {
        const { index, key } = this.resolve(e, scope);
        const row = scope[index].row;
        return row === null ? null : row[key] ?? null;
      }
      case "star":
        throw invalidQuery('Syntax error: Unexpected "*"');
      case "not": {
        const v = this.eval(e.e, scope, group);
        return v === null ? null : !truthy(v);
      }
      case "neg": {
        const v = this.eval(e.e, scope, group);
        return v === null ? null : -(v as number);
      }
      case "isnull": {
        const v = this.eval(e.e, scope, group);
        return (v === null) !== e.not;
      }
      case "isbool": {
        const v = this.eval(e.e, scope, group);
        return (v === e.v) !== e.not;
      }
      case "bin":
        return this.binary(e, scope, group);
      case "in": {
        const v = this.eval(e.e, scope, group);
        if (v === null) return null;
        let found = false;
        let sawNull = false;
        if (e.sub) {
          found = this.subquery(e.sub).has(keyOf(v));
        } else {
          const items = e.unnest
            ? (this.eval(e.unnest, scope, group) as unknown[] | null) ?? []
            : e.list!.map((x) => this.eval(x, scope, group));
          for (const item of items) {
            if (item === null) sawNull = true;
            else if (compareValues(v, item, "=") === 0) found = true;
          }
        }
        if (found) return !e.not;
        return sawNull ? null : e.not;
      }
      case "between": {
        const v = this.eval(e.e, scope, group);
        const lo = this.eval(e.lo, scope, group);
        const hi = this.eval(e.hi, scope, group);
        if (v === null || lo === null || hi === null) return null;
        const inside = compareValues(v, lo, ">=") >= 0 && compareValues(v, hi, "<=") <= 0;
        return inside !== e.not;
      }
      case "like": {
        const v = this.eval(e.e, scope, group);
        const p = this.eval(e.pattern, scope, group);
        if (v === null || p === null) return null;
        return likeToRegExp(String(p)).test(String(v)) !== e.not;
      }
      case "case": {
        const subject = e.subject ? this.eval(e.subject, scope, group) : undefined;
        for (const [cond, value] of e.whens) {
          const c = this.eval(cond, scope, group);
          const hit = e.subject
            ? subject !== null && c !== null && compareValues(subject, c, "=") === 0
            : truthy(c);
          if (hit) return this.eval(value, scope, group);
        }
        return e.else ? this.eval(e.else, scope, group) : null;
      }
      case "cast":
        return this.cast(this.eval(e.e, scope, group), e.type, e.safe);
      case "array":
        return e.items.map((x) => this.eval(x, scope, group));
      case "call":
        return AGGREGATES.has(e.name) ? this.aggregate(e, group) : this.call(e, scope, group);
    }
  }

  binary(e: Expr & { k: "bin" }, scope: Scope, group?: Scope[]): unknown {
    if (e.op === "AND" || e.op === "OR") {
      const l = this.eval(e.l, scope, group);
      if (e.op === "AND" && l === false) return false;
      if (e.op === "OR" && l === true) return true;
      const r = this.eval(e.r, scope, group);
      if (e.op === "AND") return r === false ? false : l === null || r === null ? null : true;
      return r === true ? true : l === null || r === null ? null : false;
    }
    const l = this.eval(e.l, scope, group);
    const r = this.eval(e.r, scope, group);
    if (l === null || r === null) return null;
    switch (e.op) {
      case "=":
        return compareValues(l, r, "=") === 0;
      case "!=":
        return compareValues(l, r, "!=") !== 0;
      case "<":
        return compareValues(l, r, "<") < 0;
      case ">":
        return compareValues(l, r, ">") > 0;
      case "<=":
        return compareValues(l, r, "<=") <= 0;
      case ">=":
        return compareValues(l, r, ">=") >= 0;
      case "||":
        return String(l) + String(r);
    }
    if (typeof l !== "number" || typeof r !== "number") {
      throw invalidQuery(
        `No matching signature for operator ${e.op} for argument types: ${sqlTypeOf(l)}, ${sqlTypeOf(r)}`,
      );
    }
    switch (e.op) {
      case "+":
        return l + r;
      case "-":
        return l - r;
      case "*":
        return l * r;
      default:
        if (r === 0) throw invalidQuery(`division by zero: ${l} / ${r}`);
        return l / r;
    }
  }

  subquery(sub: Select): Set<string> {
    let set = this.#subqueries.get(sub);
    if (!set) {
      const result = this.select(sub);
      if (result.schema.length !== 1) throw invalidQuery("IN subquery must return exactly one column");
      set = new Set(result.rows.filter((r) => r[0] !== null).map((r) => keyOf(r[0])));
      this.#subqueries.set(sub, set);
    }
    return set;
  }

  aggregate(e: Expr & { k: "call" }, group: Scope[] | undefined): unknown {
    if (!group) throw invalidQuery(`Aggregate function ${e.name} not allowed here`);
    const arg = e.args[0];
    if (e.name === "COUNT" && arg?.k === "star") return group.length;
    if (!arg) throw invalidQuery(`Number of arguments does not match for aggregate function ${e.name}`);
    let values = group.map((s) => this.eval(arg, s));
    if (e.name === "COUNTIF") return values.filter(truthy).length;
    if (e.name === "ARRAY_AGG") return values;
    values = values.filter((v) => v !== null);
    if (e.distinct) values = [...new Map(values.map((v) => [keyOf(v), v])).values()];
    switch (e.name) {
      case "COUNT":
        return values.length;
      case "SUM":
      case "AVG": {
        if (values.length === 0) return null;
        let sum = 0;
        for (const v of values) {
          if (typeof v !== "number") {
            throw invalidQuery(
              `No matching signature for aggregate function ${e.name} for argument types: ${sqlTypeOf(v)}`,
            );
          }
          sum += v;
        }
        return e.name === "SUM" ? sum : sum / values.length;
      }
      case "MIN":
      case "MAX": {
        let best: unknown = null;
        for (const v of values) {
          if (best === null) best = v;
          else {
            const c = compareValues(v, best, e.name === "MIN" ? "<" : ">");
            if (e.name === "MIN" ? c < 0 : c > 0) best = v;
          }
        }
        return best;
      }
      case "ANY_VALUE":
        return values[0] ?? null;
      case "LOGICAL_OR":
        return values.length === 0 ? null : values.some(truthy);
      case "LOGICAL_AND":
        return values.length === 0 ? null : values.every(truthy);
    }
    throw invalidQuery(`Function not found: ${e.name}`);
  }

  call(e: Expr & { k: "call" }, scope: Scope, group?: Scope[]): unknown {
    const args = e.args.map((a) => this.eval(a, scope, group));
    const need = (n: number) => {
      if (args.length !== n) {
        throw invalidQuery(`No matching signature for function ${e.name} with ${args.length} argument(s)`);
      }
    };
    switch (e.name) {
      case "COALESCE":
        return args.find((a) => a !== null) ?? null;
      case "IFNULL":
        need(2);
        return args[0] ?? args[1];
      case "IF":
        need(3);
        return truthy(args[0]) ? args[1] : args[2];
      case "NULLIF":
        need(2);
        return args[0] !== null && args[1] !== null && compareValues(args[0], args[1], "=") === 0
          ? null
          : args[0];
      case "ARRAY_LENGTH":
        need(1);
        if (args[0] === null) return null;
        if (!Array.isArray(args[0])) {
          throw invalidQuery(
            `No matching signature for function ARRAY_LENGTH for argument types: ${sqlTypeOf(args[0])}`,
          );
        }
        return args[0].length;
      case "DATE": {
        if (args.length === 3) {
          if (args.some((a) => a === null)) return null;
          return parseDate(`${args[0]}-${args[1]}-${args[2]}`) ?? null;
        }
        need(1);
        if (args[0] === null) return null;
        const text = String(args[0]);
        const date = parseDate(text);
        if (date) return date;
        const ms = parseTimestamp(text);
        if (ms === undefined) throw invalidQuery(`Could not cast literal "${text}" to type DATE`);
        return new Date(ms).toISOString().slice(0, 10);
      }
      case "TIMESTAMP": {
        need(1);
        if (args[0] === null) return null;
        const ms = parseTimestamp(String(args[0]));
        if (ms === undefined) throw invalidQuery(`Invalid timestamp: '${args[0]}'`);
        return new Date(ms).toISOString();
      }
      case "CURRENT_TIMESTAMP":
        return new Date(this.#now).toISOString();
      case "CURRENT_DATE":
        return new Date(this.#now).toISOString().slice(0, 10);
      case "GREATEST":
      case "LEAST": {
        if (args.some((a) => a === null)) return null;
        let best = args[0];
        for (const a of args.slice(1)) {
          const c = compareValues(a, best, e.name === "GREATEST" ? ">" : "<");
          if (e.name === "GREATEST" ? c > 0 : c < 0) best = a;
        }
        return best ?? null;
      }
      case "LOWER":
      case "UPPER":
        need(1);
        if (args[0] === null) return null;
        return e.name === "LOWER" ? String(args[0]).toLowerCase() : String(args[0]).toUpperCase();
      case "LENGTH":
      case "CHAR_LENGTH":
        need(1);
        return args[0] === null ? null : [...String(args[0])].length;
      case "CONCAT":
        return args.some((a) => a === null) ? null : args.map(String).join("");
      case "STARTS_WITH":
        need(2);
        return args.some((a) => a === null) ? null : String(args[0]).startsWith(String(args[1]));
      case "TO_JSON_STRING":
        need(1);
        return JSON.stringify(args[0]);
      case "ABS":
        need(1);
        return args[0] === null ? null : Math.abs(args[0] as number);
    }
    throw invalidQuery(`Function not found: ${e.name}`);
  }

  cast(v: unknown, type: string, safe: boolean): unknown {
    if (v === null) return null;
    const target = canonicalType(type);
    const fail = () => {
      if (safe) return null;
      throw invalidQuery(`Bad ${target} value: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    };
    switch (target) {
      case "STRING":
        return typeof v === "object" ? JSON.stringify(v) : String(v);
      case "INTEGER": {
        if (typeof v === "number") return Math.sign(v) * Math.round(Math.abs(v));
        if (typeof v === "boolean") return v ? 1 : 0;
        return /^[+-]?\d+$/.test(String(v).trim()) ? Number(v) : fail();
      }
      case "FLOAT":
      case "NUMERIC": {
        const n = Number(v);
        return typeof v === "boolean" || Number.isNaN(n) ? fail() : n;
      }
      case "BOOLEAN":
        if (typeof v === "boolean") return v;
        if (typeof v === "number") return v !== 0;
        return /^(true|false)$/i.test(String(v)) ? String(v).toLowerCase() === "true" : fail();
      case "DATE": {
        const text = String(v);
        const ms = parseTimestamp(text);
        return parseDate(text) ?? (ms === undefined ? fail() : new Date(ms).toISOString().slice(0, 10));
      }
      case "TIMESTAMP": {
        const ms = parseTimestamp(String(v));
        return ms === undefined ? fail() : new Date(ms).toISOString();
      }
    }
    throw invalidQuery(`Casting to ${type} is not supported by the BigQuery mock`);
  }

  /** The column type an expression produces. */
  typeOf(e: Expr, scope: Scope): BigQueryColumnSchema {
    const t = (type: string): BigQueryColumnSchema => ({ name: "", type, mode: "NULLABLE" });
    switch (e.k) {
      case "lit":
        if (typeof e.v === "number") return t(Number.isInteger(e.v) ? "INTEGER" : "FLOAT");
        if (typeof e.v === "boolean") return t("BOOLEAN");
        if (typeof e.v === "string") return t("STRING");
        return t("INTEGER");
      case "param":
        return { ...this.param(e.name).field };
      case "col": {
        const { index, key } = this.resolve(e, scope);
        const field = findField(scope[index].schema, key)!;
        return { ...field };
      }
      case "call":
        return this.callType(e, scope);
      case "cast":
        return t(canonicalType(e.type));
      case "bin":
        if (["+", "-", "*"].includes(e.op)) {
          const l = this.typeOf(e.l, scope);
          const r = this.typeOf(e.r, scope);
          return t(l.type === "INTEGER" && r.type === "INTEGER" ? "INTEGER" : "FLOAT");
        }
        if (e.op === "/") return t("FLOAT");
        if (e.op === "||") return t("STRING");
        return t("BOOLEAN");
      case "neg":
        return this.typeOf(e.e, scope);
      case "case":
        return this.firstTyped([...e.whens.map(([, v]) => v), ...(e.else ? [e.else] : [])], scope);
      case "array":
        return { ...this.firstTyped(e.items, scope), mode: "REPEATED" };
      default:
        return t("BOOLEAN");
    }
  }

  callType(e: Expr & { k: "call" }, scope: Scope): BigQueryColumnSchema {
    const t = (type: string): BigQueryColumnSchema => ({ name: "", type, mode: "NULLABLE" });
    switch (e.name) {
      case "COUNT":
      case "COUNTIF":
      case "ARRAY_LENGTH":
      case "LENGTH":
      case "CHAR_LENGTH":
        return t("INTEGER");
      case "AVG":
        return t("FLOAT");
      case "DATE":
      case "CURRENT_DATE":
        return t("DATE");
      case "TIMESTAMP":
      case "CURRENT_TIMESTAMP":
        return t("TIMESTAMP");
      case "LOGICAL_OR":
      case "LOGICAL_AND":
      case "STARTS_WITH":
        return t("BOOLEAN");
      case "LOWER":
      case "UPPER":
      case "CONCAT":
      case "TO_JSON_STRING":
        return t("STRING");
      case "ARRAY_AGG":
        return { ...this.typeOf(e.args[0], scope), mode: "REPEATED" };
      case "IF":
        return this.firstTyped(e.args.slice(1), scope);
      case "SUM": {
        const inner = this.typeOf(e.args[0], scope);
        return t(inner.type === "INTEGER" ? "INTEGER" : "FLOAT");
      }
      default:
        return this.firstTyped(e.args, scope);
    }
  }

  firstTyped(args: Expr[], scope: Scope): BigQueryColumnSchema {
    const typed = args.find((a) => !(a.k === "lit" && a.v === null));
    return typed ? this.typeOf(typed, scope) : { name: "", type: "INTEGER", mode: "NULLABLE" };
  }

  // --- statements -----------------------------------------------------------------------------

  source(src: Source): { names: string[]; schema: BigQueryColumnSchema[]; rows: Record<string, unknown>[] } {
    if (src.table) {
      const table = this.table(src.table);
      const names = [table.tableId.toLowerCase()];
      if (src.alias) names.unshift(src.alias.toLowerCase());
      return { names, schema: table.schema, rows: table.rows };
    }
    const result = this.select(src.sub!);
    const rows = result.rows.map((r) => Object.fromEntries(result.schema.map((f, i) => [f.name, r[i]])));
    return { names: src.alias ? [src.alias.toLowerCase()] : [], schema: result.schema, rows };
  }

  select(sel: Select): { schema: BigQueryColumnSchema[]; rows: unknown[][] } {
    const src = sel.from ? this.source(sel.from) : { names: [], schema: [], rows: [{}] };
    const scopeOf = (
      row: Record<string, unknown> | null,
    ): Scope => [{ names: src.names, schema: src.schema, row }];
    let scopes = src.rows.map((row) => scopeOf(row));
    if (sel.where) scopes = scopes.filter((s) => truthy(this.eval(sel.where!, s)));
    const items = sel.items === "*"
      ? src.schema.map((f) => ({ expr: { k: "col", name: f.name } as Expr, alias: f.name }))
      : sel.items;
    let unnamed = 0;
    const shape = scopeOf(null);
    const schema = items.map((item) => {
      const type = this.typeOf(item.expr, shape);
      const name = item.alias ?? (item.expr.k === "col" ? item.expr.name : `f${unnamed++}_`);
      return { ...type, name, ...(type.mode === "REQUIRED" ? { mode: "NULLABLE" as const } : {}) };
    });
    const aggregated = sel.groupBy !== undefined || sel.having !== undefined ||
      items.some((i) => hasAggregate(i.expr));
    let produced: { values: unknown[]; scope: Scope; group?: Scope[] }[];
    if (aggregated) {
      const groups = new Map<string, Scope[]>();
      const groupBy = sel.groupBy;
      if (!groupBy) groups.set("", scopes);
      for (const s of groupBy ? scopes : []) {
        const key = keyOf(groupBy!.map((g) => this.eval(g, s)));
        const list = groups.get(key);
        if (list) list.push(s);
        else groups.set(key, [s]);
      }
      produced = [];
      for (const group of groups.values()) {
        const scope = group[0] ?? shape;
        if (sel.having && !truthy(this.eval(sel.having, scope, group))) continue;
        produced.push({ values: items.map((i) => this.eval(i.expr, scope, group)), scope, group });
      }
    } else {
      produced = scopes.map((scope) => ({ values: items.map((i) => this.eval(i.expr, scope)), scope }));
    }
    if (sel.distinct) {
      produced = [...new Map(produced.map((p) => [keyOf(p.values), p])).values()];
    }
    if (sel.orderBy) {
      const keys = produced.map((p) =>
        sel.orderBy!.map(({ expr }) => {
          if (expr.k === "col" && !expr.qual) {
            const index = schema.findIndex((f) => f.name.toLowerCase() === expr.name.toLowerCase());
            if (index >= 0) return p.values[index];
          }
          if (expr.k === "lit" && typeof expr.v === "number") return p.values[expr.v - 1];
          return this.eval(expr, p.scope, p.group);
        })
      );
      const order = produced.map((_, i) => i);
      order.sort((a, b) => {
        for (let k = 0; k < sel.orderBy!.length; k++) {
          const x = keys[a][k];
          const y = keys[b][k];
          // NULLs sort first ascending, last descending, as in BigQuery.
          const c = x === null ? (y === null ? 0 : -1) : y === null ? 1 : compareValues(x, y, "<");
          if (c !== 0) return sel.orderBy![k].desc ? -c : c;
        }
        return a - b;
      });
      produced = order.map((i) => produced[i]);
    }
    if (sel.limit !== undefined) produced = produced.slice(0, sel.limit);
    return { schema, rows: produced.map((p) => p.values) };
  }

  merge(stmt: Statement & { kind: "merge" }): ExecResult {
    const target = this.table(stmt.target);
    const source = this.source(stmt.source);
    const targetNames = [target.tableId.toLowerCase()];
    if (stmt.targetAlias) targetNames.unshift(stmt.targetAlias.toLowerCase());
    const targetName = stmt.targetAlias ?? target.tableId;
    const scope = (t: Record<string, unknown> | null, s: Record<string, unknown> | null): Scope => [
      { names: targetNames, schema: target.schema, row: t },
      { names: source.names, schema: source.schema, row: s },
    ];

    // Hash join on the ON clause's equalities between a target column and a source column.
    const conjuncts: Expr[] = [];
    const flatten = (e: Expr) => {
      if (e.k === "bin" && e.op === "AND") {
        flatten(e.l);
        flatten(e.r);
      } else conjuncts.push(e);
    };
    flatten(stmt.on);
    const shape = scope(null, null);
    const tKeys: Expr[] = [];
    const sKeys: Expr[] = [];
    for (const c of conjuncts) {
      if (c.k !== "bin" || c.op !== "=" || c.l.k !== "col" || c.r.k !== "col") continue;
      const l = this.resolve(c.l, shape).index;
      const r = this.resolve(c.r, shape).index;
      if (l === 0 && r === 1) {
        tKeys.push(c.l);
        sKeys.push(c.r);
      } else if (l === 1 && r === 0) {
        tKeys.push(c.r);
        sKeys.push(c.l);
      }
    }
    const index = new Map<string, number[]>();
    if (tKeys.length > 0) {
      target.rows.forEach((row, i) => {
        const s = scope(row, null);
        const values = tKeys.map((k) => this.eval(k, s));
        if (values.some((v) => v === null)) return;
        const key = keyOf(values);
        const list = index.get(key);
        if (list) list.push(i);
        else index.set(key, [i]);
      });
    }
    const allTargets = target.rows.map((_, i) => i);
    const matchesOfTarget = new Map<number, number[]>();
    const unmatchedSources: number[] = [];
    source.rows.forEach((srow, si) => {
      let candidates = allTargets;
      if (tKeys.length > 0) {
        const values = sKeys.map((k) => this.eval(k, scope(null, srow)));
        candidates = values.some((v) => v === null) ? [] : index.get(keyOf(values)) ?? [];
      }
      let matched = false;
      for (const ti of candidates) {
        if (!truthy(this.eval(stmt.on, scope(target.rows[ti], srow)))) continue;
        matched = true;
        const list = matchesOfTarget.get(ti);
        if (list) list.push(si);
        else matchesOfTarget.set(ti, [si]);
      }
      if (!matched) unmatchedSources.push(si);
    });

    const clauses = (match: string) => stmt.clauses.filter((c) => c.match === match);
    const matchedClauses = clauses("matched");
    if (matchedClauses.length > 0) {
      for (const list of matchesOfTarget.values()) {
        if (list.length > 1) {
          throw invalidQuery("UPDATE/MERGE must match at most one source row for each target row");
        }
      }
    }
    const dml = { inserted: 0, updated: 0, deleted: 0 };
    const replaced = new Map<number, Record<string, unknown> | null>();
    const update = (row: Record<string, unknown>, set: [string, Expr][], s: Scope) => {
      const next = { ...row };
      for (const [column, expr] of set) {
        const field = findField(target.schema, column);
        if (!field) throw invalidQuery(`Name ${column} not found inside ${targetName}`);
        next[field.name] = assignValue(this.eval(expr, s), field, field.name);
      }
      return next;
    };
    const applyToTarget = (ti: number, s: Scope, list: typeof matchedClauses) => {
      for (const clause of list) {
        if (clause.cond && !truthy(this.eval(clause.cond, s))) continue;
        if (clause.action.do === "update") {
          replaced.set(ti, update(target.rows[ti], clause.action.set, s));
          dml.updated++;
        } else if (clause.action.do === "delete") {
          replaced.set(ti, null);
          dml.deleted++;
        } else throw invalidQuery("INSERT is not allowed in a WHEN MATCHED clause");
        return;
      }
    };
    for (const [ti, list] of matchesOfTarget) {
      applyToTarget(ti, scope(target.rows[ti], source.rows[list[0]]), matchedClauses);
    }
    const bySource = clauses("not_matched_by_source");
    if (bySource.length > 0) {
      for (let ti = 0; ti < target.rows.length; ti++) {
        if (!matchesOfTarget.has(ti)) applyToTarget(ti, scope(target.rows[ti], null), bySource);
      }
    }
    const inserted: Record<string, unknown>[] = [];
    const notMatched = clauses("not_matched");
    for (const si of notMatched.length > 0 ? unmatchedSources : []) {
      const srow = source.rows[si];
      // INSERT values may refer to the source only.
      const s: Scope = [{ names: source.names, schema: source.schema, row: srow }];
      const clause = notMatched.find((c) => !c.cond || truthy(this.eval(c.cond, scope(null, srow))));
      if (!clause || clause.action.do !== "insert") continue;
      let pairs: [string, unknown][];
      if (clause.action.values === "row") {
        pairs = target.schema.map((f) => {
          const sf = findField(source.schema, f.name);
          return [f.name, sf ? srow[sf.name] ?? null : null];
        });
      } else {
        const columns = clause.action.columns ?? target.schema.map((f) => f.name);
        if (columns.length !== clause.action.values.length) {
          throw invalidQuery(
            `Inserted row has wrong column count; Has ${clause.action.values.length}, expected ${columns.length}`,
          );
        }
        const values = clause.action.values;
        pairs = columns.map((c, i) => [c, this.eval(values[i], s)]);
      }
      inserted.push(this.newRow(target, pairs, targetName));
      dml.inserted++;
    }
    const rows: Record<string, unknown>[] = [];
    target.rows.forEach((row, i) => {
      const next = replaced.has(i) ? replaced.get(i) : row;
      if (next) rows.push(next);
    });
    rows.push(...inserted);
    target.rows = rows;
    target.lastModifiedTime = this.#now;
    return { statementType: "MERGE", dml, bytesProcessed: this.bytes };
  }

  newRow(table: StoredTable, pairs: [string, unknown][], name: string): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (const f of table.schema) row[f.name] = f.mode === "REPEATED" ? [] : null;
    for (const [column, value] of pairs) {
      const field = findField(table.schema, column);
      if (!field) throw invalidQuery(`Column ${column} is not present in table ${name}`);
      row[field.name] = assignValue(value, field, field.name);
    }
    for (const f of table.schema) {
      if (f.mode === "REQUIRED" && row[f.name] === null) {
        throw invalidQuery(`Required field ${f.name} cannot be null`);
      }
    }
    return row;
  }

  alter(stmt: Statement & { kind: "alter" }): ExecResult {
    const { datasetId, tableId } = this.ref(stmt.table);
    const wh = this.#ctx.warehouse;
    const result = { statementType: "ALTER_TABLE", bytesProcessed: 0, ddlTarget: { datasetId, tableId } };
    if (stmt.ifExists && !wh.findTable(datasetId, tableId)) return result;
    const table = this.table(stmt.table);
    const added: BigQueryColumnSchema[] = [];
    for (const c of stmt.addColumns) {
      if (
        findField(table.schema, c.name) || added.some((f) => f.name.toLowerCase() === c.name.toLowerCase())
      ) {
        if (c.ifNotExists) continue;
        throw invalidQuery(`Column already exists: ${c.name}`);
      }
      if (c.notNull) throw invalidQuery(`Cannot add a REQUIRED column: ${c.name}`);
      added.push({ name: c.name, type: c.type, mode: c.repeated ? "REPEATED" : "NULLABLE" });
    }
    const options: Record<string, unknown> = {};
    for (const [name, expr] of stmt.options) {
      const value = this.eval(expr, []);
      if (name === "expiration_timestamp") {
        const ms = value === null ? undefined : parseTimestamp(String(value));
        if (value !== null && ms === undefined) throw invalidQuery(`Invalid expiration_timestamp: ${value}`);
        options.expirationTime = ms === undefined ? null : String(ms);
      } else if (name === "description") options.description = value;
      else throw invalidQuery(`ALTER TABLE SET OPTIONS does not support ${name} in the BigQuery mock`);
    }
    if (added.length > 0) {
      wh.replaceSchema(table, normalizeSchema([...table.schema, ...added]), {
        allowFieldAddition: true,
        allowFieldRelaxation: false,
      });
    }
    if (stmt.options.length > 0) wh.patchTable(datasetId, tableId, options);
    table.lastModifiedTime = this.#now;
    return result;
  }

  run(stmt: Statement): ExecResult {
    this.scanned(stmt);
    const limit = this.#ctx.maximumBytesBilled;
    if (limit !== undefined && this.bytes > limit) {
      throw new MockBigQueryError(
        400,
        "bytesBilledLimitExceeded",
        `Query exceeded limit for bytes billed: ${limit}. ${this.bytes} or higher required.`,
        { location: "query" },
      );
    }
    switch (stmt.kind) {
      case "select": {
        const result = this.select(stmt);
        return { statementType: "SELECT", ...result, bytesProcessed: this.bytes };
      }
      case "merge":
        return this.merge(stmt);
      case "drop": {
        const { datasetId, tableId } = this.ref(stmt.table);
        const wh = this.#ctx.warehouse;
        if (!wh.findTable(datasetId, tableId)) {
          if (stmt.ifExists) {
            return { statementType: "DROP_TABLE", bytesProcessed: 0, ddlTarget: { datasetId, tableId } };
          }
          wh.dataset(datasetId);
          throw notFound(`Not found: Table ${wh.projectId}:${datasetId}.${tableId}`);
        }
        wh.deleteTable(datasetId, tableId);
        return { statementType: "DROP_TABLE", bytesProcessed: 0, ddlTarget: { datasetId, tableId } };
      }
      case "delete": {
        const table = this.table(stmt.table);
        const names = [table.tableId.toLowerCase(), ...(stmt.alias ? [stmt.alias.toLowerCase()] : [])];
        const keep = table.rows.filter((row) =>
          !truthy(this.eval(stmt.where, [{ names, schema: table.schema, row }]))
        );
        const deleted = table.rows.length - keep.length;
        table.rows = keep;
        table.lastModifiedTime = this.#now;
        return {
          statementType: "DELETE",
          dml: { inserted: 0, updated: 0, deleted },
          bytesProcessed: this.bytes,
        };
      }
      case "truncate": {
        const table = this.table(stmt.table);
        const deleted = table.rows.length;
        table.rows = [];
        table.lastModifiedTime = this.#now;
        return {
          statementType: "TRUNCATE_TABLE",
          dml: { inserted: 0, updated: 0, deleted },
          bytesProcessed: 0,
        };
      }
      case "alter":
        return this.alter(stmt);
      case "insert": {
        const table = this.table(stmt.table);
        const columns = stmt.columns ?? table.schema.map((f) => f.name);
        const valueRows = stmt.select
          ? this.select(stmt.select).rows
          : stmt.rows!.map((r) => r.map((e) => this.eval(e, [])));
        const inserted = valueRows.map((values) => {
          if (values.length !== columns.length) {
            throw invalidQuery(
              `Inserted row has wrong column count; Has ${values.length}, expected ${columns.length}`,
            );
          }
          return this.newRow(table, columns.map((c, i) => [c, values[i]]), table.tableId);
        });
        table.rows = [...table.rows, ...inserted];
        table.lastModifiedTime = this.#now;
        return {
          statementType: "INSERT",
          dml: { inserted: inserted.length, updated: 0, deleted: 0 },
          bytesProcessed: this.bytes,
        };
      }
    }
  }
}

/**
 * Parses and runs one statement against the warehouse; changes apply only when the whole statement succeeds.
 *
 * @param sql The statement.
 * @param ctx Warehouse, default dataset, parameters and bytes cap.
 * @returns What the statement did, with result rows for a SELECT.
 * @throws {MockBigQueryError} `invalidQuery`, `notFound` or `bytesBilledLimitExceeded`, as BigQuery would.
 */
export function executeStatement(sql: string, ctx: ExecContext): ExecResult {
  return new Executor(ctx).run(parseStatement(sql));
}
