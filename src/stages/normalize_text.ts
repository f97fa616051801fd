/**
 * Text normalisation that keeps code and line structure intact.
 *
 * @module
 */

const FENCE = /^\s*(```|~~~)/;

/**
 * Normalises message text: CRLF and lone CR become LF, trailing spaces and tabs are removed from each
 * line, runs of two or more blank lines become one, and the whole is trimmed. Lines inside fenced code
 * blocks (``` or ~~~) are left exactly as they were.
 *
 * @param text The raw text.
 * @returns The normalised text.
 *
 * @example Trailing spaces go, code stays
 * ```ts
 * import { normalizeText } from "./normalize_text.ts";
 * const out = normalizeText("fix  \r\n\r\n\r\n\r\nthis\n```\nx = 1   \n\n\n\ny\n```");
 * if (out !== "fix\n\nthis\n```\nx = 1   \n\n\n\ny\n```") throw new Error(JSON.stringify(out));
 * ```
 */
export function normalizeText(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let inFence = false;
  let blankRun = 0;
  for (const line of lines) {
    if (FENCE.test(line)) {
      inFence = !inFence;
      blankRun = 0;
      out.push(line.replace(/[ \t]+$/, ""));
      continue;
    }
    if (inFence) {
      out.push(line);
      continue;
    }
    const trimmed = line.replace(/[ \t]+$/, "");
    if (trimmed === "") {
      blankRun++;
      if (blankRun > 1) continue;
    } else {
      blankRun = 0;
    }
    out.push(trimmed);
  }
  return out.join("\n").trim();
}
