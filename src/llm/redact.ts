/**
 * Replaces secret-shaped strings with numbered placeholders before anything leaves the machine, and
 * puts them back after. Placeholders have the exact form `{{SECRET_1}}`, numbered per text in order of
 * first appearance; the same secret twice gets the same number.
 *
 * @module
 */

/** The patterns redacted, by name. Assignment values keep their `key=` prefix (group `value`). */
const PATTERNS: readonly { name: string; re: RegExp }[] = [
  {
    name: "pem_private_key",
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g,
  },
  { name: "jwt", re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g },
  { name: "aws_access_key", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { name: "github_token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { name: "openai_anthropic_key", re: /\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}/g },
  { name: "google_api_key", re: /\bAIza[0-9A-Za-z_-]{30,}/g },
  { name: "slack_token", re: /\bxox[abprs]-[0-9A-Za-z-]{10,}/g },
  {
    name: "assignment",
    re:
      /\b(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key)["']?\s*[:=]\s*(["']?)(?<value>[^\s"',;{}]{4,})\1/gi,
  },
];

const PLACEHOLDER = /\{\{SECRET_(\d+)\}\}/g;

/** A redacted text and the secrets its placeholders stand for (`secrets[0]` is `{{SECRET_1}}`). */
export interface Redacted {
  /** The text with every secret replaced by its placeholder. */
  text: string;
  /** The secrets, in placeholder order. */
  secrets: string[];
}

/**
 * Replaces secret-shaped strings (cloud keys, provider tokens, JWTs, private keys, `password=`
 * assignments) with `{{SECRET_n}}` placeholders.
 *
 * @example Redact and restore
 * ```ts
 * import { redact, restore } from "./redact.ts";
 * const { text, secrets } = redact("use AKIAABCDEFGHIJKLMNOP now");
 * if (text !== "use {{SECRET_1}} now") throw new Error(text);
 * if (restore(text, secrets) !== "use AKIAABCDEFGHIJKLMNOP now") throw new Error("restore");
 * ```
 *
 * @param text The original text.
 * @returns The redacted text and the secrets in placeholder order.
 */
export function redact(text: string): Redacted {
  const secrets: string[] = [];
  const numberOf = new Map<string, number>();
  const placeholderFor = (secret: string): string => {
    let n = numberOf.get(secret);
    if (n === undefined) {
      secrets.push(secret);
      n = secrets.length;
      numberOf.set(secret, n);
    }
    return `{{SECRET_${n}}}`;
  };
  let out = text;
  for (const { name, re } of PATTERNS) {
    re.lastIndex = 0;
    if (!re.test(out)) continue;
    re.lastIndex = 0;
    if (name === "assignment") {
      out = out.replace(re, (match: string, ...args: unknown[]) => {
        const groups = args.at(-1) as { value: string };
        const value = groups.value;
        if (/^\{\{SECRET_\d+\}\}$/.test(value) || /^\{\{SECRET_/.test(value)) return match;
        const at = match.lastIndexOf(value);
        return match.slice(0, at) + placeholderFor(value) + match.slice(at + value.length);
      });
    } else {
      out = out.replace(re, (match) => placeholderFor(match));
    }
  }
  return { text: out, secrets };
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
