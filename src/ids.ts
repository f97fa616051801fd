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

/**
 * A fast, non-cryptographic 64-bit fingerprint of a string as two unsigned 32-bit lanes (FNV-1a and
 * a murmur-style mix over UTF-16 code units). Never returns a first lane of 0 (used as "empty").
 *
 * @param value The string.
 * @returns Two 32-bit lanes.
 */
export function fingerprint(value: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return [(h1 >>> 0) || 1, h2 >>> 0];
}

/**
 * A 16-hex-character id from {@linkcode fingerprint}: stable across runs and platforms, cheap
 * enough for every record (sha256 through `node:crypto` costs ~10× more per call here).
 *
 * @example Stable
 * ```ts
 * import { fingerprintHex } from "./ids.ts";
 * if (fingerprintHex("u1") !== fingerprintHex("u1") || fingerprintHex("u1").length !== 16) throw new Error();
 * ```
 */
export function fingerprintHex(value: string): string {
  const [a, b] = fingerprint(value);
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}
