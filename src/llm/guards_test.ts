import assert from "node:assert/strict";
import { checkItem, editDistance, matchIds, proseOf, protectedSpans } from "./guards.ts";

const bounds = { maxLengthRatio: 1.5, maxEditDistanceRatio: 0.35 };
const sent = [{ id: "a1", text: "x" }, { id: "a2", text: "y" }];

Deno.test("matchIds() accepts exactly the ids sent, in any order", () => {
  const byId = matchIds(sent, { items: [{ id: "a2", corrected: "Y" }, { id: "a1", corrected: "X" }] });
  assert.deepEqual([...byId!.entries()].sort(), [["a1", "X"], ["a2", "Y"]]);
});

Deno.test("matchIds() rejects missing, extra and duplicate ids", () => {
  assert.equal(matchIds(sent, { items: [{ id: "a1", corrected: "X" }] }), undefined);
  assert.equal(
    matchIds(sent, {
      items: [{ id: "a1", corrected: "X" }, { id: "a2", corrected: "Y" }, { id: "z3", corrected: "Z" }],
    }),
    undefined,
  );
  assert.equal(
    matchIds(sent, { items: [{ id: "a1", corrected: "X" }, { id: "a1", corrected: "X" }] }),
    undefined,
  );
  assert.equal(
    matchIds(sent, { items: [{ id: "a1", corrected: "X" }, { id: "b2", corrected: "Y" }] }),
    undefined,
  );
});

Deno.test("protectedSpans() finds placeholders, code, URLs and paths", () => {
  const spans = protectedSpans(
    "see `foo()` and https://a.dev/x?y=1. in ./src/app.ts or /etc/hosts with {{SECRET_1}}\n```\nlet x\n```",
  );
  assert.deepEqual(spans.placeholder, ["{{SECRET_1}}"]);
  assert.deepEqual(spans.code_span, ["```\nlet x\n```", "`foo()`"]);
  assert.deepEqual(spans.url, ["https://a.dev/x?y=1"]);
  assert.deepEqual(spans.path, ["./src/app.ts", "/etc/hosts"]);
});

Deno.test("checkItem() passes a plain typo fix", () => {
  assert.equal(
    checkItem("pls fix teh bug adn ship `npm test`", "Please fix the bug and ship `npm test`.", bounds),
    null,
  );
  assert.equal(checkItem("teh", "the", bounds), null);
});

Deno.test("checkItem() names the guard each hallucination breaks", () => {
  assert.equal(checkItem("fix {{SECRET_1}} teh", "fix teh", bounds), "placeholder");
  assert.equal(checkItem("fix teh", "fix the {{SECRET_1}}", bounds), "placeholder");
  assert.equal(checkItem("run `fucntion()` teh", "run `function()` the", bounds), "code_span");
  assert.equal(checkItem("see http://a.dev/x teh", "see https://a.dev/x the", bounds), "url");
  assert.equal(checkItem("open ./src/app.ts teh", "open ./src/App.ts the", bounds), "path");
  const question = "how do i fix teh login bug in the auth module";
  assert.equal(
    checkItem(
      question,
      `Sure! Here is how you can approach this: first check the config, then the logs. ${question}`,
      bounds,
    ),
    "length_ratio",
  );
  assert.equal(
    checkItem("waht does teh error mean here exactly", "Kindly explain what this error signifies", bounds),
    "edit_distance",
  );
});

Deno.test("checkItem() counts copies: dropping one of two equal spans is caught", () => {
  assert.equal(
    checkItem("run `npm test` then `npm test` agian", "Run `npm test` then again.", bounds),
    "code_span",
  );
  assert.equal(
    checkItem("use {{SECRET_1}} here and {{SECRET_1}} tehre", "Use {{SECRET_1}} here and there.", bounds),
    "placeholder",
  );
  assert.equal(
    checkItem("see https://a.dev and https://a.dev agian", "See https://a.dev again.", bounds),
    "url",
  );
  assert.equal(checkItem("diff ./a.ts with ./a.ts pls", "Diff ./a.ts with it, please.", bounds), "path");
  // Both copies kept: the fix passes.
  assert.equal(
    checkItem("run `npm test` then `npm test` agian", "Run `npm test` then `npm test` again.", bounds),
    null,
  );
});

Deno.test("checkItem() measures long texts by words", () => {
  const long = "teh quick brown fox jumps over teh lazy dog. ".repeat(60);
  assert.equal(checkItem(long, long.replaceAll("teh", "the"), bounds), null);
  const shuffled = long.split(" ").reverse().join(" ");
  assert.equal(checkItem(long, shuffled, bounds), "edit_distance");
});

Deno.test("editDistance() is Levenshtein and stops above its cap", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance(["a", "b"], ["a", "c"]), 1);
  assert.ok(editDistance("aaaaaaaa", "bbbbbbbb", 2) > 2);
});

