/**
 * Finds the secrets in a text: the rules of secretlint's maintained recommended preset, plus the
 * shapes a rule set for files does not cover in typed prompts (values bound to secret-looking names,
 * URL and HTTP credentials, private keys cut before their END line, bare AWS secret keys).
 *
 * The preset's rules run through their public rule API (`create(context).file(source)`), with one
 * context per rule made once: `@secretlint/core`'s `lintSource` costs about 0.4 ms a call in set-up
 * alone, 200 times this. The preset's `filter-comments` rule is left out so that a prompt saying
 * `secretlint-disable` cannot switch redaction off.
 *
 * @module
 */
import { rules as recommendedRules } from "@secretlint/secretlint-rule-preset-recommend";

/** Where one secret lies in a text, and which rule found it. */
export interface SecretSpan {
  /** Index of the first character. */
  start: number;
  /** Index after the last character. */
  end: number;
  /** The rule's id: a secretlint rule id, or `ccpipe/<name>`. */
  rule: string;
}

// The parts of secretlint's rule API used here (the full types live in @secretlint/types).
interface RuleSource {
  readonly hasBOM: boolean;
  readonly content: string;
  readonly filePath: undefined;
  readonly physicalFilePath: undefined;
  readonly contentType: "text";
  readonly ext: string;
}
interface RuleContext {
  sharedOptions: { locale: string; maskSecrets: boolean };
  createTranslator(messages: unknown): (messageId: string, data?: unknown) => unknown;
  report(descriptor: { range: readonly [number, number] }): void;
  ignore(descriptor: unknown): void;
}
interface Rule {
  meta: { id: string };
  create(context: RuleContext, options: Record<string, unknown>): { file?(source: RuleSource): unknown };
}

const FILTER_COMMENTS = "@secretlint/secretlint-rule-filter-comments";
/** Per-rule options: the AWS rule only looks for access key ids when asked. */
const RULE_OPTIONS: Record<string, Record<string, unknown>> = {
  "@secretlint/secretlint-rule-aws": { enableIDScanRule: true },
};

// Reports go to the list of the scan in progress; scans are synchronous, so one slot is enough.
let reports: SecretSpan[] = [];
const scanners = (recommendedRules as unknown as Rule[])
  .filter((rule) => rule.meta.id !== FILTER_COMMENTS)
  .map((rule) => {
    const id = rule.meta.id;
    const context: RuleContext = {
      sharedOptions: { locale: "en", maskSecrets: false },
      // Messages are never shown: skip building them.
      createTranslator: () => (messageId, data) => ({ message: messageId, messageId, data }),
      report: ({ range }) => reports.push({ start: range[0], end: range[1], rule: id }),
      ignore: () => {},
    };
    const file = rule.create(context, RULE_OPTIONS[id] ?? {}).file;
    if (!file) throw new TypeError(`Cannot use secretlint rule ${id} as it has no file handler`);
    return file;
  });

/** Characters of a key or base64 run: a reported range is widened over them (`=` only at the end). */
const TOKEN_TAIL = /[A-Za-z0-9+/=_-]/;
const TOKEN_HEAD = /[A-Za-z0-9+/_-]/;

/**
 * Runs the preset's rules. A rule's range can stop inside the token it found (the AWS rule reports
 * the key's length from the start of its `NAME=`), so each range is widened to whole tokens.
 */
function presetSpans(text: string): SecretSpan[] {
  reports = [];
  const source: RuleSource = {
    hasBOM: false,
    content: text,
    filePath: undefined,
    physicalFilePath: undefined,
    contentType: "text",
    ext: ".txt",
  };
  for (const file of scanners) {
    // Only GCP's p12 check is asynchronous, and it needs a file path: none is given.
    const pending = file(source);
    if (pending instanceof Promise) pending.catch(() => {});
  }
  const found = reports;
  reports = [];
  for (const span of found) {
    while (span.end < text.length && TOKEN_TAIL.test(text[span.end])) span.end++;
    while (span.start > 0 && TOKEN_HEAD.test(text[span.start - 1])) span.start--;
  }
  return found;
}

/** Names whose value is a secret: the name ends with one of these (case-insensitive). */
const SECRET_NAME =
  /(?:password|passwd|passphrase|secret|token|credentials?|api[_-]?key|(?:access|secret|private|account|signing|encryption|master|auth|client|session|shared[_-]?access|license)[_-]?key|(?:^|[_.-])(?:pass|pwd|pw))$/i;

/**
 * The operator of `NAME = value`, `NAME: value`, `"NAME": "value"`, `NAME := value`, `NAME => value`
 * when NAME ends with a secret word. Matching the operator first (and the word in a lookbehind) is
 * 50 times faster than matching every name in the text; the name and value are read around it.
 */
