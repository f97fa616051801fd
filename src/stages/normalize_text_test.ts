import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { normalizeText } from "./normalize_text.ts";

Deno.test("normalizeText() turns CRLF and lone CR into LF", () => {
  assertEquals(normalizeText("a\r\nb\rc"), "a\nb\nc");
});

Deno.test("normalizeText() removes trailing spaces and collapses blank runs", () => {
  assertEquals(normalizeText("  keep indent  \n\n\n\nnext\t\n"), "keep indent\n\nnext");
});

Deno.test("normalizeText() leaves fenced code untouched", () => {
  const code = "```py\nx = 1   \n\n\n\n    y = 2\t\n```";
  assertEquals(normalizeText(`look:   \n${code}\n\n\n\nend`), `look:\n${code}\n\nend`);
});

Deno.test("normalizeText() keeps an unclosed fence verbatim to the end", () => {
  assertEquals(normalizeText("a  \n~~~\nb  \n\n\n"), "a\n~~~\nb");
});

Deno.test("normalizeText() with nothing to change inside only trims the ends, fences included", () => {
  assertEquals(normalizeText("\n\n```\ncode\n\nmore\n```\nafter\n\n"), "```\ncode\n\nmore\n```\nafter");
  assertEquals(normalizeText("one\n\ntwo\u00a0\nthree"), "one\n\ntwo\u00a0\nthree");
});

Deno.test("normalizeText() catches a line's trailing tab before the last line and at the very end", () => {
  assertEquals(normalizeText("a\t\nb"), "a\nb");
  assertEquals(normalizeText("```\na\t\n```\nb \t"), "```\na\t\n```\nb");
});

Deno.test("normalizeText() starts a new blank run after each text line", () => {
  assertEquals(normalizeText("a\n\n\nb\n\n\nc"), "a\n\nb\n\nc");
});

Deno.test("normalizeText() knows an indented fence, trims its line's end, and ignores a fence mid-line", () => {
  const fenced = "  ```js title  \n  x   \n\n\n  ```\t";
  assertEquals(normalizeText(`see:\n${fenced}\nafter`), "see:\n  ```js title\n  x   \n\n\n  ```\nafter");
  // "```" after text opens nothing: the blank run after it still collapses.
  assertEquals(normalizeText("run ```ls``` now\n\n\n\ndone  "), "run ```ls``` now\n\ndone");
});

Deno.test("normalizeText() finds a single trailing space or CR with nothing else to change", () => {
  assertEquals(normalizeText("a \nb"), "a\nb");
  assertEquals(normalizeText("a\r\nb"), "a\nb");
});
