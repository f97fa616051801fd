/**
 * Facts about a DuckDB database file read without opening it (opening loads DuckDB's native library and
 * costs more than a rerun with nothing new should take).
 *
 * @module
 */
import type { LastLoad } from "../state/state_store.ts";

/** DuckDB writes three 4 KiB header blocks before any data: a shorter file holds no row. */
export const DUCKDB_HEADER_BYTES = 3 * 4096;

/**
 * Whether the DuckDB file at `path` is plausibly the warehouse `last` loaded into: the same sink and file,
 * still there and holding data. A file restored from an older copy passes; the next run that loads
 * something opens it and notices.
 *
 * @param path The database file.
 * @param last What the state's last commit recorded.
 * @returns True when the file is there, holds more than its header, and `last` names it.
 */
export async function duckDbFileLooksCurrent(path: string, last: LastLoad): Promise<boolean> {
  if (last.sink !== "duckdb" || last.location !== path) return false;
  const info = await Deno.stat(path).catch(() => null);
  return info !== null && info.isFile && info.size > DUCKDB_HEADER_BYTES;
}
