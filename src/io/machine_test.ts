import assert from "node:assert/strict";
import { machineColumns } from "./machine.ts";

Deno.test("machineColumns() hashes host name and OS user into a stable id that names neither", () => {
  const a = machineColumns({ hostname: "dana-mbp", osUser: "dana" });
  assert.deepEqual(a, machineColumns({ hostname: "dana-mbp", osUser: "dana" }));
  assert.match(a.machine_id, /^m-[0-9a-f]{16}$/);
  assert.ok(!a.machine_id.includes("dana"));
  assert.notEqual(a.machine_id, machineColumns({ hostname: "dana-mbp", osUser: "root" }).machine_id);
  // "ab" + "c" and "a" + "bc" are different machines.
  assert.notEqual(
    machineColumns({ hostname: "ab", osUser: "c" }).machine_id,
    machineColumns({ hostname: "a", osUser: "bc" }).machine_id,
  );
  assert.equal(a.user_label, null);
});

Deno.test("machineColumns() takes --machine-name and --user as given, and refuses odd values", () => {
  assert.deepEqual(machineColumns({ hostname: "h", osUser: "u", name: "build-01", user: "Dana K." }), {
    machine_id: "build-01",
    user_label: "Dana K.",
  });
  assert.throws(() => machineColumns({ hostname: "h", osUser: "u", name: "" }), RangeError);
  assert.throws(
    () => machineColumns({ hostname: "h", osUser: "u", user: "a\nb" }),
    /'--user' as it must be 1-100 letters/,
  );
});
