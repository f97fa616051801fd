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

Deno.test("acquireLock() is not blocked by a lock file left behind with a dead process's pid", async () => {
  await using tree = await writeTree({ ".lock": "4194303\n" });
  await using _lock = await acquireLock(tree.path);
  assertEquals((await Deno.readTextFile(tree.join(".lock"))).trim(), String(Deno.pid));
});

// A real second process, under a subset of `deno task ccpipe`'s permissions (no --allow-all, so no
// /proc/self): while it holds the lock a run is refused; once it is killed with SIGKILL, which runs no
// cleanup at all, the kernel has dropped the lock and the next run starts.
Deno.test("acquireLock() is refused while another process holds the lock and free once it is kill -9ed", async () => {
  await using tree = await writeTree({});
  const holder = new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--no-lock",
      new URL("../testing/hold_lock.ts", import.meta.url).href,
      tree.path,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assertEquals(first.trim(), "locked");
  await assertRejects(
    () => acquireLock(tree.path),
    (error: unknown) => error instanceof InputError && error.message.includes(`pid ${holder.pid}`),
  );
  holder.kill("SIGKILL");
  const status = await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  assertEquals(status.signal, "SIGKILL");
  await using _lock = await acquireLock(tree.path);
});
