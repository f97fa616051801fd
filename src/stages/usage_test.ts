import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { envelopeSchema } from "../schema/mod.ts";
import { assistantLine } from "../testing/records.ts";
import { UsageAccumulator, type UsageLine, usageLineOf, type UsageWhere } from "./usage.ts";

/** The usage of an assistant line, which must have some to count. */
function lineOf(value: Record<string, unknown>): UsageLine {
  const line = usageLineOf(envelopeSchema.parse(value));
  if (line === null) throw new Error(`No usage to count in ${JSON.stringify(value)}`);
  return line;
}

/** Where lines that carry no particular place were written. */
const SOMEWHERE: UsageWhere = { session_id: "s1", project_id: "p", timestamp: null, event_date: null };

function observeAll(lines: Record<string, unknown>[]): UsageAccumulator {
  const acc = new UsageAccumulator("r1");
  for (const line of lines) acc.observeLine(lineOf(line), SOMEWHERE);
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
  const rows = [
    ...observeAll([
      assistantLine("msg_3", "req_a", { input: 10, output: 50 }),
      assistantLine("msg_3", "req_b", { input: 10, output: 50 }, { isSidechain: true }),
    ]).rows(),
  ];
  // ccusage's per-line key (message.id:requestId) sees two responses here: 120 tokens instead of 60.
  assertEquals(rows.map((r) => [r.usage_key, r.request_id, r.is_sidechain, r.total_tokens]), [
    ["msg_3:req_a", "req_a", false, 60],
  ]);
});

Deno.test("UsageAccumulator keeps the original's identity when its sidechain replay carries more tokens", () => {
  const acc = new UsageAccumulator("r1");
  const observe = (line: Record<string, unknown>, sessionId: string, timestamp: string) =>
    acc.observeLine(lineOf(line), {
      session_id: sessionId,
      project_id: `p-${sessionId}`,
      timestamp,
      event_date: timestamp.slice(0, 10),
    });
  observe(assistantLine("msg_6", "req_a", { input: 10, output: 50 }), "main", "2026-05-02T23:59:00.000Z");
  observe(
    assistantLine("msg_6", "req_b", { input: 10, output: 500, cacheRead: 7 }, { isSidechain: true }),
    "agent",
    "2026-05-03T00:01:00.000Z",
  );
  const rows = [...acc.rows()];
  assertEquals(rows.length, 1);
  const { usage_key, request_id, is_sidechain, session_id, project_id, timestamp, event_date } = rows[0];
  assertEquals(
    { usage_key, request_id, is_sidechain, session_id, project_id, timestamp, event_date },
    {
      usage_key: "msg_6:req_a",
      request_id: "req_a",
      is_sidechain: false,
      session_id: "main",
      project_id: "p-main",
      timestamp: "2026-05-02T23:59:00.000Z",
      event_date: "2026-05-02",
    },
  );
  // The larger counts win: 10 + 500 + 7.
  assertEquals([rows[0].output_tokens, rows[0].cache_read_input_tokens, rows[0].total_tokens], [500, 7, 517]);
});

