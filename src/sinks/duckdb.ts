/**
 * The embedded DuckDB sink: the default destination, needing no account. Each staged NDJSON file is
 * read with DuckDB's `read_json` into a temporary table and MERGEd on the natural key, so loading the
 * same rows twice changes nothing.
 *
 * @module
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { SinkError } from "../errors.ts";
import {
  type Column,
  type ColumnType,
  type MessageRow,
  type TableDef,
  type TableName,
  TableNames,
  Tables,
} from "../schema/mod.ts";
import type { PendingRef } from "../state/pending_queue.ts";
import { buildMerge } from "./_merge_sql.ts";
import { inTransaction } from "./_duckdb_transaction.ts";
import { DUCKDB_HEADER_BYTES } from "./duckdb_file.ts";
import { createReportViews, refreshUsageCosts } from "./duckdb_report_views.ts";
import type { LoadResult, Sink, StagedTable } from "./sink.ts";

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: "VARCHAR",
  int: "BIGINT",
  float: "DOUBLE",
  bool: "BOOLEAN",
  timestamp: "TIMESTAMP",
  date: "DATE",
  json: "JSON",
  "string[]": "VARCHAR[]",
};

/** Rows per row group of the files ccpipe writes (110 MB run: peak RSS median 422 -> 384 MiB, same time). */
const ROW_GROUP_ROWS = 16_384;

/** Quotes a DuckDB identifier. */
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** Quotes a DuckDB string literal. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Returns the DuckDB type of a logical column. */
export function duckdbType(column: Column): string {
  return DUCKDB_TYPES[column.type];
}

/**
 * Returns `CREATE TABLE IF NOT EXISTS` for a table definition. No primary key: the MERGE on the natural key
 * keeps each key once without one, and its index cost a third of every load (files made before keep theirs).
 */
export function duckdbCreateTable(table: TableDef): string {
  const cols = table.columns.map((c) => `${quote(c.name)} ${duckdbType(c)}${c.nullable ? "" : " NOT NULL"}`);
  return `CREATE TABLE IF NOT EXISTS ${quote(table.name)} (${cols.join(", ")})`;
}

function normaliseType(type: string): string {
  const t = type.toUpperCase();
  if (t === "TIMESTAMP WITHOUT TIME ZONE") return "TIMESTAMP";
  if (t === "INTEGER" || t === "BIGINT" || t === "INT64") return "BIGINT";
  return t;
}

/** Options of {@linkcode openDuckDbSink}. */
export interface DuckDbSinkOptions {
  /** Database file path, or `:memory:`. */
  path: string;
  /** DuckDB worker threads. @default {2} */
  threads?: number;
  /** Open an existing file for reading only (reports, `ccpipe sql`): writes fail, the file is never created. */
  readOnly?: boolean;
}

/** A DuckDB-backed {@linkcode Sink}. */
export class DuckDbSink implements Sink {
  readonly name = "duckdb";
  readonly location: string;
  #instance: DuckDBInstance;
  #connection: DuckDBConnection;
  #memoryLimitBytes = 256 * 1024 * 1024;

  private constructor(path: string, instance: DuckDBInstance, connection: DuckDBConnection) {
    this.location = path;
    this.#instance = instance;
    this.#connection = connection;
  }