const SECRET_OPERATOR =
  /(?<=(?:password|passwd|passphrase|secret|token|credentials?|key|pass|pwd|pw)["']?[ \t]*)(?::=|=>|=|:)/gi;
const NAME_CHAR = /[\w.-]/;
/**
 * The value after an operator: quoted (up to 400 characters, one line) or bare. A bare value is read
 * 1,000 characters at a time so that `token=token=token=…` stays linear; a longer one is followed to
 * its end by {@linkcode BARE_REST}.
 */
const VALUE =
  /(?<post>[ \t]*)(?:(?<q>["'`])(?<quoted>[^"'`\r\n]{1,400}?)\k<q>|(?<bare>[^\s"'`,;)}\]&]{1,1000}))/dy;
const BARE_REST = /[^\s"'`,;)}\]&]*/y;

/** Values that are code, types, references or masks rather than secrets. */
const NOT_A_VALUE =
  /^(?:string|str|number|int|integer|float|bool|boolean|bytes|any|unknown|object|none|null|nil|undefined|true|false|yes|no|on|off|required|optional|empty|redacted|hidden|masked|secret|password|token|bearer|basic|env)$/i;
const REFERENCE = /^(?:[$%<@#]|\{\{|\[|\()|[()[\]]|^(?:\.{0,2}\/|~\/|[a-z][a-z0-9+.-]*:\/\/)/i;
const DOTTED_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
const MASK = /^(?:[*xX•.\-_]+|\.\.\.)$/;

function assignmentSpans(text: string, out: SecretSpan[]): void {
  let redactedUntil = 0;
  for (const op of text.matchAll(SECRET_OPERATOR)) {
    // An operator inside a value already found (`a=b=c`) is part of that secret.
    if (op.index! < redactedUntil) continue;
    // The name: back over a closing quote and blanks, then over name characters.
    let nameEnd = op.index!;
    while (nameEnd > 0 && (text[nameEnd - 1] === " " || text[nameEnd - 1] === "\t")) nameEnd--;
    if (text[nameEnd - 1] === '"' || text[nameEnd - 1] === "'") nameEnd--;
    let nameStart = nameEnd;
    while (nameStart > 0 && NAME_CHAR.test(text[nameStart - 1])) nameStart--;
    if (!SECRET_NAME.test(text.slice(nameStart, nameEnd))) continue;
    VALUE.lastIndex = op.index! + op[0].length;
    const m = VALUE.exec(text);
    if (!m) continue;
    const g = m.groups!;
    const quoted = g.quoted !== undefined;
    let value = quoted ? g.quoted : g.bare;
    if (!quoted && value.length === 1000) {
      BARE_REST.lastIndex = VALUE.lastIndex;
      value += BARE_REST.exec(text)![0];
    }
    if (!quoted) value = value.replace(/[.:!?]+$/, "");
    if (value.length < 4 || NOT_A_VALUE.test(value) || REFERENCE.test(value) || MASK.test(value)) continue;
    if (/^\d{1,6}$/.test(value) || (!quoted && DOTTED_PATH.test(value))) continue;
    // A bare word after `NAME: ` or `NAME = ` is prose or a type (`token: Token`); after `NAME=`
    // (env files, shell) it is a value, unless it names a secret itself (`api_key=API_KEY`).
    const envStyle = op[0] === "=" && nameEnd === op.index! && g.post === "";
    if (!quoted && /^[A-Za-z_]+$/.test(value) && (!envStyle || SECRET_NAME.test(value))) continue;
    const start = m.indices!.groups![quoted ? "quoted" : "bare"]![0];
    redactedUntil = start + value.length;
    out.push({ start, end: redactedUntil, rule: "ccpipe/secret-assignment" });
  }
}

/** `scheme://user:password@host`: the password (everything between the first `:` and the last `@`). */
const URL_AUTHORITY = /\b[a-z][a-z0-9+.-]*:\/\/(?<authority>[^\s/?#"'`<>]+)/dgi;

function urlCredentialSpans(text: string, out: SecretSpan[]): void {
  if (!text.includes("://")) return;
  for (const m of text.matchAll(URL_AUTHORITY)) {
    const authority = m.groups!.authority;
    const at = authority.lastIndexOf("@");
    const colon = authority.indexOf(":");
    if (at < 0 || colon < 0 || colon > at) continue;
    const password = authority.slice(colon + 1, at);
    if (password === "" || REFERENCE.test(password)) continue;
    const start = m.indices!.groups!.authority![0] + colon + 1;
    out.push({ start, end: start + password.length, rule: "ccpipe/url-credentials" });
  }
}

/** The credential of an `Authorization:` header, or a long token after `Bearer`. */
const AUTHORIZATION =
  /\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token|digest|bot|apikey)\s+(?<credential>[^\s"',;]+)|\bbearer\s+(?<bearer>[A-Za-z0-9._~+/=-]{16,})/dgi;

/** `curl -u user:password`, `--user`, `--proxy-user`. */
const CURL_USER = /(?<=^|\s)(?:-u|--user|--proxy-user|-U)[ \t]*(["']?)[^\s:"']*:(?<password>[^\s"']+)\1/dg;

function credentialSpans(text: string, out: SecretSpan[]): void {
  for (const m of text.matchAll(AUTHORIZATION)) {
    const group = m.groups!.credential !== undefined ? "credential" : "bearer";
    const value = m.groups![group];
    if (REFERENCE.test(value) || value.length < 4) continue;
    const start = m.indices!.groups![group]![0];
    out.push({ start, end: start + value.length, rule: "ccpipe/authorization" });
  }
  for (const m of text.matchAll(CURL_USER)) {
    const value = m.groups!.password;
    if (REFERENCE.test(value)) continue;
    const start = m.indices!.groups!.password![0];
    out.push({ start, end: start + value.length, rule: "ccpipe/curl-user" });
  }
}

/**
 * A private key block, with or without its END line (a paste cut short). Without END the block runs
 * over the following lines of base64 (real or `\n`-escaped newlines), so prose after it stays.
 */
const PEM_BEGIN = /-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_BASE64_LINES =
  /(?:(?:\r?\n|\\r\\n|\\n)[ \t]*(?:[A-Za-z0-9+/=]+|(?:Proc-Type|DEK-Info|Comment):[^\r\n\\]*)|[ \t]+[A-Za-z0-9+/=]{20,})*/y;

/** Each BEGIN looks for its END once, and the next END found is reused: linear in the text. */
function privateKeySpans(text: string, out: SecretSpan[]): void {
  if (!text.includes("-----BEGIN")) return;
  let nextEnd: { at: number; end: number } | null | undefined;
  let covered = 0;
  for (const begin of text.matchAll(PEM_BEGIN)) {
    if (begin.index! < covered) continue;
    const bodyStart = begin.index! + begin[0].length;
    if (nextEnd !== null && (nextEnd === undefined || nextEnd.at < bodyStart)) {
      PEM_END.lastIndex = bodyStart;
      const end = PEM_END.exec(text);
      nextEnd = end ? { at: end.index, end: end.index + end[0].length } : null;
    }
    if (nextEnd) {
      covered = nextEnd.end;
    } else {
      PEM_BASE64_LINES.lastIndex = bodyStart;
      covered = bodyStart + PEM_BASE64_LINES.exec(text)![0].length;
    }
    out.push({ start: begin.index!, end: covered, rule: "ccpipe/private-key" });
  }
}

/** A JSON Web Token: three base64url parts, the first two JSON objects (`eyJ` is `{"`). */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

/** A Google API key (the preset's GCP rule covers service-account files, not these keys). */
const GOOGLE_API_KEY = /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g;

/**
 * An AWS access key id. The preset's AWS rule finds these too but lets AWS's documented example keys
 * through (noise in a linter); for redaction hiding them costs nothing, so this one does not.
 */
const AWS_KEY_ID = /\b(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g;

/** Base64 characters (the alphabet of an AWS secret access key), and `=` which may not border one. */
const BASE64_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
  BASE64_CHAR[ch.charCodeAt(0)] = 1;
}
BASE64_CHAR["=".charCodeAt(0)] = 2;

function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/**
 * A bare AWS secret access key: a run of exactly 40 base64 characters with upper case, lower case and
 * a digit, random enough (Shannon entropy of at least 4.2 bits a character: a git SHA is hex and
 * excluded, paths and identifiers are far below). Scanned with a loop: a regex costs 10 times more.
 */
function awsSecretSpans(text: string, out: SecretSpan[]): void {
  let runStart = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0;
    if (code < 128 && BASE64_CHAR[code] === 1) continue;
    // A run followed by `=` is the start of a longer padded base64 value.
    if (i - runStart === 40 && code !== 61) {
      const key = text.slice(runStart, i);
      if (/[A-Z]/.test(key) && /[a-z]/.test(key) && /[0-9]/.test(key) && entropy(key) >= 4.2) {
        out.push({ start: runStart, end: i, rule: "ccpipe/aws-secret-key" });
      }
    }
    runStart = i + 1;
  }
}

function patternSpans(text: string, out: SecretSpan[]): void {
  const patterns = [
    ["ccpipe/jwt", JWT],
    ["ccpipe/google-api-key", GOOGLE_API_KEY],
    ["ccpipe/aws-key-id", AWS_KEY_ID],
  ] as const;
  for (const [rule, re] of patterns) {
    for (const m of text.matchAll(re)) out.push({ start: m.index!, end: m.index! + m[0].length, rule });
  }
}

/**
 * Finds every secret in a text, overlapping spans merged, in text order.
 *
 * @example A password in a URL
 * ```ts
 * import { findSecrets } from "./secret_rules.ts";
 * const text = "redis-cli -u redis://default:s3cr3t-Pw@cache:6379";
 * const [span] = findSecrets(text);
 * if (text.slice(span.start, span.end) !== "s3cr3t-Pw") throw new Error(JSON.stringify(span));
 * ```
 *
 * @param text Any text.
 * @returns Non-overlapping spans, sorted by start.
 */
export function findSecrets(text: string): SecretSpan[] {
  const spans = presetSpans(text);
  assignmentSpans(text, spans);
  urlCredentialSpans(text, spans);
  credentialSpans(text, spans);
  privateKeySpans(text, spans);
  patternSpans(text, spans);
  awsSecretSpans(text, spans);
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SecretSpan[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else if (span.end > span.start) merged.push({ ...span });
  }
  return merged;
}
