import assert from "node:assert/strict";
import { checkItem, editDistance, matchIds, protectedSpans } from "./guards.ts";

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