  /** Opens (creating if needed) the database file. @throws {SinkError} When it cannot be opened. */
  static async open(options: DuckDbSinkOptions): Promise<DuckDbSink> {
    await removeUnfinishedFile(options.path);
    try {
      // A CLI sharing the machine: bound DuckDB's memory (it spills to <db>.tmp beyond it; a load with a
      // huge row raises the bound for itself) and threads, and let loads drop insertion order, which keeps
      // large NDJSON reads streaming. Outside that bound: a bulk insert buffers row groups before writing
      // them (5 by default: write each), and freed memory stays with the allocator unless flushed after
      // each task (110 MB run: peak RSS ~470 -> ~440 MiB, time unchanged).
      // A file written to is attached, not opened, to choose its row group size: a bulk insert holds a
      // whole row group in memory until it writes it (122,880 rows by default: ~180 MiB of messages).
      const attach = !options.readOnly && options.path !== ":memory:";
      const instance = await DuckDBInstance.create(attach ? ":memory:" : options.path, {
        memory_limit: "256MB",
        threads: String(options.threads ?? 2),
        preserve_insertion_order: "false",
        write_buffer_row_group_count: "1",
        allocator_flush_threshold: "8MB",
        allocator_bulk_deallocation_flush_threshold: "8MB",
        ...(options.readOnly ? { access_mode: "READ_ONLY" } : {}),
      });
      const connection = await instance.connect();
      // FSST string compression was ~0.3 of the ~0.9 s a 106 MB first load spends inserting messages;
      // without it the file is ~60 % larger (29 -> 47 MiB), still well under the transcripts' size.
      await connection.run("SET disabled_compression_methods = 'fsst'");
      if (attach) {
        // Row group sizes other than the default need storage v1.2 (DuckDB 1.2 and later read it).
        await connection.run(
          `ATTACH ${
            literal(options.path)
          } AS ccpipe (ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, STORAGE_VERSION 'v1.2.0')`,
        );
        await connection.run("USE ccpipe");
      }
      return new DuckDbSink(options.path, instance, connection);
    } catch (error) {
      throw new SinkError(`Cannot open the DuckDB file ${options.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Runs a query and returns its rows as JSON-friendly objects (for the CLI and tests). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.#connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /**
   * Runs a query and returns its column names (even for no rows) and its rows as JSON-friendly objects;
   * 64- and 128-bit integers that fit a JS number come back as numbers (DuckDB's JSON gives them as strings).
   */
  async queryTable(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
    const reader = await this.#connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const wide = columns.filter((_, i) => /^(U?BIGINT|U?HUGEINT)$/.test(String(reader.columnType(i))));
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    for (const row of rows) {
      for (const name of wide) {
        const value = row[name];
        if (typeof value === "string" && Number.isSafeInteger(Number(value))) row[name] = Number(value);
      }
    }
    return { columns, rows };
  }

  /** Creates missing tables, adds missing nullable columns, and refuses a column whose type changed. */
  async prepare(): Promise<void> {
    // One transaction and one catalog query: each statement committed alone waits for its own write to
    // disk, and each catalog query costs ~4 ms.
    await this.#inTransaction(async () => {
      for (const name of TableNames) await this.#run(duckdbCreateTable(Tables[name]), `create table ${name}`);
      const existing = await this.query(
        `SELECT table_name, column_name, data_type FROM information_schema.columns
         WHERE table_name IN (${TableNames.map(literal).join(", ")})`,
      );
      const types = new Map(
        existing.map((r) => [`${r.table_name}.${r.column_name}`, normaliseType(String(r.data_type))]),
      );
      for (const name of TableNames) {
        const table: TableDef = Tables[name];
        for (const column of table.columns) {
          const have = types.get(`${name}.${column.name}`);
          const want = normaliseType(duckdbType(column));
          if (have === undefined) {
            await this.#run(
              `ALTER TABLE ${quote(name)} ADD COLUMN ${quote(column.name)} ${duckdbType(column)}`,
              `add column ${name}.${column.name}`,
            );
          } else if (have !== want) {
            throw new SinkError(
              `Cannot load table '${name}' as column '${column.name}' has type ${have} in ${this.location}: ccpipe needs ${want}`,
            );
          }
        }
      }
    });
    await this.#refreshReportViews(true);
  }

  /**
   * Creates the report views (`views`: a table's columns may have changed) and prices the usage rows not
   * priced yet (data dirs from before the views too).
   */
  async #refreshReportViews(views: boolean): Promise<void> {
    try {
      if (views) await createReportViews(this.#connection);
      await refreshUsageCosts(this.#connection);
    } catch (error) {
      throw new SinkError(
        `DuckDB could not refresh the report views in ${this.location}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Loads one staged NDJSON file with a MERGE on the natural key. */
  async load(staged: StagedTable): Promise<LoadResult> {
    const before = await this.#count(staged.table);
    await this.#loadFile(staged, before === 0);
    return {
      table: staged.table,
      rowsStaged: staged.rows,
      rowsBefore: before,
      rowsAfter: await this.#count(staged.table),
      bytes: staged.bytes,
    };
  }

  /** Whether the `runs` table exists and holds `runId` (any run when null). */
  async holdsRun(runId: string | null): Promise<boolean> {
    const tables = await this.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'runs'");
    if (tables.length === 0) return false;
    const where = runId === null ? "" : ` WHERE run_id = ${literal(runId)}`;
    return (await this.query(`SELECT 1 FROM runs${where} LIMIT 1`)).length > 0;
  }

  /** Reads back the `messages` rows of `refs`, shaped like staged rows (see {@linkcode Sink.readMessages}). */
  async readMessages(refs: PendingRef[]): Promise<MessageRow[]> {
    const tables = await this.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'messages'");
    if (refs.length === 0 || tables.length === 0) return [];
    const columns = Tables.messages.columns;
    const select = columns.map((c) => `${stagedValue(c)} AS ${quote(c.name)}`).join(", ");
    const out: MessageRow[] = [];
    // A few thousand literals per statement keep the SQL text small.
    for (let i = 0; i < refs.length; i += 2000) {
      const uuids = refs.slice(i, i + 2000).map((ref) => literal(ref.uuid)).join(", ");
      const { rows } = await this.queryTable(`SELECT ${select} FROM messages WHERE uuid IN (${uuids})`);
      for (const row of rows) {
        for (const column of columns) {
          const value = row[column.name];
          if (column.type === "json" && typeof value === "string") row[column.name] = JSON.parse(value);
        }
        out.push(row as unknown as MessageRow);
      }
    }
    return out;
  }

  async #loadFile(staged: StagedTable, intoEmpty: boolean): Promise<void> {
    if (staged.rows === 0) return;
    const table: TableDef = Tables[staged.table];
    const columns = table.columns.map((c) => `${quote(c.name)}: ${literal(duckdbType(c))}`).join(", ");
    const names = table.columns.map((c) => quote(c.name)).join(", ");
    // DuckDB sizes its read buffer from this, so ask for what the longest row needs (1 MiB at least).
    const maxObjectSize = Math.max(1024 * 1024, (staged.maxRowBytes ?? staged.bytes) + 1024);
    // The reader holds about two such buffers per thread: make room when a row is huge.
    const needed = 8 * maxObjectSize;
    if (needed > this.#memoryLimitBytes) {
      await this.#run(`SET memory_limit = '${Math.ceil(needed / 1048576)}MB'`, "raise memory_limit");
      this.#memoryLimitBytes = needed;
    }
    // Straight from the file: a staging table would hold every row in memory at once.
    const source = `(SELECT * FROM read_json(${
      literal(staged.path)
    }, format = 'newline_delimited', columns = {${columns}}, maximum_object_size = ${maxObjectSize}))`;
    // Into an empty table (a first run) a MERGE can only insert: a plain INSERT skips its join (a
    // quarter of the load). A staged file holds each key once (Stage 2 dedupes, the accumulators key).
    const statement = intoEmpty
      ? `INSERT INTO ${quote(staged.table)} (${names}) SELECT ${names} FROM ${source}`
      : buildMerge(table, quote(staged.table), source, { column: quote, into: true });
    await this.#inTransaction(async () => {
      await this.#run(statement, `${intoEmpty ? "insert" : "merge"} ${staged.table}`);
      if (staged.table === "sessions") await this.#refreshSessions(source);
    });
    if (staged.table === "usage") await this.#refreshReportViews(false);
  }

