/**
 * Replaces secrets with numbered placeholders before anything leaves the machine, and puts them back
 * after. Placeholders have the exact form `{{SECRET_1}}`, numbered per text in order of first
 * appearance; the same secret twice gets the same number. What counts as a secret is
 * {@linkcode findSecrets}'s business (secretlint's recommended rules plus ccpipe's own).
 *
 * @module
 */
import { findSecrets } from "./secret_rules.ts";

/** A `{{SECRET_n}}` placeholder (global; the capture is `n`). */
export const PLACEHOLDER = /\{\{SECRET_(\d+)\}\}/g;

/** A redacted text and the secrets its placeholders stand for (`secrets[0]` is `{{SECRET_1}}`). */
export interface Redacted {
  /** The text with every secret replaced by its placeholder. */
  text: string;
  /** The secrets, in placeholder order. */
  secrets: string[];
}

/**
 * Replaces every secret (cloud and provider keys, tokens, private keys, passwords in URLs, headers
 * and `NAME=value` assignments) with a `{{SECRET_n}}` placeholder.
 *
 * @example Redact and restore
 * ```ts
 * import { redact, restore } from "./redact.ts";
 * const { text, secrets } = redact("use DB_PASSWORD=hunter22 now");
 * if (text !== "use DB_PASSWORD={{SECRET_1}} now") throw new Error(text);
 * if (restore(text, secrets) !== "use DB_PASSWORD=hunter22 now") throw new Error("restore");
 * ```
 *
 * @param text The original text.
 * @returns The redacted text and the secrets in placeholder order.
 */
export function redact(text: string): Redacted {
  const spans = findSecrets(text);
  if (spans.length === 0) return { text, secrets: [] };
  const secrets: string[] = [];
  const numberOf = new Map<string, number>();
  let out = "";
  let from = 0;
  for (const { start, end } of spans) {
    const secret = text.slice(start, end);
    let n = numberOf.get(secret);
    if (n === undefined) {
      n = secrets.push(secret);
      numberOf.set(secret, n);
    }
    out += `${text.slice(from, start)}{{SECRET_${n}}}`;
    from = end;
  }
  return { text: out + text.slice(from), secrets };
}

/**
 * Puts the secrets back in place of their placeholders; placeholders with no secret stay as they are.
 *
 * @param text A redacted (possibly corrected) text.
 * @param secrets The secrets from {@linkcode redact}.
 * @returns The text with its secrets restored.
 */
export function restore(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  return text.replace(PLACEHOLDER, (match, n: string) => secrets[Number(n) - 1] ?? match);
}

/**
 * Lists the placeholders in a text, in order, with repeats.
 *
 * @param text A redacted text.
 * @returns Every `{{SECRET_n}}` occurrence.
 */
export function placeholdersIn(text: string): string[] {
  return text.match(PLACEHOLDER) ?? [];
}
