import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { RejectRow } from "../schema/mod.ts";
import { FingerprintSet } from "../state/fingerprint_set.ts";
import { assistantLine, rawRecords, userPrompt } from "../testing/records.ts";
import {
  admitRecord,
  checkRecord,
  type CleanRecord,
  type CleanStats,
  createCleanStats,
  type SessionMeta,
} from "./clean.ts";
import { messageRowOf } from "./identify.ts";
import { UsageAccumulator, type UsageLine, type UsageWhere } from "./usage.ts";

const FILE = "/home/a/.claude/projects/-home-a-proj/sess-9.jsonl";

/** What Stage 2 passes on for one record. */
type Cleaned =
  | { kind: "message"; record: CleanRecord }
  | { kind: "reject"; reject: Omit<RejectRow, "run_id"> }
  | { kind: "session_meta"; meta: SessionMeta };

/** A usage accumulator that counts the lines it is handed, duplicates included. */
class CountingUsage extends UsageAccumulator {
  lines = 0;
  override observeLine(line: UsageLine, where: UsageWhere): void {
    this.lines++;
    super.observeLine(line, where);
  }
}

/** Stage 2 the way the pipeline runs it: each record checked, then admitted in file and line order. */
function cleanAll(
  values: Record<string, unknown>[],
  options: { seen?: FingerprintSet; timeZone?: string } = {},
): { events: Cleaned[]; stats: CleanStats; usage: CountingUsage; seen: FingerprintSet } {
  const seen = options.seen ?? new FingerprintSet();
  const usage = new CountingUsage("r1");
  const stats = createCleanStats();
  const state = { seen, usage, stats };
  const events: Cleaned[] = [];
  for (const raw of rawRecords(FILE, values)) {
    const checked = checkRecord(raw);
    if (checked.kind === "message") {
      const { record } = checked;
      // The merge takes a usage line's session, project and time from the record's `messages` row.
      const rowOptions = { runId: "r1", promptStatus: "pending" as const, timeZone: options.timeZone };
      const where = messageRowOf(record, rowOptions, null);
      const admissible = { k: "message" as const, uuid: record.env.uuid, usage: checked.usage, where };
      if (admitRecord(admissible, state)) events.push({ kind: "message", record });
    } else if (checked.kind === "invalid") {
      assertEquals(admitRecord({ k: "invalid" }, state), false);
      events.push({ kind: "reject", reject: checked.reject });
    } else if (checked.kind === "no_uuid") {
      assertEquals(admitRecord({ k: "no_uuid", type: checked.type }, state), false);
      if (checked.meta) events.push({ kind: "session_meta", meta: checked.meta });
    } else {
      throw new Error(`checkRecord() said ${JSON.stringify(checked)}`);
    }
  }
  return { events, stats, usage, seen };
}

Deno.test("checkRecord() turns a record that fails the envelope check into a reject row", () => {
  const bad = { type: "user", uuid: "u-bad", timestamp: 42 };
  const { events, stats } = cleanAll([userPrompt("hi", { uuid: "u-ok" }), bad]);
  assertEquals(events.map((e) => e.kind), ["message", "reject"]);
  // The key hashes the record's size and start (a moved transcript keeps it), then its offset.
  const { reject_key, ...reject } = events[1].kind === "reject" ? events[1].reject : { reject_key: "" };
  assertEquals(/^[0-9a-f]{16}:100$/.test(reject_key), true);
  assertEquals({ kind: "reject", reject }, {
    kind: "reject",
    reject: {
      source_file: FILE,
      line_number: 2,
      byte_offset: 100,
      error:
        "Record does not match the transcript envelope: timestamp: Invalid input: expected string, received number",
      prefix: '{"type":"user","uuid":"u-bad","timestamp":42}',
      line_bytes: 99,
    },
  });
  assertEquals(stats, { uuidRecords: 2, unique: 1, duplicates: 0, invalid: 1, withoutUuid: {} });
  // Another bad record at the same place gets another key.
  const { events: other } = cleanAll([userPrompt("hi", { uuid: "u-ok" }), { ...bad, timestamp: 43 }]);
  const otherKey = other[1].kind === "reject" ? other[1].reject.reject_key : "";
  assertEquals([otherKey.endsWith(":100"), otherKey === reject_key], [true, false]);
});

Deno.test("checkRecord() names the nested field that fails and keeps 200 characters of the record", () => {
  const bad = assistantLine("msg_1", "req_1", { input: 1, output: 1 }, { uuid: "a-bad" });
  (bad.message as { usage: Record<string, unknown> }).usage.output_tokens = "many";
  bad.padding = "x".repeat(300);
  const { events, stats, usage } = cleanAll([bad]);
  const reject = events[0].kind === "reject" ? events[0].reject : undefined;
  assertEquals(
    reject?.error,
    "Record does not match the transcript envelope: message.usage.output_tokens: Invalid input: expected number, received string",
  );
  assertEquals(reject?.prefix.length, 200);
  assertEquals(reject?.prefix.slice(0, 31), '{"type":"assistant","uuid":"a-b');
  assertEquals([stats.invalid, usage.size], [1, 0]);
});