Deno.test("usageLineOf() skips <synthetic> messages and lines without usage", () => {
  const synthetic = assistantLine("msg_4", "req_4", { input: 1, output: 1 });
  (synthetic.message as Record<string, unknown>).model = "<synthetic>";
  const noUsage = assistantLine("msg_5", "req_5", { input: 1, output: 1 });
  delete (noUsage.message as Record<string, unknown>).usage;
  assertEquals([synthetic, noUsage].map((line) => usageLineOf(envelopeSchema.parse(line))), [null, null]);
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

Deno.test("UsageAccumulator fills the whole row: counts, a missing count as 0, tier, speed, source", () => {
  const line = assistantLine("msg_7", "req_7", { input: 3, output: 0, cacheCreate: 10, cacheRead: 0 }, {
    uuid: "a-77",
  });
  const usage = (line.message as { usage: Record<string, unknown> }).usage;
  usage.cache_read_input_tokens = null;
  usage.cache_creation = { ephemeral_5m_input_tokens: null, ephemeral_1h_input_tokens: 10 };
  usage.service_tier = "priority";
  usage.speed = "fast";
  const acc = new UsageAccumulator("run-9");
  acc.observeLine(lineOf(line), {
    session_id: "s9",
    project_id: "p9",
    timestamp: "2026-05-02T09:00:01.000Z",
    event_date: "2026-05-02",
  });
  assertEquals([...acc.rows()], [{
    usage_key: "msg_7:req_7",
    api_message_id: "msg_7",
    request_id: "req_7",
    session_id: "s9",
    project_id: "p9",
    model: "claude-sonnet-4-5",
    timestamp: "2026-05-02T09:00:01.000Z",
    event_date: "2026-05-02",
    input_tokens: 3,
    output_tokens: 0,
    cache_creation_input_tokens: 10,
    cache_creation_5m_input_tokens: null,
    cache_creation_1h_input_tokens: 10,
    cache_read_input_tokens: 0,
    web_search_requests: null,
    web_fetch_requests: null,
    total_tokens: 13,
    service_tier: "priority",
    speed: "fast",
    is_sidechain: false,
    source_uuid: "a-77",
    run_id: "run-9",
  }]);
});

Deno.test("UsageAccumulator keeps the first copy on a tie or a smaller total, and fills a missing time", () => {
  const acc = new UsageAccumulator("r1");
  const observe = (line: Record<string, unknown>, timestamp: string | null) =>
    acc.observeLine(lineOf(line), {
      session_id: "s1",
      project_id: "p",
      timestamp,
      event_date: timestamp?.slice(0, 10) ?? null,
    });
  observe(assistantLine("msg_8", "req_8", { input: 5, output: 5 }, { uuid: "first" }), null);
  observe(
    assistantLine("msg_8", "req_8", { input: 4, output: 6 }, { uuid: "tie" }),
    "2026-05-03T00:00:00.000Z",
  );
  observe(
    assistantLine("msg_8", "req_8", { input: 1, output: 1 }, { uuid: "small" }),
    "2026-05-03T00:00:00.000Z",
  );
  assertEquals([...acc.rows()].map((r) => [r.source_uuid, r.total_tokens, r.timestamp]), [[
    "first",
    10,
    null,
  ]]);
  observe(
    assistantLine("msg_8", "req_8", { input: 5, output: 6 }, { uuid: "big" }),
    "2026-05-04T00:00:00.000Z",
  );
  // The larger copy wins its counts; the time the first copy lacked comes from it.
  assertEquals([...acc.rows()].map((r) => [r.source_uuid, r.total_tokens, r.timestamp, r.event_date]), [
    ["big", 11, "2026-05-04T00:00:00.000Z", "2026-05-04"],
  ]);
  assertEquals(acc.size, 1);
});

Deno.test("UsageAccumulator keys a replay with no original of its own, and other responses apart", () => {
  const rows = [
    ...observeAll([
      assistantLine("msg_9", "req_x", { input: 1, output: 1 }, { isSidechain: true }),
      // A heavier copy of that replay: still a sidechain row.
      assistantLine("msg_9", "req_x", { input: 1, output: 4 }, { isSidechain: true }),
      assistantLine("msg_10", "req_a", { input: 1, output: 2 }),
      // Same message id, other request, not a sidechain: a different response.
      assistantLine("msg_10", "req_b", { input: 1, output: 3 }),
      // A replay of msg_10 merges into its first non-sidechain copy.
      assistantLine("msg_10", "req_c", { input: 1, output: 9 }, { isSidechain: true }),
    ]).rows(),
  ];
  assertEquals(rows.map((r) => [r.usage_key, r.request_id, r.is_sidechain, r.output_tokens]), [
    ["msg_9:req_x", "req_x", true, 4],
    ["msg_10:req_a", "req_a", false, 9],
    ["msg_10:req_b", "req_b", false, 3],
  ]);
});

Deno.test("usageLineOf() finds nothing to count in lines that are not API responses", () => {
  const noId = assistantLine("msg_11", "req", { input: 1, output: 1 });
  delete (noId.message as Record<string, unknown>).id;
  const noModel = assistantLine("msg_12", "req", { input: 1, output: 1 });
  delete (noModel.message as Record<string, unknown>).model;
  const user = { ...assistantLine("msg_13", "req", { input: 1, output: 1 }), type: "user" };
  const noMessage = { type: "assistant", uuid: "a-x" };
  assertEquals(
    [noId, noModel, user, noMessage].map((line) => usageLineOf(envelopeSchema.parse(line))),
    [null, null, null, null],
  );
});
