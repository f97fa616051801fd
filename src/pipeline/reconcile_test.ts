import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { reconcile } from "./reconcile.ts";

// The fixture's counts (fixtures/claude_code_100/README.md): 130 lines = 128 records + 2 rejects + 1 blank
// − 1 glued; 128 records = 104 unique + 2 duplicates + 22 without uuid; 46 prompts, split by hand.
const lines = { read: 130, records: 128, rejects: 2, blank: 1, glued: 1 };
const records = { ran: true, parsed: 128, unique: 104, duplicates: 2, withoutUuid: 22, invalid: 0 };
const prompts = {
  total: 46,
  carriedOver: 0,
  sent: 28,
  cacheHits: 5,
  skipped: 4,
  dedupedInRun: 4,
  pending: 3,
  cleanLocal: 2,
};

Deno.test("reconcile() balances counts that add up and keeps them", () => {
  assertEquals(reconcile({ lines, records, prompts }), {
    lines: { read: 130, records: 128, rejects: 2, blank: 1, glued: 1, balanced: true },
    records: {
      ran: true,
      parsed: 128,
      unique: 104,
      duplicates: 2,
      withoutUuid: 22,
      invalid: 0,
      balanced: true,
    },
    prompts: {
      total: 46,
      carriedOver: 0,
      sent: 28,
      cacheHits: 5,
      skipped: 4,
      dedupedInRun: 4,
      pending: 3,
      cleanLocal: 2,
      balanced: true,
    },
  });
});

Deno.test("reconcile() flags lines that do not add up, one term at a time", () => {
  const cases: Record<string, Partial<typeof lines>> = {
    "a line lost": { read: 131 },
    "a record too many": { records: 129 },
    "a reject too many": { rejects: 3 },
    "a blank too many": { blank: 2 },
    "a glued recovery too many": { glued: 2 },
    "no glued recovery": { glued: 0 },
  };
  for (const [name, change] of Object.entries(cases)) {
    const r = reconcile({ lines: { ...lines, ...change }, records, prompts });
    assertEquals([r.lines.balanced, r.records.balanced, r.prompts.balanced], [false, true, true], name);
  }
});

Deno.test("reconcile() flags records that do not add up, one term at a time", () => {
  const cases: Record<string, Partial<typeof records>> = {
    "a record lost": { parsed: 129 },
    "a unique too many": { unique: 105 },
    "a duplicate too many": { duplicates: 3 },
    "a record without uuid too many": { withoutUuid: 23 },
    "an invalid record not subtracted": { invalid: 1 },
  };
  for (const [name, change] of Object.entries(cases)) {
    const r = reconcile({ lines, records: { ...records, ...change }, prompts });
    assertEquals([r.lines.balanced, r.records.balanced, r.prompts.balanced], [true, false, true], name);
  }
  // One invalid record moved out of the unique ones balances again.
  const moved = reconcile({ lines, records: { ...records, unique: 103, invalid: 1 }, prompts });
  assertEquals(moved.records.balanced, true);
});

Deno.test("reconcile() does not judge records when Stage 2 did not run", () => {
  const r = reconcile({ lines, records: { ...records, ran: false, unique: 0, duplicates: 0 }, prompts });
  assertEquals(r.records.balanced, true);
});

Deno.test("reconcile() flags prompts that do not add up, one term at a time", () => {
  const cases: Record<string, Partial<typeof prompts>> = {
    "a prompt lost": { total: 47 },
    "a send too many": { sent: 29 },
    "a cache hit too many": { cacheHits: 6 },
    "a skip too many": { skipped: 5 },
    "an in-run duplicate too many": { dedupedInRun: 5 },
    "a pending prompt too many": { pending: 4 },
    "a locally clean prompt too many": { cleanLocal: 3 },
  };
  for (const [name, change] of Object.entries(cases)) {
    const r = reconcile({ lines, records, prompts: { ...prompts, ...change } });
    assertEquals([r.lines.balanced, r.records.balanced, r.prompts.balanced], [true, true, false], name);
  }
  // Carried-over prompts are part of the total, not a term of their own.
  const carried = reconcile({ lines, records, prompts: { ...prompts, carriedOver: 3 } });
  assertEquals(carried.prompts.balanced, true);
});
