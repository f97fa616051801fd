import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { InputError } from "../errors.ts";
import { writeTree } from "../testing/write_tree.ts";
import { acquireLock } from "./lock.ts";

Deno.test("acquireLock() refuses a second run on the same data dir and frees the lock on dispose", async () => {
  await using tree = await writeTree({});
  {
    await using _held = await acquireLock(tree.path);
    await assertRejects(
      () => acquireLock(tree.path),
      (error: unknown) => error instanceof InputError && error.message.includes(`pid ${Deno.pid}`),
    );
  }
  await using _again = await acquireLock(tree.path);
});

Deno.test("acquireLock() takes over a lock left by a process that no longer exists", async () => {
  await using tree = await writeTree({ ".lock": "4194303\n" });
  const hasProc = (() => {
    try {
      return Deno.statSync("/proc/self").isDirectory;
    } catch {
      return false;
    }
  })();
  if (!hasProc) {
    await assertRejects(() => acquireLock(tree.path), InputError);
    return;
  }
  await using _lock = await acquireLock(tree.path);
  assertEquals((await Deno.readTextFile(tree.join(".lock"))).trim(), String(Deno.pid));
});
