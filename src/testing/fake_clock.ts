/**
 * A virtual clock for tests: `sleep` registers a timer; `tick(ms)` steps time, or with `auto` the clock
 * jumps to the earliest timer whenever the event loop has nothing else to do for a moment.
 *
 * @module
 */
import type { Clock } from "../ports.ts";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A stepped clock implementing {@linkcode Clock}. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #auto: boolean;
  #scheduled = false;

  /**
   * @param options `start` epoch ms (default 1_700_000_000_000); `auto` jumps to the next timer on idle.
   */
  constructor(options: { start?: number; auto?: boolean } = {}) {
    this.#now = options.start ?? 1_700_000_000_000;
    this.#auto = options.auto ?? false;
  }

  /** Number of sleeping timers. */
  get sleepers(): number {
    return this.#timers.length;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
      this.#schedule();
    });
  }

  /** Steps time by `ms`, firing due timers in order and letting their continuations run. */
  async tick(ms: number): Promise<void> {
    const target = this.#now + ms;
    while (true) {
      const next = this.#earliest();
      if (!next || next.at > target) break;
      this.#fire(next);
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  #fire(timer: Timer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    if (timer.at > this.#now) this.#now = timer.at;
    timer.resolve();
  }

  #schedule(): void {
    if (!this.#auto || this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const next = this.#earliest();
      if (next) this.#fire(next);
      if (this.#timers.length > 0) this.#schedule();
    }, 1);
  }
}

/** Lets pending promise continuations run (a few macrotask turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/**
 * A clock whose `sleep(ms)` moves time forward by `ms` at once and only yields to the event loop, so code
 * that backs off or polls runs at full speed while every time it reads stays consistent (one clock may be
 * shared by several concurrent runs).
 *
 * @param start Epoch ms to start at.
 * @returns The clock.
 */
export function skippingClock(start: number): Clock {
  let now = start;
  return {
    now: () => now,
    sleep(ms, signal) {
      signal?.throwIfAborted();
      now += ms;
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}