Deno.test("admitRecord() keeps each uuid once across files and runs, and counts the copies", () => {
  const seen = new FingerprintSet();
  seen.add("u-earlier-run");
  const { events, stats } = cleanAll([
    userPrompt("one", { uuid: "u-1" }),
    userPrompt("again", { uuid: "u-earlier-run" }),
    userPrompt("one", { uuid: "u-1" }),
    userPrompt("two", { uuid: "u-2" }),
  ], { seen });
  assertEquals(
    events.map((e) => e.kind === "message" ? [e.record.env.uuid, e.record.raw.line] : e.kind),
    [["u-1", 1], ["u-2", 4]],
  );
  assertEquals(stats, { uuidRecords: 4, unique: 2, duplicates: 2, invalid: 0, withoutUuid: {} });
  assertEquals([seen.has("u-1"), seen.has("u-2"), seen.size], [true, true, 3]);
});

Deno.test("admitRecord() hands the usage of every assistant copy on, duplicates included", () => {
  const line = assistantLine("msg_1", "req_1", { input: 2, output: 3 }, { uuid: "a-1" });
  const { events, usage, stats } = cleanAll([line, line]);
  assertEquals([events.length, stats.duplicates, usage.lines, usage.size], [1, 1, 2, 1]);
  // A line this run dedupes against an earlier run still counts its response.
  const seen = new FingerprintSet();
  seen.add("a-1");
  const again = cleanAll([line], { seen });
  assertEquals([again.events.length, again.stats.duplicates, again.usage.size], [0, 1, 1]);
});

Deno.test("Stage 2 dates usage in the run's time zone and normalises its timestamp", () => {
  const late = assistantLine("msg_1", "req_1", { input: 1, output: 1 }, {
    uuid: "a-1",
    timestamp: "2026-05-02T03:30:00Z",
    sessionId: null,
  });
  const { usage } = cleanAll([late], { timeZone: "America/Los_Angeles" });
  const [row] = [...usage.rows()];
  // 03:30 UTC on May 2 is 20:30 on May 1 in Los Angeles (PDT, UTC−7).
  assertEquals([row.timestamp, row.event_date], ["2026-05-02T03:30:00.000Z", "2026-05-01"]);
  assertEquals(row.session_id, "sess-9");
  const { usage: utc } = cleanAll([late]);
  assertEquals([...utc.rows()][0].event_date, "2026-05-02");
});

Deno.test("checkRecord() classifies and normalises a message's text", () => {
  const { events } = cleanAll([
    userPrompt("fix teh bug   \r\n\r\n\r\n\r\nplease  ", { uuid: "u-1" }),
    { type: "system", uuid: "s-1", subtype: "api_error", timestamp: "not a date" },
  ]);
  const records = events.map((e) => e.kind === "message" ? e.record : undefined);
  assertEquals(
    records.map((r) => [r?.classified.kind, r?.text, r?.timestamp]),
    [["human_prompt", "fix teh bug\n\nplease", "2026-05-02T09:00:00.000Z"], ["system", null, null]],
  );
});

Deno.test("checkRecord() passes titles and summaries on as session metadata; admitRecord() counts records without uuid", () => {
  const { events, stats } = cleanAll([
    { type: "ai-title", sessionId: "s-a", aiTitle: "Fix the login bug" },
    { type: "custom-title", sessionId: "s-a", customTitle: "Login" },
    { type: "ai-title", title: "Old-style title" },
    { type: "ai-title", sessionId: "s-a", aiTitle: 7 },
    { type: "ai-title", sessionId: 42, aiTitle: "Numbered session" },
    { type: "summary", summary: "Fixed the login bug", leafUuid: "u-1" },
    { type: "summary", summary: 3 },
    { type: "file-history-snapshot", messageId: "m-1", snapshot: {}, summary: "not a session summary" },
    { type: "user", uuid: null, message: { role: "user", content: "no uuid" } },
  ]);
  assertEquals(events, [
    { kind: "session_meta", meta: { sessionId: "s-a", title: "Fix the login bug" } },
    { kind: "session_meta", meta: { sessionId: "s-a", title: "Login" } },
    { kind: "session_meta", meta: { sessionId: "sess-9", title: "Old-style title" } },
    { kind: "session_meta", meta: { sessionId: "sess-9", title: "Numbered session" } },
    { kind: "session_meta", meta: { sessionId: "sess-9", summary: "Fixed the login bug" } },
  ]);
  assertEquals(stats, {
    uuidRecords: 0,
    unique: 0,
    duplicates: 0,
    invalid: 0,
    withoutUuid: { "ai-title": 4, "custom-title": 1, summary: 2, "file-history-snapshot": 1, user: 1 },
  });
});
