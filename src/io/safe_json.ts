/**
 * Text and JSON a warehouse can always take, whatever the input held: cuts that never split a character,
 * lone surrogates replaced, and nesting capped without recursion (a 10,000-deep object in a transcript must
 * not reach a stack limit in `JSON.stringify`, DuckDB or BigQuery).
 *
 * @module
 */

/** Deepest nesting kept in a JSON value; BigQuery's JSON type refuses more than 500 levels. */
export const MAX_JSON_DEPTH = 200;

/** What replaces a container nested deeper than the limit. */
export const TOO_DEEP_MARKER = "[ccpipe: nested too deep, dropped]";

/**
 * Cuts `text` to at most `max` UTF-16 code units without splitting a surrogate pair.
 *
 * @param text The text.
 * @param max The largest length kept.
 * @returns `text`, or its longest prefix of whole code points within `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutCodePoints } from "./safe_json.ts";
 *
 * assert.equal(cutCodePoints("ab\u{1F600}", 3), "ab");
 * ```
 */
export function cutCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  // A high surrogate at the cut would be left alone without its pair.
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * Cuts UTF-8 `bytes` to at most `max` bytes without splitting a character.
 *
 * @param bytes UTF-8 text.
 * @param max The largest length kept.
 * @returns A view of the longest prefix of whole characters within `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutUtf8 } from "./safe_json.ts";
 *
 * assert.equal(cutUtf8(new TextEncoder().encode("a\u{1F600}"), 3).length, 1);
 * ```
 */
export function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the character the cut falls in.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * Whether a JSON value needs {@linkcode sanitiseJson}: a lone surrogate in a string or key, or nesting
 * deeper than `maxDepth`. Walks without recursion and allocates nothing per plain value.
 *
 * @param value A value from `JSON.parse`.
 * @param maxDepth Deepest nesting allowed. @default {MAX_JSON_DEPTH}
 */
