/**
 * Where reports read from: the DuckDB file of a data dir (opened read-only) or a BigQuery dataset.
 * Both answer the same SQL (`usage_query.ts`).
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { DuckDbSink } from "../sinks/duckdb.ts";
import { projectsQuery, type UsageFact, usageFactOf, usageQuery, type UsageWindow } from "./usage_query.ts";

/** A database reports can query. */
export interface Warehouse extends AsyncDisposable {
  /** Human-readable location (a file path, `project.dataset`). */
  readonly location: string;
  /** Renders a table name for this warehouse's SQL. */
  table(name: string): string;
  /** Runs a read-only query and returns its rows as JSON-friendly objects. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** The names of a table's columns (a table made by an older ccpipe may lack newer ones). */
  columns(table: string): Promise<Set<string>>;
}

/**
 * Opens a data dir's DuckDB file for reading only.
 *
 * @throws {InputError} When the file does not exist or cannot be opened.
 */
export async function openDuckDbWarehouse(path: string): Promise<Warehouse> {
  try {
    await Deno.stat(path);
  } catch {
    throw new InputError(`No ccpipe database at ${path}: run 'ccpipe run' first, or pass --data-dir`);
  }
  let db: DuckDbSink;
  try {
    db = await DuckDbSink.open({ path, readOnly: true });
  } catch (error) {
    throw new InputError((error as Error).message, { cause: error });
  }
  return {
    location: path,
    table: (name) => `"${name.replaceAll('"', '""')}"`,
    query: (sql) => db.query(sql),
    async columns(name) {
      const rows = await db.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = '${
          name.replaceAll("'", "''")
        }'`,
      );
      return new Set(rows.map((r) => String(r.column_name)));
    },
    [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
  };
}

/**
 * Reads the usage rows a report needs.
 *
 * @throws {InputError} When the warehouse has no usage table, or the table holds no row at all.
 */
export async function readUsage(warehouse: Warehouse, window: UsageWindow = {}): Promise<UsageFact[]> {
  let rows: Record<string, unknown>[];
  let projects: Map<string, string>;
  try {
    const table = (name: string) => warehouse.table(name);
    rows = await warehouse.query(usageQuery(table, window, await warehouse.columns("usage")));
    const named = await warehouse.query(projectsQuery(table));
    projects = new Map(named.map((r) => [String(r.project_id), String(r.project)]));
  } catch (error) {
    throw new InputError(
      `Cannot read the usage table in ${warehouse.location} (${
        firstLine(error)
      }): run 'ccpipe run' to create it`,
      { cause: error },
    );
  }
  if (rows.length === 0) {
    const [{ n }] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${warehouse.table("usage")}`);
    if (Number(n) === 0) {
      throw new InputError(`The usage table in ${warehouse.location} is empty: run 'ccpipe run' to load it`);
    }
  }
  return rows.map((row) => usageFactOf(row, projects));
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0];
}
