/**
 * The load phase: a staged package into a sink, table by table, the `runs` row last (its presence marks
 * the run complete). An interrupt (Ctrl-C, SIGTERM) is honoured between tables; the state is then not
 * committed and the next run loads the same rows again, which the MERGE absorbs.
 *
 * @module
 */
import { faultPoint } from "../fault_point.ts";
import type { TableName } from "../schema/mod.ts";
import type { LoadResult, Sink, StagedTable } from "../sinks/sink.ts";

/** What the load phase did. */
export interface Loaded {
  loads: LoadResult[];
  tableCounts: Record<TableName, number>;
}

/**
 * Loads `tables`, then the run's `runs` row staged by `stageRunsRow`, into `sink`.
 *
 * @param sink An open sink.
 * @param tables The package's tables, in load order.
 * @param options The `runs` row stager (called once the data tables loaded) and the interrupt signal.
 * @returns Each load and the tables' row counts after it.
 */
export async function loadPackage(
  sink: Sink,
  tables: StagedTable[],
  options: { stageRunsRow: () => Promise<StagedTable>; signal?: AbortSignal },
): Promise<Loaded> {
  const { signal } = options;
  signal?.throwIfAborted();
  await sink.prepare();
  const loads: LoadResult[] = [];
  for (const table of tables) {
    signal?.throwIfAborted();
    loads.push(await sink.load(table));
    if (loads.length === 1) faultPoint("load");
  }
  signal?.throwIfAborted();
  loads.push(await sink.load(await options.stageRunsRow()));
  return { loads, tableCounts: await sink.counts() };
}
