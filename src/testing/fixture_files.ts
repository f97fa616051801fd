/**
 * Test helper: the files of part of an on-disk fixture, ready for `writeTree` (e.g. one project
 * directory per simulated machine).
 *
 * @module
 */
import { join, relative } from "node:path";

/**
 * Reads every file under `root` whose path (relative to `root`) starts with one of `prefixes`.
 *
 * @param root The fixture directory.
 * @param prefixes Relative path prefixes to keep, e.g. `["-home-dana-code-ml-notebooks/"]`.
 * @param under Where the files go in the new tree. @default {""}
 * @returns Relative path → bytes, for `writeTree`.
 */
export async function fixtureFiles(
  root: string,
  prefixes: readonly string[],
  under = "",
): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else {
        const rel = relative(root, path);
        if (prefixes.some((p) => rel.startsWith(p))) files[join(under, rel)] = await Deno.readFile(path);
      }
    }
  };
  await walk(root);
  return files;
}
