// Test helper run as a child process by src/pipeline/lock_test.ts: takes the data dir's lock, says so, and holds it
// until killed.
import { acquireLock } from "../pipeline/lock.ts";

await acquireLock(Deno.args[0]);
console.log("locked");
setInterval(() => {}, 60_000);
