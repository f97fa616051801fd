import assert from "node:assert/strict";
import { backoffDelay, retry, RetryError } from "./retry.ts";

Deno.test("backoffDelay() doubles up to the cap with full jitter", () => {
  assert.equal(backoffDelay(0, { baseMs: 100, random: () => 0 }), 100);
  assert.equal(backoffDelay(3, { baseMs: 100, random: () => 0 }), 800);
  assert.equal(backoffDelay(20, { baseMs: 100, maxMs: 5000, random: () => 0 }), 5000);
  assert.equal(backoffDelay(2, { baseMs: 100, random: () => 0.5 }), 200);
  assert.equal(backoffDelay(2, { baseMs: 100, jitter: 0, random: () => 0.9 }), 400);
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(4, { baseMs: 100 });
    assert.ok(d > 0 && d <= 1600);
  }
});

Deno.test("backoffDelay() throws for invalid arguments", () => {
  assert.throws(() => backoffDelay(-1), RangeError);
  assert.throws(() => backoffDelay(0, { jitter: 2 }), /'jitter' must be in \[0, 1\]: current value is 2/);
});

/** A clock that records sleeps and never waits. */
function recordingClock() {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: (ms: number) => (sleeps.push(ms), Promise.resolve()) };
}

Deno.test("retry() waits with full jitter between attempts and returns the first success", async () => {
  const clock = recordingClock();
  let calls = 0;
  const value = await retry(() => ++calls < 4 ? Promise.reject(new Error("503")) : Promise.resolve("ok"), {
    clock,
    baseMs: 100,
    random: () => 0.5,
  });
  assert.equal(value, "ok");
  assert.equal(calls, 4);
  assert.deepEqual(clock.sleeps, [50, 100, 200]);
});

Deno.test("retry() rethrows a failure that is not retriable at once", async () => {
  const clock = recordingClock();
  const refused = new Error("400");
  await assert.rejects(
    retry(() => Promise.reject(refused), { clock, isRetriable: (e) => e !== refused }),
    (e) => e === refused,
  );
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("retry() gives up after maxAttempts with the last failure as cause", async () => {
  const clock = recordingClock();
  let calls = 0;
  const error = await retry(() => Promise.reject(new Error(`fail ${++calls}`)), { clock, maxAttempts: 3 })
    .catch((e) => e);
  assert.ok(error instanceof RetryError);
  assert.equal(error.attempts, 3);
  assert.equal((error.cause as Error).message, "fail 3");
  assert.equal(clock.sleeps.length, 2);
});

Deno.test("retry() stops with the signal's reason", async () => {
  const controller = new AbortController();
  const clock = recordingClock();
  const error = await retry(() => {
    controller.abort(new Error("stopped"));
    return Promise.reject(new Error("503"));
  }, { clock, signal: controller.signal }).catch((e) => e);
  assert.equal((error as Error).message, "stopped");
  await assert.rejects(retry(() => Promise.resolve(1), { maxAttempts: 0 }), RangeError);
});
