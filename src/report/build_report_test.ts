import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { buildReport, isoWeekMonday } from "./build_report.ts";
import type { UsageFact } from "./usage_query.ts";

// Sonnet 4.5: $3/M in, $15/M out. 1,000 in + 1,000 out = $0.018 per response below.
function fact(i: number, timestamp: string | null, over: Partial<UsageFact> = {}): UsageFact {
  return {
    usage_key: `msg_${i}`,
    timestamp,
    session_id: `s${i % 2}`,
    project: i % 2 ? "/home/dana/code/blog" : "/home/dana/code/api",
    model: "claude-sonnet-4-5-20250929",
    machine_id: i < 2 ? "dana-mbp" : "ci-runner",
    user_label: i < 2 ? "dana" : null,
    input_tokens: 1000,
    output_tokens: 1000,
    cache_creation_input_tokens: 0,
    cache_creation_1h_input_tokens: 0,
    cache_read_input_tokens: 0,
    total_tokens: 2000,
    web_search_requests: null,
    ...over,
  };
}

const facts = [
  fact(0, "2026-03-01T23:30:00.000Z"), // Sunday 1 March in UTC, Monday 2 March 00:30 in Paris (UTC+1)
  fact(1, "2026-03-02T08:00:00.000Z"),
  fact(2, "2026-03-31T23:30:00.000Z"), // 31 March in UTC, 1 April in Paris (UTC+2 from 29 March)
  fact(3, "2026-04-02T10:00:00.000Z", { model: "claude-imaginary-9" }),
];

Deno.test("buildReport counts days in the report's time zone, not the load-time event_date", () => {
  const utc = buildReport(facts.slice(0, 3), { kind: "daily" });
  assertEquals(utc.rows.map((r) => [r.date, r.responses]), [["2026-03-01", 1], ["2026-03-02", 1], [
    "2026-03-31",
    1,
  ]]);
  const paris = buildReport(facts.slice(0, 3), { kind: "daily", timeZone: "Europe/Paris" });
  assertEquals(paris.rows.map((r) => [r.date, r.responses]), [["2026-03-02", 2], ["2026-04-01", 1]]);
  assertEquals(paris.timezone, "Europe/Paris");
  assertEquals(paris.rows[0].cost_usd, 0.036);
  assertEquals(paris.totals.cost_usd, 0.054);
});

Deno.test("buildReport keys weeks on the ISO week's Monday and months as YYYY-MM", () => {
  assertEquals(isoWeekMonday("2026-03-01"), "2026-02-23"); // a Sunday belongs to the week before
  assertEquals(isoWeekMonday("2026-03-02"), "2026-03-02");
  assertEquals(isoWeekMonday("2027-01-01"), "2026-12-28");
  const weekly = buildReport(facts.slice(0, 3), { kind: "weekly" });
  assertEquals(weekly.rows.map((r) => [r.week, r.responses]), [["2026-02-23", 1], ["2026-03-02", 1], [
    "2026-03-30",
    1,
  ]]);
  const monthly = buildReport(facts.slice(0, 3), { kind: "monthly", timeZone: "Europe/Paris" });
  assertEquals(monthly.rows.map((r) => [r.month, r.responses]), [["2026-03", 2], ["2026-04", 1]]);
});

Deno.test("buildReport filters by day range (inclusive, in the zone) and by project path or name", () => {
  const ranged = buildReport(facts, { kind: "daily", since: "2026-03-02", until: "2026-03-31" });
  assertEquals(ranged.rows.map((r) => r.date), ["2026-03-02", "2026-03-31"]);
  assertEquals([ranged.since, ranged.until], ["2026-03-02", "2026-03-31"]);
  const blog = buildReport(facts, { kind: "project", project: "blog" });
  assertEquals(blog.rows.map((r) => [r.project, r.responses]), [["/home/dana/code/blog", 2]]);
  const byPath = buildReport(facts, { kind: "project", project: "/home/dana/code/api" });
  assertEquals(byPath.totals.responses, 2);
  assertEquals(buildReport(facts, { kind: "project", project: "log" }).rows, []);
});

Deno.test("buildReport gives a model without a price a null cost, names it, and nulls every sum it is in", () => {
  const report = buildReport(facts, { kind: "model" });
  assertEquals(report.rows.map((r) => [r.model, r.cost_usd]), [
    ["claude-sonnet-4-5-20250929", 0.054],
    ["claude-imaginary-9", null],
  ]);
  assertEquals(report.unpriced_models, ["claude-imaginary-9"]);
  assertEquals(report.totals.cost_usd, null);
  assertEquals(report.totals.output_tokens, 4000);
});