Deno.test("protectedSpans() reads tilde fences, long placeholders and every path shape", () => {
  const spans = protectedSpans(
    "~~~\nlet a = 1\n~~~ and ~~~\nb c\n~~~ with {{SECRET_12}}: /usr/local/bin/deno, ~/notes.md and ../up/dir" +
      ' or "src/app/main.ts" (C:\\Users\\dana\\file.txt) =/etc/hosts.. x`ls`/var/log y```z```/tmp/q see /. ok',
  );
  assert.deepEqual(spans.code_span, ["~~~\nlet a = 1\n~~~", "~~~\nb c\n~~~", "```z```", "`ls`"]);
  assert.deepEqual(spans.placeholder, ["{{SECRET_12}}"]);
  assert.deepEqual(spans.path, [
    "/usr/local/bin/deno",
    "~/notes.md",
    "../up/dir",
    "src/app/main.ts",
    "C:\\Users\\dana\\file.txt",
    "/etc/hosts",
    "/var/log",
    "/tmp/q",
  ]);
});

Deno.test("checkItem() applies the length ratio only beyond 8 characters of slack", () => {
  // 8 characters longer: within the slack, so the edit distance decides (8 > 4 allowed).
  assert.equal(checkItem("ab", "abcdefghij", bounds), "edit_distance");
  // 5 longer and 8/3 > 1.5: still the slack, still the edit distance (5 > 4).
  assert.equal(checkItem("abc", "abcdefgh", bounds), "edit_distance");
  // 9 longer on 2 characters: the length ratio.
  assert.equal(checkItem("ab", "abcdefghijk", bounds), "length_ratio");
  // Exactly 1.5 times as long (20 → 30) and 10 edits ≤ 0.35 × 30: passes.
  const twenty = "abcdefghijklmnopqrst";
  assert.equal(checkItem(twenty, `${twenty}uvwxyzabcd`, bounds), null);
  assert.equal(checkItem(twenty, `${twenty}uvwxyzabcde`, bounds), "length_ratio");
});

Deno.test("checkItem() allows edits up to the bound, at least 4 characters", () => {
  assert.equal(checkItem("abcdefgh", "abcdWXYZ", bounds), null); // 4 edits: the floor
  assert.equal(checkItem("abcdefgh", "abcVWXYZ", bounds), "edit_distance"); // 5 > max(4, 2.8)
  const twenty = "abcdefghijklmnopqrst";
  assert.equal(checkItem(twenty, "ABCDEFGhijklmnopqrst", bounds), null); // 7 = 0.35 × 20
  assert.equal(checkItem(twenty, "ABCDEFGHijklmnopqrst", bounds), "edit_distance"); // 8
});

Deno.test("checkItem() measures texts of up to 2,000 characters by characters, longer ones by words", () => {
  // Each word gets one letter changed: 1 edit in 3 characters passes, every word changed does not.
  const words = (n: number, word: string) => Array.from({ length: n }, () => word).join(" ");
  assert.equal(words(667, "ab").length, 2_000);
  assert.equal(checkItem(words(667, "ab"), words(667, "ac"), bounds), null);
  assert.equal(checkItem(words(668, "ab"), words(668, "ac"), bounds), "edit_distance");
  // By words: 35% of 700 words may change (0.35 × 700 is a hair under 245), a whitespace run is one separator.
  const base = Array.from({ length: 700 }, (_, i) => `w${i}`);
  const changed = (n: number) => base.map((w, i) => (i < n ? `${w}x` : w)).join("  ");
  assert.equal(checkItem(base.join(" "), changed(244), bounds), null);
  assert.equal(checkItem(base.join(" "), changed(245), bounds), "edit_distance");
  // Fewer words in the answer (461): the bound is taken on the longer side, 700 words; 240 edits pass.
  assert.equal(
    checkItem(base.join(" "), `${base.slice(0, 460).join(" ")} ${"z".repeat(1200)}`, bounds),
    null,
  );
});

Deno.test("editDistance() returns exactly cap + 1 once over the cap, and the distance at the cap", () => {
  assert.equal(editDistance("a", "abcde", 2), 3);
  assert.equal(editDistance("abc", "abcdef", 3), 3);
  assert.equal(editDistance("abcdef", "uvwxyz", 2), 3);
  assert.equal(editDistance("abc", "xbc", 1), 1);
  assert.equal(editDistance("abc", "", 5), 3);
  assert.equal(editDistance(["a", "b", "c"], ["a", "c"]), 1);
});

Deno.test("protectedSpans() finds paths at the very start and after a space", () => {
  assert.deepEqual(protectedSpans("/etc/hosts is wrong").path, ["/etc/hosts"]);
  assert.deepEqual(protectedSpans("src/a.ts is wrong").path, ["src/a.ts"]);
  assert.deepEqual(protectedSpans("see src/a.ts").path, ["src/a.ts"]);
});

Deno.test("checkItem() splits words on whitespace runs on both sides and allows exactly the bound", () => {
  const base = Array.from({ length: 700 }, (_, i) => `w${i}`);
  assert.equal(checkItem(base.join("  "), base.join(" "), bounds), null);
  // A bound that is exact in binary: 0.25 × 700 = 175 words may change, not 176.
  const quarter = { maxLengthRatio: 1.5, maxEditDistanceRatio: 0.25 };
  const changed = (n: number) => base.map((w, i) => (i < n ? `${w}x` : w)).join(" ");
  assert.equal(checkItem(base.join(" "), changed(175), quarter), null);
  assert.equal(checkItem(base.join(" "), changed(176), quarter), "edit_distance");
});

Deno.test("proseOf() leaves a space where each protected span was", () => {
  assert.equal(
    proseOf("a {{SECRET_1}} b ```c``` d `e` f https://g.dev h /etc/i j"),
    "a   b   d   f   h   j",
  );
});
