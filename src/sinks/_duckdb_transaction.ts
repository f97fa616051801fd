/**
 * One DuckDB transaction around a body of statements, for the sink and its report views.
 *
 * @module
 */

/**
 * Runs `body` between `BEGIN TRANSACTION` and `COMMIT`, rolling back when it throws.
 *
 * @param run Runs one statement (the caller's own, so its errors read as the caller's).
 * @param body The statements.
 * @returns What `body` returns.
 */
export async function inTransaction<T>(
  run: (sql: string) => Promise<unknown>,
  body: () => Promise<T>,
): Promise<T> {
  await run("BEGIN TRANSACTION");
  try {
    const result = await body();
    await run("COMMIT");
    return result;
  } catch (error) {
    await run("ROLLBACK").catch(() => {});
    throw error;
  }
}