  /** Row count of every table. */
  async counts(): Promise<Record<TableName, number>> {
    const out = {} as Record<TableName, number>;
    for (const name of TableNames) out[name] = await this.#count(name);
    return out;
  }

  async #refreshSessions(staging: string): Promise<void> {
    await this.#run(
      `UPDATE sessions SET first_timestamp = A.first_timestamp, last_timestamp = A.last_timestamp,
         event_date = A.event_date, message_count = A.message_count,
         human_prompt_count = A.human_prompt_count, assistant_count = A.assistant_count,
         tool_use_count = A.tool_use_count
       FROM (SELECT session_id, MIN(timestamp) AS first_timestamp, MAX(timestamp) AS last_timestamp,
               MIN(event_date) AS event_date,
               COUNT(*) AS message_count, COUNT(*) FILTER (WHERE kind = 'human_prompt') AS human_prompt_count,
               COUNT(*) FILTER (WHERE type = 'assistant') AS assistant_count,
               COALESCE(SUM(len(tool_names)), 0) AS tool_use_count
             FROM messages WHERE session_id IN (SELECT session_id FROM ${staging}) GROUP BY session_id) A
       WHERE sessions.session_id = A.session_id`,
      "refresh sessions",
    );
  }

  async #count(name: TableName): Promise<number> {
    const rows = await this.query(`SELECT COUNT(*)::BIGINT AS n FROM ${quote(name)}`);
    return Number(rows[0]?.n ?? 0);
  }

  /** Runs `body` in one transaction, rolled back when it throws. */
  #inTransaction(body: () => Promise<void>): Promise<void> {
    return inTransaction((sql) => this.#run(sql, sql.split(" ")[0]!.toLowerCase()), body);
  }

  async #run(sql: string, what: string): Promise<void> {
    try {
      await this.#connection.run(sql);
    } catch (error) {
      throw new SinkError(`DuckDB could not ${what} in ${this.location}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Closes the connection and the database. */
  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve(this.close());
  }
}

/** A column as the staged NDJSON carries it: ISO timestamps and dates, `json` as its text (parsed by the caller). */
function stagedValue(column: Column): string {
  const name = quote(column.name);
  switch (column.type) {
    case "timestamp":
      return `strftime(${name}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
    case "date":
      return `strftime(${name}, '%Y-%m-%d')`;
    case "json":
      return `${name}::VARCHAR`;
    default:
      return name;
  }
}

/**
 * Removes a database file that DuckDB began to create but never finished (a full disk, a kill): it holds
 * no data, and DuckDB would refuse to open it on every later run.
 */
async function removeUnfinishedFile(path: string): Promise<void> {
  if (path === ":memory:") return;
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isFile && info.size < DUCKDB_HEADER_BYTES) {
    await Deno.remove(path);
    await Deno.remove(`${path}.wal`).catch(() => {});
  }
}

/**
 * Opens a DuckDB sink at `path`.
 *
 * @throws {SinkError} When the file cannot be opened or written.
 */
export function openDuckDbSink(path: string): Promise<DuckDbSink> {
  // One thread loads faster than two on a shared machine (110 MB: 3.55 -> 3.0 s CPU) and holds less.
  return DuckDbSink.open({ path, threads: 1 });
}
