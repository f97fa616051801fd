/**
 * One rate limiter shared by every Stage 4 worker: requests per minute, estimated input tokens per
 * minute, an optional minimum gap between request starts, and a pause every worker honours after a 429.
 *
 * @module
 */
import { type Clock, systemClock } from "../ports.ts";

/** Options for {@linkcode createRateLimiter}. */
export interface RateLimiterOptions {
  /**
   * Requests allowed in any 60 s window. Minimum: above 0.
   * @default {Infinity}
   */
  rpm?: number;
  /**
   * Estimated input tokens allowed in any 60 s window. Minimum: above 0. A single request larger than
   * this still goes, alone, once the window is empty.
   * @default {Infinity}
   */
  tpm?: number;
  /**
   * Minimum milliseconds between two request starts. Minimum: 0.
   * @default {0}
   */
  minGapMs?: number;
  /**
   * Time source.
   * @default {systemClock}
   */
  clock?: Clock;
}

/** A granted slot; release it when the request has finished. */
export interface Permit extends Disposable {
  /** Marks the request finished (idempotent). */
  release(): void;
  /**
   * Gives the request's place in the window back: for a request the server refused without
   * counting it (a 429), so the refusal does not cost a slot for a whole minute. Idempotent.
   */
  refund(): void;
}

/** The shared limiter. */
export interface RateLimiter {
  /**
   * Waits until a request of `tokens` estimated input tokens may start, in FIFO order.
   *
   * @param tokens Estimated input tokens of the request.
   * @param options `signal` rejects the wait with its reason.
   * @returns A permit to release when the request is over.
   */
  acquire(tokens: number, options?: { signal?: AbortSignal }): Promise<Permit>;
  /**
   * Holds every start until `untilMs` (epoch ms); a later pause extends, an earlier one is ignored.
   *
   * @param untilMs When starts may resume.
   */
  pause(untilMs: number): void;
  /** Permits granted and not yet released (requests in flight). */
  readonly active: number;
  /** Callers waiting in {@linkcode RateLimiter.acquire}. */
  readonly pending: number;
  /** Epoch ms until which starts are paused (0 when never paused). */
  readonly pausedUntil: number;
}

interface Waiter {
  tokens: number;
  resolve: (permit: Permit) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const WINDOW_MS = 60_000;

/**
 * Creates the shared limiter.
 *
 * Semantics: a token bucket whose tokens come back exactly 60 s after they were spent, which is a
 * **sliding** 60 s window (a log of the last minute's starts and their token estimates). Neither a
 * fixed window (which allows 2× the limit across a minute boundary) nor a continuously refilling
 * bucket of one minute's capacity (a full bucket plus a minute of refill also allows 2×) would do:
 * Google counts per minute on its side, and a sliding window is the only choice that never exceeds
 * the limit in any minute, whichever window the server uses. The cost is memory for one entry per
 * request of the last minute (4,000 at Tier 1), and no burst above the limit.
 *
 * Waiters are served in FIFO order; a {@linkcode RateLimiter.pause} (after a 429) holds all of them.
 *
 * @example Two per minute
 * ```ts
 * import { createRateLimiter } from "./rate_limiter.ts";
 * const limiter = createRateLimiter({ rpm: 2 });
 * (await limiter.acquire(1)).release();
 * (await limiter.acquire(1)).release();
 * if (limiter.active !== 0) throw new Error();
 * ```
 *
 * @param options Limits and clock.
 * @returns The limiter.
 * @throws {RangeError} If a limit is not positive or the gap is negative.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const { rpm = Infinity, tpm = Infinity, minGapMs = 0, clock = systemClock } = options;
  if (!(rpm > 0)) {
    throw new RangeError(
      `Cannot create rate limiter as 'rpm' must be a positive number: current value is ${rpm}`,
    );
  }
  if (!(tpm > 0)) {
    throw new RangeError(
      `Cannot create rate limiter as 'tpm' must be a positive number: current value is ${tpm}`,
    );
  }
  if (!(minGapMs >= 0)) {
    throw new RangeError(
      `Cannot create rate limiter as 'minGapMs' must be a non-negative number: current value is ${minGapMs}`,
    );
  }
  return new SlidingRateLimiter(rpm, tpm, minGapMs, clock);
}

class SlidingRateLimiter implements RateLimiter {
  #rpm: number;
  #tpm: number;
  #minGapMs: number;
  #clock: Clock;
  /** Starts of the last minute: parallel arrays, oldest first, from #head. */
  #at: number[] = [];
  #tokens: number[] = [];
  /** Grant number of each entry, to find it again on refund. */
  #ids: number[] = [];
  #nextId = 0;
  #head = 0;
  #tokensInWindow = 0;
  #lastStart = -Infinity;
  #pausedUntil = 0;
  #active = 0;
  #queue: Waiter[] = [];
  #pumping = false;
  #wake: AbortController | undefined;

