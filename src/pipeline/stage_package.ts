/**
 * The stage phase: table rows into a load package under `runs/<run_id>/` (one NDJSON file per table),
 * each row checked by the row guard on the way, plus the run's prompts for Stage 4 or for the pending list.
 *
 * @module
 */
import { LOCAL_MACHINE, type MachineColumns } from "../io/machine.ts";
import type { MessageRow } from "../schema/mod.ts";
import type { StagedTable } from "../sinks/sink.ts";
import type { PackageRow } from "./normalise.ts";
import { countNotes, guardAndNote } from "./row_guard.ts";
import { pendingRefOf } from "../state/pending_queue.ts";
import { NdjsonWriter } from "./staging.ts";

/** The tables staged by {@linkcode stagePackage}, in load order (`runs` is staged last, apart). */
export const PackageTables = ["messages", "usage", "sessions", "rejects"] as const;

/** A staged load package. */
export interface LoadPackage {
  runDir: string;
  tables: Record<typeof PackageTables[number], StagedTable>;
  /** `{uuid, text}` of every typed prompt, for Stage 4 (`prompts: "stage4"`). */
  prompts: StagedTable | null;
  /** The typed prompts for the pending list (`prompts: "waiting"`): references, or whole rows with `waitingRows`. */
  waiting: StagedTable | null;
  /** Values the row guard replaced, per `table.column`. */
  sanitised: Record<string, number>;
}

/** Options of {@linkcode stagePackage}. */
export interface StageOptions {
  runDir: string;
  /** Where typed prompts also go: to Stage 4, to the pending list, or nowhere. */
  prompts: "stage4" | "waiting" | "none";
  /**
   * Queue whole `messages` rows rather than references (`--sink none`: no warehouse to read them back from).
   * @default {false}
   */
  waitingRows?: boolean;
  /** The machine (and user) every table row is stamped with. @default {LOCAL_MACHINE} */
  machine?: MachineColumns;
}

/**
 * Writes `rows` into a load package.
 *
 * @param rows The rows, e.g. from `normalise()` (carried-over prompts first).
 * @param options The run folder and where prompts go.
 * @returns The staged files and what the row guard changed.
 */
export async function stagePackage(
  rows: AsyncIterable<PackageRow>,
  options: StageOptions,
): Promise<LoadPackage> {
  const { runDir } = options;
  const writers = {} as Record<typeof PackageTables[number], NdjsonWriter>;
  const machine = options.machine ?? LOCAL_MACHINE;
  for (const table of PackageTables) {
    writers[table] = await NdjsonWriter.create(`${runDir}/${table}.ndjson`, machine);
  }
  const prompts = options.prompts === "stage4" ? await NdjsonWriter.create(`${runDir}/prompts.ndjson`) : null;
  const waiting = options.prompts === "waiting"
    ? await NdjsonWriter.create(`${runDir}/prompts_waiting.ndjson`)
    : null;
  const sanitised: Record<string, number> = {};
  try {
    const writePrompt = async (row: MessageRow) => {
      await prompts?.write({ uuid: row.uuid, text: row.text ?? "" });
      await waiting?.write(options.waitingRows ? row : pendingRefOf(row));
    };
    for await (const item of rows) {
      if ("block" in item) {
        await writers.messages.writeBlock(item.block.bytes, item.block.rows, item.block.maxRowBytes);
        for (const [key, n] of Object.entries(item.block.sanitised)) {
          sanitised[key] = (sanitised[key] ?? 0) + n;
        }
        continue;
      }
      if (item.table === "prompt") {
        await writePrompt(item.row);
        continue;
      }
      const { table, row } = item;
      countNotes(sanitised, table, guardAndNote(table, row as unknown as Record<string, unknown>));
      await writers[table].write(row);
      if (table === "messages" && row.kind === "human_prompt") await writePrompt(row);
    }
    const tables = {} as LoadPackage["tables"];
    for (const table of PackageTables) tables[table] = await writers[table].close(table);
    return {
      runDir,
      tables,
      prompts: prompts ? await prompts.close("messages") : null,
      waiting: waiting ? await waiting.close("messages") : null,
      sanitised,
    };
  } finally {
    for (const writer of [...Object.values(writers), prompts, waiting]) await writer?.[Symbol.asyncDispose]();
  }
}
