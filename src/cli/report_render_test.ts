import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { buildReport } from "../report/build_report.ts";
import type { UsageFact } from "../report/usage_query.ts";
import { formatCost, renderReportCsv, renderReportTable } from "./report_render.ts";

function big(i: number, project: string): UsageFact {
  return {
    usage_key: `k${i}`,
    timestamp: `2026-06-0${1 + (i % 3)}T10:00:00.000Z`,
    session_id: `0f${i}a9c1e-7b4d-4e8a-9f10-2c6d8e4b1a57`,
    project,
    model: "claude-opus-4-5-20251101",
    machine_id: "m-0123456789abcdef",
    user_label: null,
    input_tokens: 123_456_789,
    output_tokens: 98_765_432,
    cache_creation_input_tokens: 1_234_567_890,
    cache_creation_1h_input_tokens: null,
    cache_read_input_tokens: 9_876_543_210,
    total_tokens: 11_333_333_321,
    web_search_requests: null,
  };
}

Deno.test("renderReportTable switches to K/M/B and shortens the key column to stay within 80 columns", () => {
  const long = "/home/dana/code/a-project-with-a-very-long-name-indeed/and/deeper/still";
  const facts = [big(1, long), big(2, long), big(3, "/srv/x")];
  const lines = renderReportTable(buildReport(facts, { kind: "project" }));
  assert(lines.every((l) => l.length <= 80), lines.join("\n"));
  // Per response at Opus 4.5's flat rates ($5 in, $25 out, $6.25 write, $0.50 read per M): $15,740.74; × 3.
  assertEquals(lines.at(-2)!.replace(/\s+/g, " "), "Total 370M 296M 3.7B 29.6B 34B $47,222.22");
  assert(lines[2].startsWith("/home/dana/code/a-project…"), lines[2]);
  assert(lines[2].includes("…"), lines[2]);
});

Deno.test("formatCost shows 4 decimals under a dollar, cents above, n/a when unpriced", () => {
  assertEquals([formatCost(0.0025012), formatCost(1234.567), formatCost(null)], [
    "$0.0025",
    "$1,234.57",
    "n/a",
  ]);
});

Deno.test("renderReportCsv writes one line per row and model with --breakdown", () => {
  const csv = renderReportCsv(buildReport([big(1, "/a,b")], { kind: "project", breakdown: true }));
  assertEquals(csv[1].split(",").slice(0, 4), ['"/a', 'b"', "claude-opus-4-5-20251101", "1"]);
  assertEquals(csv.length, 2);
});
