import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  cutCodePoints,
  jsonPrefix,
  MAX_JSON_DEPTH,
  needsSanitising,
  sanitiseJson,
  TOO_DEEP_MARKER,
} from "./safe_json.ts";

function nested(depth: number): unknown {
  return JSON.parse('{"a":'.repeat(depth) + "1" + "}".repeat(depth));
}

Deno.test("sanitiseJson() caps a 100,000-deep value without reaching any stack limit", () => {
  const deep = nested(100_000);
  assert(needsSanitising(deep));
  const { value, notes } = sanitiseJson(deep);
  assertEquals(notes, [`nested deeper than ${MAX_JSON_DEPTH} levels`]);
  let node = value as Record<string, unknown>;
  for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) node = node.a as Record<string, unknown>;
  assertEquals(node.a, TOO_DEEP_MARKER);
  // Now JSON.stringify is safe.
  assertEquals(
    JSON.stringify(value),
    '{"a":'.repeat(200) + '"[ccpipe: nested too deep, dropped]"' + "}".repeat(200),
  );
});

Deno.test("sanitiseJson() returns a safe value itself and keeps key order and __proto__ keys as data", () => {
  const safe = { b: [1, "x"], a: null };
  assert(sanitiseJson(safe).value === safe);
  const { value } = sanitiseJson(JSON.parse('{"z":"\\ud800","__proto__":{"y":1},"m":2}'));
  assertEquals(Object.keys(value as object), ["z", "__proto__", "m"]);
  assertEquals(JSON.stringify(value), '{"z":"\uFFFD","__proto__":{"y":1},"m":2}');
});

Deno.test("jsonPrefix() writes only the start of a huge or deep value", () => {
  assertEquals(jsonPrefix(nested(100_000), 12), '{"a":{"a":{"');
  assertEquals(jsonPrefix(new Array(1_000_000).fill(7), 9), "[7,7,7,7,");
  assertEquals(jsonPrefix("\u{1F600}".repeat(3), 4), '"\u{1F600}');
});

Deno.test("cutCodePoints() never leaves half a surrogate pair", () => {
  assertEquals(cutCodePoints("a\u{1F600}b", 2), "a");
  assertEquals(cutCodePoints("a\u{1F600}b", 3), "a\u{1F600}");
  assertEquals(cutCodePoints("abc", 5), "abc");
});
