/**
 * Test helper: a temporary directory tree built from a plain object and removed on dispose.
 *
 * @module
 */
import { dirname, join } from "node:path";

/** A temporary tree on disk; `await using` removes it at scope end. */
export interface Tree extends AsyncDisposable {
  /** Absolute path of the tree's root directory. */
  readonly path: string;
  /** Absolute path of `relative` inside the tree. */
  join(...relative: string[]): string;
}

/**
 * Writes `files` (relative path → contents) under a fresh temporary directory.
 *
 * A key ending in `/` creates an empty directory. Parent directories are created as needed.
 *
 * @param files The files to write, keyed by path relative to the tree's root.
 * @returns The tree, removed recursively when disposed.
 * @throws {TypeError} When a key is absolute or climbs out of the tree with `..`.
 *
 * @example Build a projects tree for one test
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTree } from "./write_tree.ts";
 *
 * await using tree = await writeTree({ "p/s.jsonl": '{"type":"user"}\n', "empty/": "" });
 * assert.equal(await Deno.readTextFile(tree.join("p/s.jsonl")), '{"type":"user"}\n');
 * ```
 */
export async function writeTree(files: Record<string, string | Uint8Array>): Promise<Tree> {
  const root = await Deno.makeTempDir({ prefix: "ccpipe_test_" });
  try {
    for (const [relative, contents] of Object.entries(files)) {
      if (relative.startsWith("/") || relative.split("/").includes("..")) {
        throw new TypeError(
          `Cannot write tree as each path must be relative and stay inside the tree: current value is '${relative}'`,
        );
      }
      const path = join(root, relative);
      if (relative.endsWith("/")) {
        await Deno.mkdir(path, { recursive: true });
        continue;
      }
      await Deno.mkdir(dirname(path), { recursive: true });
      if (typeof contents === "string") await Deno.writeTextFile(path, contents);
      else await Deno.writeFile(path, contents);
    }
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
  return {
    path: root,
    join: (...relative) => join(root, ...relative),
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}