  constructor(rpm: number, tpm: number, minGapMs: number, clock: Clock) {
    this.#rpm = rpm;
    this.#tpm = tpm;
    this.#minGapMs = minGapMs;
    this.#clock = clock;
  }

  get active(): number {
    return this.#active;
  }
  get pending(): number {
    return this.#queue.length;
  }
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  pause(untilMs: number): void {
    if (untilMs > this.#pausedUntil) this.#pausedUntil = untilMs;
  }

  acquire(tokens: number, options: { signal?: AbortSignal } = {}): Promise<Permit> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { tokens: Math.max(0, tokens), resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i !== -1) this.#queue.splice(i, 1);
          reject(signal.reason);
          if (i === 0) this.#wake?.abort();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  /** Drops window entries older than a minute. */
  #expire(now: number): void {
    while (this.#head < this.#at.length && this.#at[this.#head]! <= now - WINDOW_MS) {
      this.#tokensInWindow -= this.#tokens[this.#head]!;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#at.length) {
      this.#at = this.#at.slice(this.#head);
      this.#tokens = this.#tokens.slice(this.#head);
      this.#ids = this.#ids.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Earliest epoch ms at which a request of `tokens` may start. */
  #earliest(now: number, tokens: number): number {
    this.#expire(now);
    let t = Math.max(now, this.#pausedUntil, this.#lastStart + this.#minGapMs);
    const inWindow = this.#at.length - this.#head;
    if (inWindow >= this.#rpm) {
      // The oldest entry whose expiry brings the count under rpm.
      t = Math.max(t, this.#at[this.#at.length - Math.floor(this.#rpm)]! + WINDOW_MS);
    }
    if (inWindow > 0 && this.#tokensInWindow + tokens > this.#tpm) {
      let freed = this.#tokensInWindow + tokens - this.#tpm;
      let i = this.#head;
      while (i < this.#at.length - 1 && freed > this.#tokens[i]!) freed -= this.#tokens[i++]!;
      t = Math.max(t, this.#at[i]! + WINDOW_MS);
    }
    return t;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const waiter = this.#queue[0]!;
        const now = this.#clock.now();
        const at = this.#earliest(now, waiter.tokens);
        if (at <= now) {
          this.#queue.shift();
          if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
          this.#grant(now, waiter);
          continue;
        }
        this.#wake = new AbortController();
        try {
          await this.#clock.sleep(at - now, this.#wake.signal);
        } catch {
          // Woken early: the head waiter left; re-evaluate.
        }
        this.#wake = undefined;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #grant(now: number, waiter: Waiter): void {
    const id = this.#nextId++;
    this.#at.push(now);
    this.#tokens.push(waiter.tokens);
    this.#ids.push(id);
    this.#tokensInWindow += waiter.tokens;
    this.#lastStart = now;
    this.#active++;
    let released = false;
    let refunded = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#active--;
    };
    const refund = () => {
      if (refunded) return;
      refunded = true;
      // O(window) but only on a 429, which is rare by design.
      const i = this.#ids.indexOf(id, this.#head);
      if (i === -1) return; // already out of the window
      this.#tokensInWindow -= this.#tokens[i]!;
      this.#at.splice(i, 1);
      this.#tokens.splice(i, 1);
      this.#ids.splice(i, 1);
      if (this.#queue.length > 0) this.#wake?.abort();
    };
    waiter.resolve({ release, refund, [Symbol.dispose]: release });
  }
}
