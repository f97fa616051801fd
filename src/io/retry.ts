/**
 * The one retry policy of ccpipe's remote calls (Gemini, BigQuery): exponential backoff with full
 * jitter on an injected clock, after std's `async/retry.ts`, so callers that failed together do not
 * retry together and tests step time instead of sleeping.
 *
 * @module
 */
import { type Clock, systemClock } from "../ports.ts";

/** Options of {@linkcode backoffDelay}. */
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
 * std's schedule.
 *
 * @param attempt Zero-based retry number.
 * @param options Base, cap, jitter and random source.
 * @returns The delay in ms.
 * @throws {RangeError} If `attempt` is negative or `jitter` is outside [0, 1].
 *
 * @example No jitter doubles from the base up to the cap
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * if (backoffDelay(3, { baseMs: 100, maxMs: 500, jitter: 0 }) !== 500) throw new Error();
 * ```
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

/** Options of {@linkcode retry}. */
export interface RetryOptions extends BackoffOptions {
  /**
   * Attempts in all, the first one included.
   * @default {5}
   */
  maxAttempts?: number;
  /**
   * Whether a failure may succeed when tried again; anything else is thrown at once.
   * @default {() => true}
   */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each wait with the failure, the 1-based attempt that failed and the delay. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** @default {systemClock} */
  clock?: Clock;
  /** Stops waiting and retrying: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Thrown by {@linkcode retry} when every attempt failed; `cause` is the last failure. */
export class RetryError extends Error {
  /** Attempts made. */
  readonly attempts: number;
  constructor(cause: unknown, attempts: number) {
    super(`Exceeded max retry attempts: ${attempts}`, { cause });
    this.name = "RetryError";
    this.attempts = attempts;
  }
}

/**
 * Calls `fn` until it resolves, waiting {@linkcode backoffDelay} between attempts. A failure that is
 * not retriable is rethrown as is; when the attempts run out a {@linkcode RetryError} carries the last.
 *
 * @param fn The operation; receives the 1-based attempt number.
 * @param options Attempts, backoff, `isRetriable`, clock and signal.
 * @returns What `fn` resolved to.
 * @throws {RangeError} When `maxAttempts` is not a positive integer.
 * @throws {RetryError} When every attempt failed with a retriable error.
 *
 * @example Only retry on specific errors
 * ```ts
 * import { retry } from "./retry.ts";
 * let calls = 0;
 * const clock = { now: () => 0, sleep: () => Promise.resolve() };
 * const value = await retry(() => ++calls < 3 ? Promise.reject(new Error("503")) : Promise.resolve(calls), {
 *   clock,
 *   isRetriable: (e) => (e as Error).message === "503",
 * });
 * if (value !== 3) throw new Error();
 * ```
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { maxAttempts = 5, isRetriable = () => true, clock = systemClock, signal } = options;
  if (!(Number.isInteger(maxAttempts) && maxAttempts > 0)) {
    throw new RangeError(
      `Cannot retry as 'maxAttempts' must be a positive integer: current value is ${maxAttempts}`,
    );
  }
  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isRetriable(error)) throw error;
      if (attempt >= maxAttempts) throw new RetryError(error, attempt);
      const delay = Math.round(backoffDelay(attempt - 1, options));
      options.onRetry?.(error, attempt, delay);
      await clock.sleep(delay, signal);
    }
  }
}
