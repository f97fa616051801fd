/**
 * The one retry decision of Stage 4 and its backoff schedule.
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

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /**
   * Delay of the first retry before jitter, in ms.
   * @default {500}
   */
  baseMs?: number;
  /**
   * Largest delay, in ms.
   * @default {30000}
   */
  maxMs?: number;
  /**
   * Share of the delay that is random: 1 is "full jitter", 0 none.
   * @default {1}
   */
  jitter?: number;
  /**
   * Random source in [0, 1).
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: `min(maxMs, baseMs * 2^attempt) * (1 - jitter * random())`,
 * the schedule of std's `retry`, so concurrent workers that failed together do not retry together.
 *
 * @param attempt Zero-based retry number.
 * @param options Base, cap, jitter and random source.
 * @returns The delay in ms.
 * @throws {RangeError} If `attempt` is negative or `jitter` is outside [0, 1].
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 500, maxMs = 30_000, jitter = 1, random = Math.random } = options;
  if (!(attempt >= 0)) {
    throw new RangeError(`Cannot compute backoff as 'attempt' must be >= 0: current value is ${attempt}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`Cannot compute backoff as 'jitter' must be in [0, 1]: current value is ${jitter}`);
  }
  const exp = Math.min(maxMs, baseMs * 2 ** attempt);
  return exp * (1 - jitter * random());
}
