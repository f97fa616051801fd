import assert from "node:assert/strict";
import type { MessageRow } from "../schema/mod.ts";
import { loadCspellWords, SpellPrefilter, Vocabulary, type WordList } from "./spell_prefilter.ts";

/** A tiny dictionary: these words are right, "teh" and "recieve" are known misspellings. */
function words(list: string): WordList {
  const known = new Set(list.split(" "));
  return {
    has: (word) => known.has(word.toLowerCase()),
    isKnownMisspelling: (word) => word === "teh" || word === "recieve",
  };
}

const SMALL = words("fix the bug in please run tests again rename module use and it's done now");

Deno.test("SpellPrefilter.flaggedWord() names the first word the dictionary does not know", () => {
  const prefilter = new SpellPrefilter(SMALL);
  assert.equal(prefilter.flaggedWord("please fix the bug"), null);
  assert.equal(prefilter.flaggedWord("please fix teh bug"), "teh");
  assert.equal(prefilter.flaggedWord("Teh bug, please."), "teh");
});

Deno.test("SpellPrefilter skips code spans, URLs, paths, placeholders and identifier-shaped tokens", () => {
  const prefilter = new SpellPrefilter(SMALL);
  const clean = [
    "fix the bug in `frobnicateAll()`",
    "fix the bug in ```\nzzkx qqvv\n```",
    "fix the bug in https://example.dev/zzkx/qqvv",
    "fix the bug in src/zzkx/qqvv.ts and ./zzkx",
    "fix the bug in {{SECRET_1}}",
    "fix the bug in fetchInvoice and RETRY_MAX and num_workers and upload.py and v2 and AWS",
    "fix the bug in ok", // shorter than 3 letters
  ];
  for (const text of clean) assert.equal(prefilter.flaggedWord(text), null, text);
  assert.equal(prefilter.flaggedWord("fix the zzkx bug"), "zzkx");
});

Deno.test("SpellPrefilter checks each part of a hyphenated word and the stem of a possessive", () => {
  const prefilter = new SpellPrefilter(SMALL);
  assert.equal(prefilter.flaggedWord("rename the bug-fix module's tests"), null);
  assert.equal(prefilter.flaggedWord("rename the bug-fxi module"), "fxi");
});

Deno.test("SpellPrefilter flags real-word errors by context", () => {
  const prefilter = new SpellPrefilter(
    words("its the sever server is down still broken your right we loose session slower then before"),
  );
  assert.equal(prefilter.flaggedWord("its still broken"), "its still");
  assert.equal(prefilter.flaggedWord("the sever is down"), "sever");
  assert.equal(prefilter.flaggedWord("your right"), "your right");
  assert.equal(prefilter.flaggedWord("slower then before"), "slower then");
  assert.equal(prefilter.flaggedWord("the server is down"), null);
});

Deno.test("Vocabulary learns a word Claude used twice, and never a known misspelling", () => {
  const vocabulary = new Vocabulary();
  vocabulary.learnFromText("The zorblax loader calls zorblax twice; teh teh recieve recieve.");
  vocabulary.learnFromText("Once: quuxly.");
  vocabulary.learnName("invoice-api_v2.frobtool");
  const prefilter = new SpellPrefilter(SMALL, vocabulary);
  assert.equal(prefilter.flaggedWord("rename the zorblax module"), null);
  assert.equal(prefilter.flaggedWord("rename the quuxly module"), "quuxly");
  assert.equal(prefilter.flaggedWord("rename the frobtool module"), null);
  assert.equal(prefilter.flaggedWord("fix teh bug"), "teh");
  assert.equal(prefilter.flaggedWord("recieve the bug"), "recieve");
});

Deno.test("loadCspellWords() knows English, British and software words and flags the common typos", async () => {
  const prefilter = new SpellPrefilter(await loadCspellWords());
  const clean = [
    "the build is failing on netlify, can you check the webhook config",
    "keep the old behaviour behind a flag",
    "why does my dataloader hang when the workers start? it's on localhost",
    "refactor the async retry logic and the cache layer",
  ];
  for (const text of clean) assert.equal(prefilter.flaggedWord(text), null, text);
  const typos = [
    "teh",
    "recieve",
    "fucntion",
    "seperate",
    "definately",
    "occured",
    "untill",
    "wich",
    "becuase",
    "adress",
    "enviroment",
    "dependancy",
    "diffrent",
    "respone",
  ];
  for (const typo of typos) assert.equal(prefilter.flaggedWord(`please check ${typo} now`), typo);
});

Deno.test("Vocabulary.learnFromMessage() reads only what Claude wrote, and the project's name", () => {
  const vocabulary = new Vocabulary();
  const row = (kind: MessageRow["kind"], text: string) => ({
    kind,
    text,
    project: "/home/dana/code/zorbmark-api",
  });
  vocabulary.learnFromMessage(row("assistant_text", "use quuxly; quuxly is fine"));
  vocabulary.learnFromMessage(row("tool_result", "fooish fooish fooish"));
  vocabulary.learnFromMessage(row("human_prompt", "barish barish barish"));
  const prefilter = new SpellPrefilter(SMALL, vocabulary);
  assert.equal(prefilter.flaggedWord("rename the quuxly module in zorbmark"), null);
  assert.equal(prefilter.flaggedWord("rename the fooish module"), "fooish");
  assert.equal(prefilter.flaggedWord("rename the barish module"), "barish");
});
