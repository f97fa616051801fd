import assert from "node:assert/strict";
import { join } from "node:path";
import { SinkError } from "../errors.ts";
import type { Clock } from "../ports.ts";
import { BUDGET_STATE_FILE, JobBudget, type JobBudgetLimits, nextUtcMidnight } from "./bigquery_budget.ts";

function fakeClock(iso: string): Clock & { set(iso: string): void } {
  let now = Date.parse(iso);
  return {
    now: () => now,
    sleep: () => Promise.resolve(),
    set(next: string) {
      now = Date.parse(next);
    },
  };
}

const limits: JobBudgetLimits = { loadJobsPerTablePerDay: 2, loadJobsPerDay: null, queryJobsPerDay: null };
const T = "test-project.ccpipe.messages";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "ccpipe_budget_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("nextUtcMidnight() returns the next UTC day boundary", () => {
  assert.equal(
    new Date(nextUtcMidnight(Date.parse("2026-08-10T00:00:00Z"))).toISOString(),
    "2026-08-11T00:00:00.000Z",
  );
  assert.equal(
    new Date(nextUtcMidnight(Date.parse("2026-12-31T23:59:59.999Z"))).toISOString(),
    "2027-01-01T00:00:00.000Z",
  );
});

Deno.test("JobBudget.take() refuses the job past the per-table limit, naming the budget and the reset", async () => {
  await using dir = await tempDir();
  const clock = fakeClock("2026-08-10T15:00:00Z");
  const budget = await JobBudget.open(dir.path, { limits, clock });
  await budget.take("load", T);
  await budget.take("load", T);
  await budget.take("load", "test-project.ccpipe.usage"); // another table has its own budget
  await assert.rejects(
    () => budget.take("load", T),
    (e: unknown) =>
      e instanceof SinkError && e.message.includes("'loadJobsPerTablePerDay' (2)") && e.message.includes(T) &&
      e.message.includes("resets at 2026-08-11T00:00:00.000Z") && e.transient,
  );
  assert.equal(budget.used("load", { table: T }), 2, "a refused job is not counted");
  assert.equal(budget.used("load", { project: "test-project" }), 3);
});

Deno.test("JobBudget counters persist in the state dir and reset at UTC midnight", async () => {
  await using dir = await tempDir();
  const clock = fakeClock("2026-08-10T23:59:00Z");
  const first = await JobBudget.open(dir.path, { limits, clock });
  await first.take("load", T);
  await first.take("load", T);
  const stored = JSON.parse(await Deno.readTextFile(join(dir.path, BUDGET_STATE_FILE)));
  assert.deepEqual(stored, { version: 1, day: "2026-08-10", load: { [T]: 2 }, query: {} });
  assert.deepEqual(
    [...Deno.readDirSync(dir.path)].map((e) => e.name),
    [BUDGET_STATE_FILE],
    "no temp file left",
  );

  const reopened = await JobBudget.open(dir.path, { limits, clock });
  assert.throws(() => reopened.check("load", T), SinkError);

  clock.set("2026-08-11T00:00:01Z");
  reopened.check("load", T);
  await reopened.take("load", T);
  assert.equal(reopened.used("load", { table: T }), 1);
});

Deno.test("JobBudget enforces the per-project load and query budgets", async () => {
  await using dir = await tempDir();
  const clock = fakeClock("2026-08-10T10:00:00Z");
  const budget = await JobBudget.open(dir.path, {
    limits: { loadJobsPerTablePerDay: 1500, loadJobsPerDay: 2, queryJobsPerDay: 3 },
    clock,
  });
  await budget.take("load", "test-project.a.messages");
  await budget.take("load", "test-project.b.usage");
  await budget.take("load", "other-project.a.messages"); // another project
  await assert.rejects(() => budget.take("load", "test-project.a.runs"), /'loadJobsPerDay' \(2\)/);
  for (let i = 0; i < 3; i++) await budget.take("query", "test-project.a.messages");
  await assert.rejects(() => budget.take("query", "test-project.a.usage"), /'queryJobsPerDay' \(3\)/);
  assert.equal(budget.used("query", { project: "test-project" }), 3);
});

Deno.test("JobBudget.open() refuses a corrupt state file and bad limits", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, BUDGET_STATE_FILE), "{not json");
  await assert.rejects(() => JobBudget.open(dir.path, { limits }), SinkError);
  await assert.rejects(
    () => JobBudget.open(dir.path, { limits: { ...limits, queryJobsPerDay: 0 } }),
    RangeError,
  );
});

Deno.test("JobBudget counts loads on the table they write, and queries on the project only", async () => {
  const dir = await Deno.makeTempDir();
  const budget = await JobBudget.open(dir, {
    limits: { loadJobsPerTablePerDay: 2, loadJobsPerDay: null, queryJobsPerDay: 3 },
  });
  await budget.take("load", "test-project.ccpipe._stg_messages_r1");
  await budget.take("load", "test-project.ccpipe._stg_messages_r1");
  assert.throws(
    () => budget.check("load", "test-project.ccpipe._stg_messages_r1"),
    /'loadJobsPerTablePerDay' \(2\)/,
  );
  budget.check("load", "test-project.ccpipe._stg_messages_r2"); // each run's staging table is new
  for (let i = 0; i < 3; i++) await budget.take("query", { project: "test-project" });
  await assert.rejects(() => budget.take("query", { project: "test-project" }), /'queryJobsPerDay' \(3\)/);
  assert.equal(budget.used("query", { project: "test-project" }), 3);
  assert.equal(budget.used("load", { project: "test-project" }), 2);
  await Deno.remove(dir, { recursive: true });
});
