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
  let now = 0;
  const clock = { now: () => now, sleep: () => new Promise<void>(() => {}) };
  const limiter = createRateLimiter({ rpm: 2, clock });
  (await limiter.acquire(1)).release();
  const refused = await limiter.acquire(1);
  refused.refund();
  refused.release();
  now = 1;
  // Without the refund the window would hold 2 starts and this would wait a minute.
  const third = await Promise.race([
    limiter.acquire(1),
    new Promise((r) => setTimeout(() => r("waited"), 50)),
  ]);
  if (third === "waited") throw new Error("the refunded slot was not given back");
  (third as { release(): void }).release();
});
