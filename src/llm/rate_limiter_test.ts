import assert from "node:assert/strict";
import { createRateLimiter } from "./rate_limiter.ts";
import { FakeClock, settle } from "../testing/fake_clock.ts";

/** Starts `n` acquisitions and records the clock time at which each is granted. */
function grantTimes(
  limiter: ReturnType<typeof createRateLimiter>,
  clock: FakeClock,
  tokens: number[],
): { times: number[]; done: Promise<void> } {
  const times: number[] = [];
  const done = Promise.all(tokens.map(async (t, i) => {
    const permit = await limiter.acquire(t);
    times[i] = clock.now();
    permit.release();
  })).then(() => {});
  return { times, done };
}

Deno.test("rateLimiter.acquire() allows rpm starts in any 60 s window", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ rpm: 3, clock });
  const { times, done } = grantTimes(limiter, clock, [1, 1, 1, 1, 1, 1, 1]);
  await settle();
  assert.deepEqual(times.filter((t) => t !== undefined), [0, 0, 0]);
  assert.equal(limiter.pending, 4);
  await clock.tick(59_999);
  assert.equal(times.filter((t) => t !== undefined).length, 3);
  await clock.tick(1);
  await clock.tick(120_000);
  await done;
  assert.deepEqual(times, [0, 0, 0, 60_000, 60_000, 60_000, 120_000]);
  // Sliding window: no 60 s window holds more than rpm starts.
  for (const t of times) assert.ok(times.filter((u) => u >= t && u < t + 60_000).length <= 3);
});

Deno.test("rateLimiter.acquire() holds starts once the tpm estimate is spent", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ tpm: 1000, clock });
  const { times, done } = grantTimes(limiter, clock, [600, 300, 500, 2000]);
  await settle();
  await clock.tick(200_000);
  await done;
  // 600+300 fit; 500 waits for the 600 to expire; 2000 exceeds tpm and goes alone when the window empties.
  assert.deepEqual(times, [0, 0, 60_000, 120_000]);
});

Deno.test("rateLimiter.acquire() waits for the gap between starts", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ minGapMs: 100, clock });
  const { times, done } = grantTimes(limiter, clock, [1, 1, 1]);
  await settle();
  await clock.tick(1_000);
  await done;
  assert.deepEqual(times, [0, 100, 200]);
});

Deno.test("rateLimiter.pause() holds every waiter until the pause ends", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ clock });
  limiter.pause(26_000);
  limiter.pause(5_000); // an earlier pause never shortens a longer one
  assert.equal(limiter.pausedUntil, 26_000);
  const { times, done } = grantTimes(limiter, clock, [1, 1]);
  await clock.tick(25_999);
  assert.equal(times.filter((t) => t !== undefined).length, 0);
  await clock.tick(1);
  await done;
  assert.deepEqual(times, [26_000, 26_000]);
});

Deno.test("rateLimiter exposes active and pending", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ rpm: 1, clock });
  const first = await limiter.acquire(1);
  const second = limiter.acquire(1);
  await settle();
  assert.equal(limiter.active, 1);
  assert.equal(limiter.pending, 1);
  first.release();
  first.release(); // idempotent
  assert.equal(limiter.active, 0);
  await clock.tick(60_000);
  (await second).release();
  assert.equal(limiter.pending, 0);
});

Deno.test("rateLimiter.acquire() rejects with the signal's reason", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ rpm: 1, clock });
  (await limiter.acquire(1)).release();
  const controller = new AbortController();
  const waiting = limiter.acquire(1, { signal: controller.signal });
  const next = limiter.acquire(1);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(limiter.pending, 1);
  await clock.tick(60_000);
  (await next).release();
  assert.equal(clock.sleepers, 0);
});

Deno.test("createRateLimiter() throws for invalid limits", () => {
  assert.throws(() => createRateLimiter({ rpm: 0 }), RangeError);
  assert.throws(() => createRateLimiter({ tpm: -1 }), RangeError);
  assert.throws(
    () => createRateLimiter({ minGapMs: -5 }),
    /Cannot create rate limiter as 'minGapMs' must be a non-negative number: current value is -5/,
  );
});

Deno.test("rateLimiter permit.refund() gives a refused request's slot back at once", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ rpm: 2, tpm: 100, clock });
  (await limiter.acquire(10)).release();
  const refused = await limiter.acquire(80);
  // The window is full (2 starts, 90 tokens): the next request waits a minute...
  const { times, done } = grantTimes(limiter, clock, [20]);
  await settle();
  assert.deepEqual([times.length, limiter.pending], [0, 1]);
  // ...until the 429's refund hands its start and its tokens back, with no time passing.
  refused.refund();
  refused.refund(); // idempotent: one refund gives back one slot
  refused.release();
  await settle();
  await done;
  assert.deepEqual(times, [0]);
  // Window now: the first start (10 tokens) and the waiter's (20): full again for starts.
  const late = grantTimes(limiter, clock, [1]);
  await settle();
  assert.equal(late.times.length, 0);
  await clock.tick(60_000);
  await late.done;
  assert.deepEqual(late.times, [60_000]);
});

Deno.test("rateLimiter permit.refund() after the window moved on changes nothing", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ rpm: 1, clock });
  const old = await limiter.acquire(1);
  old.release();
  await clock.tick(60_000);
  const current = await limiter.acquire(1);
  old.refund(); // its start already left the window: the current one must stay counted
  const { times, done } = grantTimes(limiter, clock, [1]);
  await settle();
  assert.equal(times.length, 0);
  await clock.tick(60_000);
  await done;
  assert.deepEqual(times, [120_000]);
  current.release();
});
