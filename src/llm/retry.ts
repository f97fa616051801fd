/**
 * The one retry decision of Stage 4; its backoff schedule is `src/io/retry.ts`'s.
 *
 * @module
 */
import { RateLimitError, TransientServiceError } from "./errors.ts";

/**
 * Says whether repeating the same request later may succeed: per-minute 429s and transient
 * service failures (5xx, timeouts, network) yes; per-day 429s, refused requests and unusable
 * answers no (an unusable batch answer is split instead, by the stage).
 *
 * @example
 * ```ts
 * import { isRetriable } from "./retry.ts";
 * import { TransientServiceError } from "./errors.ts";
 * if (!isRetriable(new TransientServiceError("timeout"))) throw new Error();
 * ```
 *
 * @param error Anything thrown by a client call.
 * @returns Whether to retry.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof RateLimitError) return !error.isDaily;
  return error instanceof TransientServiceError;
}

// The backoff schedule is shared with the BigQuery sink: one policy, one home.
export { backoffDelay, type BackoffOptions } from "../io/retry.ts";
