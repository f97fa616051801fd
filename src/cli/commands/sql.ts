/**
 * `ccpipe sql "SELECT ..."`: a read-only query on the data dir's DuckDB file, printed as a table,
 * JSON or CSV. The file is opened read-only, so no statement can change it.
 *
 * @module
 */
import { InputError, UsageError } from "../../errors.ts";
import { DuckDbSink } from "../../sinks/duckdb.ts";
import { dataDirLayout } from "../../state/data_dir.ts";
import { type FlagSpecs, inGroup } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { csvLine } from "../csv.ts";
import { dataDirFlags, jsonFlag, resolveDataDir } from "../shared_args.ts";
import { renderTable, truncate } from "../table.ts";

/** Flags of `ccpipe sql`. */
export const sqlFlags: FlagSpecs = {
  ...dataDirFlags,
  ...inGroup("output", {
    ...jsonFlag("Print one JSON object: schema_version, columns, rows"),
    csv: { type: "boolean", help: "Print CSV" },
  }),
};

/** Widest cell in the table output; --json and --csv print values whole. */
const CELL_WIDTH = 60;

/** `ccpipe sql`. */
export const sqlCommand: Command = defineCommand({
  name: "sql",
  operands: '"SELECT ..."',
  positionals: 1,
  description:
    `Runs one read-only query on the DuckDB file: the tables messages, usage, sessions, rejects, runs, usage_costs, and the views daily_usage, weekly_usage, monthly_usage, session_usage, project_usage, model_usage, machine_usage and user_usage (days in UTC). Statements that write are refused.`,
  flags: sqlFlags,
  async run({ flags, positionals }, ctx) {
    const sql = positionals[0]?.trim();
    if (!sql) throw new UsageError(`sql needs a query, e.g. ccpipe sql "SELECT * FROM daily_usage"`);
    if (flags.json && flags.csv) throw new UsageError("Choose one of --json and --csv");
    const path = dataDirLayout(resolveDataDir(flags, ctx)).database;
    try {
      await Deno.stat(path);
    } catch {
      throw new InputError(`No ccpipe database at ${path}: run 'ccpipe run' first, or pass --data-dir`);
    }
    await using db = await DuckDbSink.open({ path, readOnly: true });
    let result: { columns: string[]; rows: Record<string, unknown>[] };
    try {
      result = await db.queryTable(sql);
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0];
      throw new UsageError(`DuckDB refused the query: ${reason}`, { cause: error });
    }
    const { columns, rows } = result;
    if (flags.json) {
      ctx.output.out(JSON.stringify({ schema_version: 1, columns, rows }));
    } else if (flags.csv) {
      ctx.output.out(csvLine(columns));
      for (const row of rows) ctx.output.out(csvLine(columns.map((c) => row[c])));
    } else {
      const cell = (v: unknown) =>
        truncate(
          v === null || v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v),
          CELL_WIDTH,
        )
          .replace(/\s+/g, " ");
      const numeric = columns.map((c) =>
        rows.length > 0 &&
        rows.every((r) => r[c] === null || typeof r[c] === "number" || /^-?\d+(\.\d+)?$/.test(String(r[c])))
      );
      for (
        const line of renderTable(
          columns.map((header, i) => ({ header, align: numeric[i] ? "right" : "left" })),
          rows.map((r) => columns.map((c) => cell(r[c]))),
        )
      ) ctx.output.out(line);
      ctx.output.err(`(${rows.length} row${rows.length === 1 ? "" : "s"})`);
    }
    return 0;
  },
});
