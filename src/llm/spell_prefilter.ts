/**
 * The local prefilter: a code-aware spell check that decides whether a prompt needs the model at all.
 * A prompt with no flagged word is `unchanged_local` and costs no call; a flagged one is sent.
 *
 * Words come from cspell's English dictionaries (US and British spellings, so a British user's
 * "behaviour" is not a typo) plus its software, tool and company dictionaries, and the user's own
 * vocabulary learned from the corpus: words Claude's prose uses at least twice and project names.
 * Code spans, URLs, paths and redaction placeholders are skipped as the guards skip them, and so are
 * identifier-shaped tokens (camelCase, snake_case, dotted names, ALL-CAPS, anything with a digit).
 * A few real-word errors ("its a", "sever") are flagged by pattern.
 *
 * @module
 */
import type { MessageRow } from "../schema/mod.ts";
import { proseOf } from "./guards.ts";

/** Words shorter than this are not checked ("ok", "y", "im"): too many false alarms for what they save. */
const MIN_WORD = 3;
/** A corpus word becomes vocabulary once Claude's prose has used it this many times. */
const LEARN_AFTER = 2;
/** Bound on the words counted for learning and on the verdict cache: memory stays flat on any corpus. */
const MAX_TRACKED = 200_000;
/** Only the start of a long text is read for vocabulary (a long answer repeats its words). */
const LEARN_CHARS = 20_000;

/** Kinds of rows whose text Claude wrote: their words are the project's vocabulary, not typos. */
const VOCABULARY_KINDS: ReadonlySet<string> = new Set(["assistant_text", "thinking", "compact_summary"]);

