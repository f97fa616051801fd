/**
 * Hallucination guards: checks that a model's answer is a correction of what was sent and nothing
 * more. Batch level: exactly the ids sent, each once. Item level: every placeholder, code span, URL
 * and path survives verbatim, and the text stays within length-ratio and edit-distance bounds.
 *
 * @module
 */
import type { CorrectionAnswer, CorrectionItem } from "../schema/correction.ts";
import { PLACEHOLDER, placeholdersIn } from "./redact.ts";

/** The guards, as they appear in `rejected_<guard>` statuses. */
export type GuardName =
  | "ids"
  | "placeholder"
  | "code_span"
  | "url"
  | "path"
  | "length_ratio"
  | "edit_distance";

/** Guard bounds (see `correctionConfigSchema.guards`). */
export interface GuardBounds {
  /** Largest allowed ratio of the longer to the shorter length. */
  maxLengthRatio: number;
  /** Largest allowed edit distance divided by the longer length. */
  maxEditDistanceRatio: number;
}

/**
 * Absolute slack under which the ratio guards do not fire: on a 3-character prompt one fixed
 * letter is a 33% edit, so short texts get this many characters for free.
 */
const SLACK_CHARS = 8;
/** Above this length the edit distance is computed on words, keeping the guard linear-ish. */
const CHAR_LEVEL_MAX = 2000;

const FENCED = /```[\s\S]*?```|~~~[\s\S]*?~~~/g;
const INLINE_CODE = /`[^`\n]+`/g;
const URL = /\b(?:https?|ftp|file):\/\/[^\s<>"'`)\]]+/g;
const PATH =
  /(?:^|(?<=[\s("'=:,]))(?:~|\.{1,2})?\/[\w.@+-]+(?:\/[\w.@+-]*)*|(?:^|(?<=[\s("'=:,]))[\w.@-]+(?:\/[\w.@+-]+)+\.\w{1,8}\b|\b[A-Za-z]:\\[\w.\\ -]+/g;

/**
 * Checks that an answer carries exactly the ids sent, each once.
 *
 * @param sent The batch's items.
 * @param answer The validated answer.
 * @returns The corrected text per id, or `undefined` when the ids do not match.
 */
export function matchIds(
  sent: readonly CorrectionItem[],
  answer: CorrectionAnswer,
): Map<string, string> | undefined {
  if (answer.items.length !== sent.length) return undefined;
  const byId = new Map<string, string>();
  for (const { id, corrected } of answer.items) {
    if (byId.has(id)) return undefined;
    byId.set(id, corrected);
  }
  for (const { id } of sent) if (!byId.has(id)) return undefined;
  return byId;
}

/**
 * Extracts the spans a correction must keep verbatim, by guard.
 *
 * @param text An (already redacted) original text.
 * @returns Placeholders, code spans, URLs and paths, each with repeats.
 */
export function protectedSpans(text: string): Record<"placeholder" | "code_span" | "url" | "path", string[]> {
  const placeholder = placeholdersIn(text);
  const fenced = text.match(FENCED) ?? [];
  let rest = text.replace(FENCED, " ");
  const inline = rest.match(INLINE_CODE) ?? [];
  rest = rest.replace(INLINE_CODE, " ");
  const url = (rest.match(URL) ?? []).map(trimTrailingPunctuation);
  rest = rest.replace(URL, " ");
  const path = (rest.match(PATH) ?? []).map(trimTrailingPunctuation).filter((p) => p.length > 1);
  return { placeholder, code_span: [...fenced, ...inline], url, path };
}

/**
 * Blanks every placeholder, code span, URL and path out of a text: the prose a spell check may read.
 *
 * @example
 * ```ts
 * import { proseOf } from "./guards.ts";
 * if (proseOf("see `fooBar()` in src/a.ts") !== "see   in  ") throw new Error();
 * ```
 *
 * @param text An (already redacted) original text.
 * @returns The text with those spans replaced by a space each.
 */
export function proseOf(text: string): string {
  return text.replace(PLACEHOLDER, " ").replace(FENCED, " ").replace(INLINE_CODE, " ").replace(URL, " ")
    .replace(PATH, " ");
}

function trimTrailingPunctuation(span: string): string {
  return span.replace(/[.,;:!?]+$/, "");
}

function countOf(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/**
 * Runs the item-level guards on one corrected text.
 *
 * @example A changed URL is caught
 * ```ts
 * import { checkItem } from "./guards.ts";
 * const bounds = { maxLengthRatio: 1.5, maxEditDistanceRatio: 0.35 };
 * if (checkItem("se https://a.dev/x", "see https://a.dev/y", bounds) !== "url") throw new Error();
 * ```
 *
 * @param original The text sent (redacted).
 * @param corrected The model's text for it.
 * @param bounds Length-ratio and edit-distance bounds.
 * @returns The first guard that fails, or `null` when all pass.
 */
export function checkItem(original: string, corrected: string, bounds: GuardBounds): GuardName | null {
  if (original === corrected) return null;
  const spans = protectedSpans(original);
  for (const guard of ["placeholder", "code_span", "url", "path"] as const) {
    const needed = new Map<string, number>();
    for (const span of spans[guard]) needed.set(span, (needed.get(span) ?? 0) + 1);
    for (const [span, n] of needed) if (countOf(corrected, span) < n) return guard;
  }
  // A corrected text that gained placeholders invented them.
  if (placeholdersIn(corrected).length > spans.placeholder.length) return "placeholder";
  const a = original.length, b = corrected.length;
  const longer = Math.max(a, b), shorter = Math.min(a, b);
  if (longer - shorter > SLACK_CHARS && longer > bounds.maxLengthRatio * Math.max(shorter, 1)) {
    return "length_ratio";
  }
  const allowed = Math.max(SLACK_CHARS / 2, bounds.maxEditDistanceRatio * longer);
  if (longer <= CHAR_LEVEL_MAX) {
    if (editDistance(original, corrected, Math.floor(allowed) + 1) > allowed) return "edit_distance";
  } else {
    const wa = original.split(/\s+/), wb = corrected.split(/\s+/);
    const wordAllowed = bounds.maxEditDistanceRatio * Math.max(wa.length, wb.length);
    if (editDistance(wa, wb, Math.floor(wordAllowed) + 1) > Math.max(2, wordAllowed)) return "edit_distance";
  }
  return null;
}

/**
 * Levenshtein distance between two sequences, stopping early once it exceeds `cap`.
 *
 * @example
 * ```ts
 * import { editDistance } from "./guards.ts";
 * if (editDistance("kitten", "sitting") !== 3) throw new Error();
 * ```
 *
 * @param a The first string or token list.
 * @param b The second string or token list.
 * @param cap Stop once every path exceeds this (returns a value above it). Default: no cap.
 * @returns The distance, or some value above `cap`.
 */
export function editDistance(
  a: string | readonly string[],
  b: string | readonly string[],
  cap: number = Infinity,
): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      const cost = ai === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > cap) return cap + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}