export function needsSanitising(value: unknown, maxDepth: number = MAX_JSON_DEPTH): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const item = values.pop();
    const depth = depths.pop()!;
    if (typeof item === "string") {
      if (!item.isWellFormed()) return true;
    } else if (typeof item === "object" && item !== null) {
      if (depth >= maxDepth) return true;
      if (Array.isArray(item)) {
        for (const child of item) {
          values.push(child);
          depths.push(depth + 1);
        }
      } else {
        for (const key in item) {
          if (!key.isWellFormed()) return true;
          values.push((item as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** What {@linkcode sanitiseJson} changed. */
export interface Sanitised {
  value: unknown;
  /** One note per kind of change, e.g. `lone surrogate replaced`; empty when nothing changed. */
  notes: string[];
}

/**
 * Returns `value` itself when it is safe, else a copy with lone surrogates replaced by U+FFFD and every
 * container nested deeper than `maxDepth` replaced by {@linkcode TOO_DEEP_MARKER}. Never recurses.
 *
 * @param value A value from `JSON.parse`.
 * @param maxDepth Deepest nesting kept. @default {MAX_JSON_DEPTH}
 * @returns The safe value and what was changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sanitiseJson } from "./safe_json.ts";
 *
 * assert.deepEqual(sanitiseJson({ a: { b: "cut \ud83d" } }, 1), {
 *   value: { a: "[ccpipe: nested too deep, dropped]" },
 *   notes: ["nested deeper than 1 levels"],
 * });
 * assert.deepEqual(sanitiseJson(["cut \ud83d"]).value, ["cut \uFFFD"]);
 * ```
 */
export function sanitiseJson(value: unknown, maxDepth: number = MAX_JSON_DEPTH): Sanitised {
  if (maxDepth === MAX_JSON_DEPTH && isObject(value) && returned.has(value)) return { value, notes: [] };
  const safe = walk(value, maxDepth);
  if (maxDepth === MAX_JSON_DEPTH && isObject(safe.value)) returned.add(safe.value);
  return safe;
}

/**
 * Containers {@linkcode sanitiseJson} returned at the default depth: a second call (the row guard after
 * Stage 3's `extra`) returns them without walking them again. So a caller must add only safe values to one.
 */
const returned = new WeakSet<object>();

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function walk(value: unknown, maxDepth: number): Sanitised {
  if (!needsSanitising(value, maxDepth)) return { value, notes: [] };
  const notes = new Set<string>();
  const root: { value: unknown } = { value: undefined };
  const stack: {
    source: unknown;
    depth: number;
    target: Record<string | number, unknown>;
    key: string | number;
  }[] = [
    { source: value, depth: 0, target: root as unknown as Record<string, unknown>, key: "value" },
  ];
  while (stack.length > 0) {
    const { source, depth, target, key } = stack.pop()!;
    if (typeof source === "string") {
      if (source.isWellFormed()) target[key] = source;
      else {
        target[key] = source.toWellFormed();
        notes.add("lone surrogate replaced");
      }
    } else if (typeof source !== "object" || source === null) {
      target[key] = source;
    } else if (depth >= maxDepth) {
      target[key] = TOO_DEEP_MARKER;
      notes.add(`nested deeper than ${maxDepth} levels`);
    } else if (Array.isArray(source)) {
      const copy: unknown[] = new Array(source.length);
      target[key] = copy;
      for (let i = 0; i < source.length; i++) {
        stack.push({
          source: source[i],
          depth: depth + 1,
          target: copy as unknown as Record<number, unknown>,
          key: i,
        });
      }
    } else {
      const copy: Record<string, unknown> = {};
      target[key] = copy;
      for (const [name, child] of Object.entries(source)) {
        let safeName = name;
        if (!name.isWellFormed()) {
          safeName = name.toWellFormed();
          notes.add("lone surrogate replaced");
        }
        // An own data property keeps the key order (the stack fills the value in later) and keeps a
        // "__proto__" key from the input as data, not as the object's prototype.
        Object.defineProperty(copy, safeName, {
          value: null,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        stack.push({ source: child, depth: depth + 1, target: copy, key: safeName });
      }
    }
  }
  return { value: root.value, notes: [...notes] };
}

/**
 * Serialises at most about `maxChars` characters of `value` as JSON, without recursion and without
 * serialising the rest (a reject's prefix needs only its start).
 *
 * @param value A value from `JSON.parse`.
 * @param maxChars The longest prefix returned.
 * @returns Well-formed text of at most `maxChars` code units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonPrefix } from "./safe_json.ts";
 *
 * assert.equal(jsonPrefix({ a: [1, "x"], b: null }, 100), '{"a":[1,"x"],"b":null}');
 * assert.equal(jsonPrefix({ a: "long text" }, 8), '{"a":"lo');
 * ```
 */
export function jsonPrefix(value: unknown, maxChars: number): string {
  // The stack holds values still to write and Literal text (brackets, commas, keys) in between.
  const stack: unknown[] = [value];
  let out = "";
  while (stack.length > 0 && out.length < maxChars) {
    const item = stack.pop();
    if (item instanceof Literal) {
      out += item.text;
    } else if (Array.isArray(item)) {
      // Each element writes at least one character: more than maxChars of them are never reached.
      const shown = Math.min(item.length, maxChars);
      stack.push(new Literal("]"));
      for (let i = shown - 1; i >= 0; i--) {
        stack.push(item[i]);
        if (i > 0) stack.push(new Literal(","));
      }
      stack.push(new Literal("["));
    } else if (typeof item === "object" && item !== null) {
      const entries = Object.entries(item).slice(0, maxChars);
      stack.push(new Literal("}"));
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push(entries[i][1]);
        stack.push(new Literal(`${i > 0 ? "," : ""}${JSON.stringify(entries[i][0])}:`));
      }
      stack.push(new Literal("{"));
    } else {
      out += JSON.stringify(item) ?? "null";
    }
  }
  return cutCodePoints(out, maxChars).toWellFormed();
}

class Literal {
  constructor(readonly text: string) {}
}
