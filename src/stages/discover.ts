/**
 * Stage 0, part one: find every transcript file under the source roots.
 *
 * @module
 */
import type { FileSystem } from "../io/file_system.ts";
import type { SourceFile } from "../schema/records.ts";

/** Options for {@linkcode discover}. */
export interface DiscoverOptions {
  /** Where the roots are read from. */
  fs: FileSystem;
}

/**
 * Lists every `*.jsonl` transcript under `roots` (recursively, subagent folders included), sorted by
 * path in code point order. A file reachable from two overlapping roots is listed once, under the first
 * root given.
 *
 * @param roots Source directories, e.g. `~/.claude/projects`.
 * @param options The file system to read.
 * @returns The files with their size and modification time.
 * @throws {InputError} When a root is missing, not a directory or unreadable (from `options.fs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoFileSystem } from "../io/file_system.ts";
 * import { writeTree } from "../testing/write_tree.ts";
 * import { discover } from "./discover.ts";
 *
 * await using tree = await writeTree({ "p/b.jsonl": "{}\n", "p/a.jsonl": "{}\n", "p/a.meta.json": "{}" });
 * const files = await discover([tree.path], { fs: denoFileSystem() });
 * assert.deepEqual(files.map((f) => f.path), [tree.join("p/a.jsonl"), tree.join("p/b.jsonl")]);
 * ```
 */
export async function discover(roots: string[], options: DiscoverOptions): Promise<SourceFile[]> {
  const byPath = new Map<string, SourceFile>();
  for (const root of roots) {
    for await (const file of options.fs.walk(root)) {
      if (!byPath.has(file.path)) byPath.set(file.path, file);
    }
  }
  return [...byPath.values()].sort((a, b) => compareCodePoints(a.path, b.path));
}

/**
 * Compares strings by Unicode code point (not UTF-16 code unit, which misorders characters above
 * U+FFFF against U+E000–U+FFFF).
 *
 * @param a A string.
 * @param b Another string.
 * @returns Negative, zero or positive, like any comparator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareCodePoints } from "./discover.ts";
 *
 * assert.deepEqual(["\u{1F600}", "\uFF01", "a"].sort(compareCodePoints), ["a", "\uFF01", "\u{1F600}"]);
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // The strings agree up to i, so i is at the same code point boundary in both.
    return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}
