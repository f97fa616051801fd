/**
 * Test-only kill points for the fault-injection suite (`tests/fault_injection_test.ts`). A run started
 * with `CCPIPE_FAULT_POINT=<name>` stops dead when it reaches the point of that name and says so on
 * stderr; the test then kills it with SIGKILL, so every crash the suite checks is a real one. Unset (always,
 * outside that suite), a point is one string comparison.
 *
 * @module
 */

/** The names of the kill points, in the order a run reaches them. */
export const FaultPoints = [
  "extract",
  "stage",
  "correct",
  "load",
  "loaded",
  "commit.files",
  "commit.record",
  "done",
] as const;
/** One of {@linkcode FaultPoints}. */
export type FaultPoint = typeof FaultPoints[number];

const armed = (() => {
  try {
    return Deno.env.get("CCPIPE_FAULT_POINT") ?? null;
  } catch {
    return null; // no env permission: no fault injection
  }
})();

/** The line a stopped process writes to stderr. */
export const FAULT_POINT_MESSAGE = "ccpipe: stopped at fault point";

/**
 * Stops the process here, for good, when `CCPIPE_FAULT_POINT` names this point.
 *
 * @param name The point reached.
 */
export function faultPoint(name: FaultPoint): void {
  if (armed !== name) return;
  Deno.stderr.writeSync(new TextEncoder().encode(`${FAULT_POINT_MESSAGE} ${name}\n`));
  // Block the only thread: no timer, promise or finaliser runs until the test's SIGKILL lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
