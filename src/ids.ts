/**
 * Deterministic ids: the same input always gives the same id, whatever the order of files or runs.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Returns the first `length` hex characters of the sha256 of `parts` joined by a NUL byte.
 *
 * @param parts The values that identify the thing.
 * @param length Hex characters to keep (default 16 = 64 bits).
 * @returns A lowercase hex string.
 *
 * @example Stable ids
 * ```ts
 * import { stableId } from "./ids.ts";
 * if (stableId(["a", "b"]) !== stableId(["a", "b"])) throw new Error("not stable");
 * ```
 */
export function stableId(parts: readonly string[], length = 16): string {
  if (length < 1 || length > 64) {
    throw new RangeError(
      `Cannot make an id as 'length' must be between 1 and 64: current value is ${length}`,
    );
  }
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, length);
}

/**
 * Creates a run id that sorts by start time: `YYYYMMDDTHHMMSSZ-xxxx`.
 *
 * @param now The run's start time.
 * @returns The run id.
 */
export function createRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const random = crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0");
  return `${stamp}-${random}`;
}