/** A word of letters, with inner apostrophes or hyphens ("don't", "built-in"). */
const WORD = /^[A-Za-z]+(?:['’-][A-Za-z]+)*$/;
/** A capital inside a word: an identifier (camelCase, PascalCase, macOS), not prose. */
const INNER_CAPITAL = /[a-z][A-Z]/;
const ALL_CAPS = /^[A-Z]+$/;
/** Punctuation around a token that is not part of the word. */
const EDGES = /^[("'“‘[{<*_~]+|[)"'”’\]}>*_~.,;:!?]+$/g;

/**
 * Real words that are usually typos in a prompt (it's → its, you're → your, server → sever, lose →
 * loose, than → then). The dictionary cannot see these; each pattern matches a context where the
 * word is almost always the wrong one.
 */
const REAL_WORD_ERRORS = [
  /\bits\s+(?:a|an|the|not|already|just|still|been|being|going|ok|okay|fine|done|working|broken|probably|definitely|only|also|really|now|because|so|time|possible|likely|failing|running)\b/i,
  /\byour\s+(?:welcome|right|wrong|not|going|doing|using|missing|sure)\b/i,
  /\bsever(?:s)?\b(?!\s+(?:ties|the\s+link|relations))/i,
  /\b(?:more|less|better|worse|faster|slower|bigger|smaller|larger|rather|other|longer|shorter)\s+then\b/i,
  /\bloose\s+(?:the|my|your|our|all|any|it|them|data|access|track|changes|work)\b/i,
];

/** The dictionary calls the prefilter needs (a slice of cspell's `SpellingDictionaryCollection`). */
export interface WordList {
  /** Whether the word is spelled right (case-insensitive). */
  has(word: string): boolean;
  /** Whether the word is a known misspelling (cspell's common-misspellings lists): never learned. */
  isKnownMisspelling(word: string): boolean;
}

/**
 * cspell's dictionaries the prefilter loads: US and British English, software terms, tools, web services
 * and company names, and the common-misspellings list (which keeps a typo from being learned). cspell's
 * other defaults (licenses, crypto, AWS, …) would add about 30 MiB of heap for words prompts rarely use.
 */
export const CSPELL_DICTIONARIES = [
  "en_us",
  "en-gb",
  "softwareTerms",
  "software-tools",
  "web-services",
  "companies",
  "en-common-misspellings",
] as const;

/**
 * Loads {@linkcode CSPELL_DICTIONARIES}: about 1 s and 95 MiB of heap, once per process.
 *
 * @returns The word list.
 */
export async function loadCspellWords(): Promise<WordList> {
  // Loaded on use: cspell and its dictionaries are large, and a run with nothing to correct never needs them.
  const { finalizeSettings, getDefaultSettings, getDictionary } = await import("cspell-lib");
  const defaults = await getDefaultSettings(true);
  const dictionary = await getDictionary(
    finalizeSettings({ ...defaults, dictionaries: [...CSPELL_DICTIONARIES] }),
  );
  return {
    has: (word) => dictionary.has(word, { ignoreCase: true }),
    isKnownMisspelling: (word) => (dictionary.getPreferredSuggestions?.(word).length ?? 0) > 0,
  };
}

/**
 * The user's own vocabulary, learned from the corpus before Stage 4 runs: words Claude's prose uses
 * at least twice, and project names. Needs no dictionary, so it can learn while the dictionary loads.
 */
export class Vocabulary {
  /** Corpus words with how often they were seen, until they are learned. */
  #seen = new Map<string, number>();
  #learned = new Set<string>();

  #projects = new Set<string>();

  /** Words learned so far. */
  get size(): number {
    return this.#learned.size;
  }

  /**
   * Learns from one message row: the text of the rows Claude wrote, and the project's folder name.
   *
   * @param row The row's kind, text and project.
   */
  learnFromMessage(row: Pick<MessageRow, "kind" | "text" | "project">): void {
    if (VOCABULARY_KINDS.has(row.kind) && row.text) this.learnFromText(row.text);
    if (row.project && !this.#projects.has(row.project)) {
      this.#projects.add(row.project);
      this.learnName(row.project.slice(row.project.lastIndexOf("/") + 1));
    }
  }

  /** Whether a lower-cased word was learned. */
  has(word: string): boolean {
    return this.#learned.has(word);
  }

  /**
   * Learns from text the user did not type (Claude's answers and thinking, summaries): a word used
   * twice there is the project's vocabulary.
   *
   * @param text The text.
   */
  learnFromText(text: string): void {
    for (const word of wordsOf(text.slice(0, LEARN_CHARS))) {
      if (this.#learned.has(word)) continue;
      const count = (this.#seen.get(word) ?? 0) + 1;
      if (count >= LEARN_AFTER) this.learnWord(word);
      else if (this.#seen.size < MAX_TRACKED) this.#seen.set(word, count);
    }
  }

  /**
   * Learns a name (a project folder) and its parts split on `-`, `_` and `.`.
   *
   * @param name The name, e.g. `invoice-api`.
   */
  learnName(name: string): void {
    for (const part of name.split(/[-_.\s/]+/)) {
      if (/^[A-Za-z]+$/.test(part)) this.learnWord(part);
    }
  }

  /** Adds one word. */
  learnWord(word: string): void {
    if (this.#learned.size >= MAX_TRACKED) return;
    const lower = word.toLowerCase();
    this.#learned.add(lower);
    this.#seen.delete(lower);
  }
}

/**
 * The spell-check prefilter: says which prompts need the model.
 *
 * @example Only a prompt with a misspelling needs the model
 * ```ts
 * import { SpellPrefilter } from "./spell_prefilter.ts";
 * const words = new Set(["fix", "the", "bug", "please"]);
 * const prefilter = new SpellPrefilter({ has: (w) => words.has(w), isKnownMisspelling: () => false });
 * if (prefilter.needsModel("please fix the bug in `parseArgs()`")) throw new Error("clean prompt flagged");
 * if (!prefilter.needsModel("please fix teh bug")) throw new Error("typo missed");
 * ```
 */
export class SpellPrefilter {
  #words: WordList;
  #vocabulary: Vocabulary;
  /** Verdicts per lower-cased word: prompts repeat their words, the dictionary walk is the cost. */
  #verdicts = new Map<string, boolean>();

  /**
   * @param words The dictionary (see {@linkcode loadCspellWords}).
   * @param vocabulary The user's vocabulary; a known misspelling in it still counts as one.
   */
  constructor(words: WordList, vocabulary: Vocabulary = new Vocabulary()) {
    this.#words = words;
    this.#vocabulary = vocabulary;
  }

  /**
   * The first word of a prompt that needs correcting: a word neither the dictionary nor the user's
   * vocabulary knows, or a real-word error pattern.
   *
   * @param text The prompt (redacted: placeholders are skipped).
   * @returns The flagged word, or null when the prompt can stay as typed.
   */
  flaggedWord(text: string): string | null {
    const prose = proseOf(text);
    for (const word of wordsOf(prose)) {
      if (!this.#knows(word)) return word;
    }
    for (const pattern of REAL_WORD_ERRORS) {
      const match = pattern.exec(prose);
      if (match) return match[0];
    }
    return null;
  }

  /**
   * Whether a prompt needs the model.
   *
   * @param text The prompt (redacted).
   * @returns True when a word is flagged.
   */
  needsModel(text: string): boolean {
    return this.flaggedWord(text) !== null;
  }

  #knows(word: string): boolean {
    let known = this.#verdicts.get(word);
    if (known === undefined) {
      known = (this.#vocabulary.has(word) || this.#words.has(word)) && !this.#words.isKnownMisspelling(word);
      if (this.#verdicts.size < MAX_TRACKED) this.#verdicts.set(word, known);
    }
    return known;
  }
}

/**
 * The prose words of a text worth checking, lower-cased: identifier-shaped tokens, acronyms, and
 * words shorter than {@linkcode MIN_WORD} are left out; a hyphenated word yields its parts.
 */
function* wordsOf(text: string): Generator<string> {
  for (const raw of text.split(/[\s,;:!?()[\]{}"“”<>=|]+/)) {
    const token = raw.replace(EDGES, "");
    if (token.length < MIN_WORD || !WORD.test(token)) continue;
    if (INNER_CAPITAL.test(token) || ALL_CAPS.test(token)) continue;
    for (const part of token.split("-")) {
      if (part.length < MIN_WORD || ALL_CAPS.test(part)) continue;
      // A possessive ("Netlify's") is checked as its stem.
      yield part.toLowerCase().replace("’", "'").replace(/'s$/, "");
    }
  }
}
