import { deepStrictEqual as assertEquals } from "node:assert/strict";
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