Deno.test("buildReport breaks a row down per model and lists the session's project and times", () => {
  const report = buildReport(facts, { kind: "session", breakdown: true });
  assertEquals(report.rows.map((r) => Object.keys(r).slice(0, 5)), [
    ["session_id", "project", "first_timestamp", "last_timestamp", "models"],
    ["session_id", "project", "first_timestamp", "last_timestamp", "models"],
  ]);
  const s1 = report.rows.find((r) => r.session_id === "s1")!;
  assertEquals([s1.first_timestamp, s1.last_timestamp], [
    "2026-03-02T08:00:00.000Z",
    "2026-04-02T10:00:00.000Z",
  ]);
  assertEquals(s1.breakdown!.map((b) => [b.model, b.responses, b.cost_usd]), [
    ["claude-sonnet-4-5-20250929", 1, 0.018],
    ["claude-imaginary-9", 1, null],
  ]);
  assertEquals(s1.models, ["claude-sonnet-4-5-20250929", "claude-imaginary-9"]);
});

Deno.test("buildReport prices 1-hour cache writes apart and adds web searches", () => {
  const one = fact(9, "2026-03-05T10:00:00.000Z", {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 30_000,
    cache_creation_1h_input_tokens: 10_000,
    total_tokens: 30_000,
    web_search_requests: 2,
  });
  // 20,000 × $3.75/M + 10,000 × $6/M + 2 × $0.01 = 0.075 + 0.06 + 0.02
  const report = buildReport([one], { kind: "daily" });
  assertEquals(report.totals.cost_usd, 0.155);
  assertEquals([report.totals.cache_creation_1h_input_tokens, report.totals.web_search_requests], [
    10_000,
    2,
  ]);
});

Deno.test("buildReport sums per machine and per user label, highest cost first, and names no machine as null", () => {
  const old = fact(4, "2026-03-03T09:00:00.000Z", { machine_id: null, user_label: null }); // loaded before machine ids
  const byMachine = buildReport([...facts.slice(0, 3), old], { kind: "machine" });
  assertEquals(byMachine.rows.map((r) => [r.machine_id, r.responses, r.cost_usd]), [
    ["dana-mbp", 2, 0.036],
    ["ci-runner", 1, 0.018],
    [null, 1, 0.018],
  ]);
  assertEquals(Object.keys(byMachine.rows[0]).slice(0, 2), ["machine_id", "models"]);
  const byUser = buildReport(facts.slice(0, 3), { kind: "user" });
  assertEquals(byUser.rows.map((r) => [r.user_label, r.responses, r.cost_usd]), [["dana", 2, 0.036], [
    null,
    1,
    0.018,
  ]]);
});

Deno.test("buildReport keeps one machine's or one user's rows with machine and user filters", () => {
  const ci = buildReport(facts, { kind: "daily", machine: "ci-runner" });
  assertEquals(ci.rows.map((r) => [r.date, r.responses]), [["2026-03-31", 1], ["2026-04-02", 1]]);
  assertEquals([ci.machine, ci.user, ci.totals.responses], ["ci-runner", null, 2]);
  const dana = buildReport(facts, { kind: "model", user: "dana" });
  assertEquals(dana.rows.map((r) => [r.model, r.responses, r.cost_usd]), [[
    "claude-sonnet-4-5-20250929",
    2,
    0.036,
  ]]);
  assertEquals(buildReport(facts, { kind: "daily", machine: "nobody" }).rows, []);
});

Deno.test("buildReport breaks each period down by machine or user; true still means by model", () => {
  const monthly = buildReport(facts, { kind: "monthly", breakdown: "machine" });
  assertEquals(monthly.breakdown, "machine");
  assertEquals(
    monthly.rows.map((r) => [r.month, r.breakdown!.map((b) => [b.machine_id, b.responses, b.cost_usd])]),
    [
      ["2026-03", [["dana-mbp", 2, 0.036], ["ci-runner", 1, 0.018]]],
      ["2026-04", [["ci-runner", 1, null]]],
    ],
  );
  assertEquals(Object.keys(monthly.rows[0].breakdown![0])[0], "machine_id");
  const byUser = buildReport(facts.slice(0, 3), { kind: "weekly", breakdown: "user" });
  assertEquals(byUser.rows.map((r) => r.breakdown!.map((b) => [b.user_label, b.responses])), [
    [["dana", 1]],
    [["dana", 1]],
    [[null, 1]],
  ]);
  const byModel = buildReport(facts, { kind: "monthly", breakdown: true });
  assertEquals(byModel.breakdown, "model");
  assertEquals(byModel.rows[1].breakdown!.map((b) => b.model), ["claude-imaginary-9"]);
  assertEquals(buildReport(facts, { kind: "monthly" }).breakdown, null);
});
