import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { envelopeSchema } from "../schema/mod.ts";
import { assistantLine } from "../testing/records.ts";
import { UsageAccumulator } from "./usage.ts";

function observeAll(lines: Record<string, unknown>[]): UsageAccumulator {
  const acc = new UsageAccumulator("r1");
  for (const line of lines) {
    acc.observe({
      env: envelopeSchema.parse(line),
      sessionId: "s1",
      projectId: "p",
      timestamp: null,
      eventDate: null,
    });
  }
  return acc;
}

Deno.test("UsageAccumulator counts one response split over several lines once, max copy wins", () => {
  const acc = observeAll([
    assistantLine("msg_1", "req_1", { input: 4, output: 9, cacheRead: 41000 }),
    assistantLine("msg_1", "req_1", { input: 4, output: 212, cacheRead: 41000 }),
    assistantLine("msg_1", "req_1", { input: 4, output: 100, cacheRead: 41000 }),
  ]);
  const rows = [...acc.rows()];
  assertEquals(rows.length, 1);
  assertEquals(rows[0].usage_key, "msg_1:req_1");
  assertEquals(rows[0].output_tokens, 212);
  assertEquals(acc.linesObserved, 3);
});

Deno.test("UsageAccumulator keys on message.id alone when requestId is missing", () => {
  const rows = [
    ...observeAll([
      assistantLine("msg_2", null, { input: 1, output: 1 }),
      assistantLine("msg_2", null, { input: 1, output: 5 }),
    ]).rows(),
  ];
  assertEquals(rows.map((r) => [r.usage_key, r.request_id, r.output_tokens]), [["msg_2", null, 5]]);
});

Deno.test("UsageAccumulator merges a sidechain replay into its parent's response (ccusage counts it twice)", () => {
  const lines = [
    assistantLine("msg_3", "req_a", { input: 10, output: 50 }),
    assistantLine("msg_3", "req_b", { input: 10, output: 50 }, { isSidechain: true }),
  ];
  const rows = [...observeAll(lines).rows()];
  assertEquals(rows.length, 1);
  assertEquals([rows[0].usage_key, rows[0].request_id, rows[0].is_sidechain], [
    "msg_3:req_a",
    "req_a",
    false,
  ]);
  // ccusage's per-line key (message.id:requestId) sees two responses here: 120 tokens instead of 60.
  const ccusageKeys = new Set(lines.map((l) => `${(l.message as { id: string }).id}:${l.requestId}`));
  assertEquals(ccusageKeys.size, 2);
  assertEquals(rows[0].total_tokens, 60);
});

Deno.test("UsageAccumulator skips <synthetic> messages and lines without usage", () => {
  const synthetic = assistantLine("msg_4", "req_4", { input: 1, output: 1 });
  (synthetic.message as Record<string, unknown>).model = "<synthetic>";
  const noUsage = assistantLine("msg_5", "req_5", { input: 1, output: 1 });
  delete (noUsage.message as Record<string, unknown>).usage;
  assertEquals(observeAll([synthetic, noUsage]).size, 0);
});

Deno.test("UsageAccumulator keeps the 5-minute/1-hour cache-write split and web requests; unknown stays null", () => {
  const withSplit = assistantLine("msg_5", "req_5", { input: 3, output: 40, cacheCreate: 1500 });
  const usage = (withSplit.message as { usage: Record<string, unknown> }).usage;
  usage.cache_creation = { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 1000 };
  usage.server_tool_use = { web_search_requests: 2, web_fetch_requests: 1 };
  usage.service_tier = "priority";
  const rows = [
    ...observeAll([withSplit, assistantLine("msg_6", "req_6", { input: 1, output: 2, cacheCreate: 7 })])
      .rows(),
  ];
  assertEquals(
    rows.map((r) => [
      r.cache_creation_5m_input_tokens,
      r.cache_creation_1h_input_tokens,
      r.web_search_requests,
      r.web_fetch_requests,
      r.service_tier,
    ]),
    [[500, 1000, 2, 1, "priority"], [null, null, null, null, null]],
  );
});
