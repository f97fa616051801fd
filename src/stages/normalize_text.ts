/**
 * Text normalisation that keeps code and line structure intact.
 *
 * @module
 */

const FENCE = /^\s*(```|~~~)/;

// Four native scans beat one regex with alternatives over the whole text.
function needsLineWork(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last === 32 || last === 9 || text.includes("\r") || text.includes(" \n") || text.includes("\t\n") ||
    text.includes("\n\n\n");
}

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
  // Most text has nothing to change inside: no CR, no line with trailing spaces or tabs, no two blank
  // lines in a row. Then fences cannot matter (they only protect lines that would change) and only the
  // outer trim remains.
  if (!needsLineWork(text)) return text.trim();
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
