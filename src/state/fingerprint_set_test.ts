import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { fingerprint } from "../ids.ts";
import { FingerprintSet } from "./fingerprint_set.ts";

Deno.test("FingerprintSet.add() reports new and repeated values", () => {
  const set = new FingerprintSet(4);
  assertEquals(set.add("u1"), true);
  assertEquals(set.add("u1"), false);
  assertEquals(set.has("u1"), true);
  assertEquals(set.has("u2"), false);
  assertEquals(set.size, 1);
});

Deno.test("FingerprintSet grows and keeps every value", () => {
  const set = new FingerprintSet(2);
  for (let i = 0; i < 50_000; i++) set.add(`uuid-${i}`);
  assertEquals(set.size, 50_000);
  for (let i = 0; i < 50_000; i += 997) assertEquals(set.has(`uuid-${i}`), true);
  assertEquals(set.has("uuid-50000"), false);
});

Deno.test("FingerprintSet.fromBytes() restores what toBytes() wrote", () => {
  const set = new FingerprintSet();
  for (let i = 0; i < 1000; i++) set.add(crypto.randomUUID());
  set.add("keep-me");
  const restored = FingerprintSet.fromBytes(set.toBytes());
  assertEquals(restored.size, set.size);
  assertEquals(restored.has("keep-me"), true);
  assertEquals(restored.add("keep-me"), false);
});

Deno.test("FingerprintSet sizes its table for the capacity asked and doubles it past half full", () => {
  // 8 bytes per slot; at least 16 slots, at least twice the capacity, a power of two.
  assertEquals(new FingerprintSet(1).toBytes().length, 128);
  assertEquals(new FingerprintSet(8).toBytes().length, 128);
  assertEquals(new FingerprintSet(9).toBytes().length, 256);
  const set = new FingerprintSet(1);
  for (let i = 0; i < 8; i++) set.add(`v${i}`);
  assertEquals(set.toBytes().length, 128); // 8 of 16 slots: still at most half full
  set.add("v8");
  assertEquals(set.toBytes().length, 256);
  for (let i = 0; i < 9; i++) assertEquals(set.has(`v${i}`), true);
});

Deno.test("FingerprintSet finds every value it holds, wherever it landed in the table", () => {
  const set = new FingerprintSet(2);
  for (let i = 0; i < 20_000; i++) set.add(`uuid-${i}`);
  for (let i = 0; i < 20_000; i++) {
    if (!set.has(`uuid-${i}`) || set.add(`uuid-${i}`)) throw new Error(`uuid-${i} was lost`);
  }
  assertEquals(set.size, 20_000);
});

Deno.test("FingerprintSet matches both halves of a fingerprint", () => {
  const [a, b] = fingerprint("x");
  const slot = (a ^ b) & 15;
  for (const [sa, sb] of [[a, b ^ 1], [a ^ 1, b]]) {
    const slots = new Uint32Array(32);
    slots[slot * 2] = sa;
    slots[slot * 2 + 1] = sb;
    const set = FingerprintSet.fromBytes(new Uint8Array(slots.buffer));
    assertEquals([set.size, set.has("x")], [1, false]);
    assertEquals([set.add("x"), set.size], [true, 2]);
  }
});

Deno.test("FingerprintSet's bytes are a copy both ways", () => {
  const set = new FingerprintSet();
  set.add("a");
  const bytes = set.toBytes();
  set.add("b");
  assertEquals(FingerprintSet.fromBytes(bytes).has("b"), false);
  const restored = FingerprintSet.fromBytes(bytes);
  bytes.fill(0);
  assertEquals(restored.has("a"), true);
});

Deno.test("FingerprintSet.fromBytes() refuses what is not a power-of-two table of at least 16 slots", () => {
  for (const length of [129, 64, 120, 192]) {
    assertThrows(
      () => FingerprintSet.fromBytes(new Uint8Array(length)),
      new RangeError(
        `Cannot restore fingerprint set as its size must be a power-of-two table: current size is ${length} bytes`,
      ),
      String(length),
    );
  }
  assertEquals(FingerprintSet.fromBytes(new Uint8Array(128)).size, 0);
});

Deno.test("FingerprintSet probes past the table's end back to slot 0", () => {
  // A value whose home is one of the last slots of a 16-slot table, so the taken slots stay at most half.
  const home = (value: string) => {
    const [a, b] = fingerprint(value);
    return (a ^ b) & 15;
  };
  const value = Array.from({ length: 64 }, (_, i) => `v${i}`).find((v) => home(v) >= 10)!;
  const [a, b] = fingerprint(value);
  const slots = new Uint32Array(32);
  // Every slot from its home to the last is taken by another value; the value wrapped around to slot 0.
  for (let i = home(value); i < 16; i++) [slots[i * 2], slots[i * 2 + 1]] = [a ^ 2, i];
  [slots[0], slots[1]] = [a, b];
  const set = FingerprintSet.fromBytes(new Uint8Array(slots.buffer));
  assertEquals([set.has(value), set.add(value)], [true, false]);
});

Deno.test("FingerprintSet.fromBytes() accepts a table at most half full", () => {
  const table = (taken: number) => {
    const slots = new Uint32Array(32);
    for (let i = 0; i < taken; i++) [slots[i * 2], slots[i * 2 + 1]] = [i + 1, i];
    return new Uint8Array(slots.buffer);
  };
  assertEquals(FingerprintSet.fromBytes(table(8)).size, 8);
  assertThrows(
    () => FingerprintSet.fromBytes(table(9)),
    new RangeError(
      "Cannot restore fingerprint set as its table must be at most half full: current load is 9 of 16 slots",
    ),
  );
});
