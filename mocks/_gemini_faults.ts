/**
 * The hallucinations Stage 4 must catch, applied to an otherwise correct answer.
 *
 * @module
 */
import { correctTypos, protectedSpans } from "./_gemini_typos.ts";

/** One answer item. */
export interface AnswerItem {
  id: string;
  corrected: string;
}

/** The hallucination faults (the answer-shaped ones; transport faults live in gemini.ts). */
export type HallucinationFault =
  | "missing_id"
  | "extra_id"
  | "duplicate_id"
  | "swapped"
  | "answered"
  | "rewritten"
  | "code_altered"
  | "url_altered"
  | "placeholder_dropped";

const CODE = /\x60\x60\x60[\s\S]*?(?:\x60\x60\x60|$)|\x60[^\x60\n]+\x60/;
const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"'\x60]+/;
const PLACEHOLDER = / ?\{\{SECRET_\d+\}\}/;

/**
 * Corrupts a correct answer as the fault names. Returns `undefined` when the fault cannot apply to these
 * items (swapped needs two items, code_altered a code span, url_altered a URL, placeholder_dropped a
 * placeholder): the caller then answers correctly and logs no fault.
 *
 * @param fault The hallucination to apply.
 * @param items The correct answer items (not modified).
 * @param random Seeded generator used to pick the victim item.
 * @returns The corrupted items, or `undefined` when not applicable.
 */
export function corruptAnswer(
  fault: HallucinationFault,
  items: readonly AnswerItem[],
  random: () => number,
): AnswerItem[] | undefined {
  const out = items.map((item) => ({ ...item }));
  if (out.length === 0) return undefined;
  const pick = Math.floor(random() * out.length);
  switch (fault) {
    case "missing_id":
      out.splice(pick, 1);
      return out;
    case "extra_id": {
      const ids = new Set(out.map((item) => item.id));
      let n = out.length + 1;
      while (ids.has(`z${n}`)) n++;
      out.push({ id: `z${n}`, corrected: out[pick].corrected });
      return out;
    }
    case "duplicate_id":
      out.splice(pick + 1, 0, { ...out[pick] });
      return out;
    case "swapped": {
      if (out.length < 2) return undefined;
      const other = (pick + 1) % out.length;
      [out[pick].corrected, out[other].corrected] = [out[other].corrected, out[pick].corrected];
      return out;
    }
    case "answered":
      out[pick].corrected = answerTo(out[pick].corrected);
      return out;
    case "rewritten":
      out[pick].corrected = rewrite(out[pick].corrected);
      return out;
    case "code_altered":
      return alterFirst(out, pick, CODE, alterCode);
    case "url_altered":
      return alterFirst(out, pick, URL_RE, alterUrl);
    case "placeholder_dropped":
      return alterFirst(out, pick, PLACEHOLDER, () => "");
  }
}

// Alters the first match in the picked item, or else in the first item that has one.
function alterFirst(
  items: AnswerItem[],
  pick: number,
  pattern: RegExp,
  alter: (span: string) => string,
): AnswerItem[] | undefined {
  const order = [pick, ...items.keys()];
  const index = order.find((i) => pattern.test(items[i].corrected));
  if (index === undefined) return undefined;
  items[index].corrected = items[index].corrected.replace(pattern, alter);
  return items;
}

function answerTo(text: string): string {
  const topic = text.replace(/\s+/g, " ").slice(0, 40).trim();
  return `Sure! Here is how you can approach "${topic}": first, check the configuration and the logs; ` +
    "then reproduce the problem with a minimal example; finally, fix the failing step and run the tests again.";
}

function rewrite(text: string): string {
  // Keeps the protected spans (so only this fault shows) but reorders and pads everything else.
  const spans = protectedSpans(text);
  const words = text.split(/\s+/).filter((w) => w.length > 0 && !spans.some((s) => s.includes(w)));
  return `To put it more formally, I would kindly ask for assistance with the following: ${
    words.reverse().join(" ")
  } ${spans.join(" ")}. Thank you very much in advance for your time and consideration.`.replace(
    /\s+\./,
    ".",
  );
}

function alterCode(span: string): string {
  // What a model "helpfully" does to code: fix the spelling inside it, or else touch an identifier.
  const fixed = correctTypos(span.replace(/\x60/g, "\uE000")).replace(/\uE000/g, "\x60");
  if (fixed !== span) return fixed;
  return span.replace(/[A-Za-z]/, (c) => c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase());
}

function alterUrl(url: string): string {
  if (url.startsWith("http://")) return "https://" + url.slice(7);
  return url.includes("://www.") ? url.replace("://www.", "://") : url.replace("://", "://www.");
}
