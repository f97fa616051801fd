import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { envelopeSchema, type MessageRow } from "../schema/mod.ts";
import { FingerprintSet } from "../state/fingerprint_set.ts";
import { assistantLine, rawRecords, userPrompt } from "../testing/records.ts";
import { classify } from "./classify.ts";
import { admitRecord, checkRecord, type CleanRecord, createCleanStats } from "./clean.ts";
import {
  advanceTurn,
  type IdentifyOptions,
  MAX_STORED_TEXT_CHARS,
  messageRowOf,
  SessionAccumulator,
  type TurnState,
} from "./identify.ts";
import { UsageAccumulator } from "./usage.ts";

function rowOf(
  value: Record<string, unknown>,
  options: Partial<IdentifyOptions> = {},
  turn: number | null = null,
) {
  const env = envelopeSchema.parse(value);
  const record: CleanRecord = {
    raw: { file: "/p/s1.jsonl", line: 1, offset: 0, bytes: 10, type: String(value.type), value },
    env,
    classified: classify(env),
    text: null,
    timestamp: null,
  };
  return messageRowOf(record, { runId: "r1", promptStatus: "skipped_no_llm", ...options }, turn);
}

Deno.test("messageRowOf() keeps the turn it is given and stamps the machine columns last", () => {
  const machine = { machine_id: "m-1", user_label: "dana" };
  const row = rowOf(userPrompt("hi", { uuid: "p1" }), { machine }, 7);
  assertEquals([row.turn, row.uuid, Object.entries(row).slice(-2)], [7, "p1", Object.entries(machine)]);
  const bare = rowOf(userPrompt("hi", { uuid: "p1" }));
  assertEquals([bare.turn, "machine_id" in bare, Object.keys(bare).at(-1)], [null, false, "extra"]);
});

// `{"note":"` + body + `"}` is the extra's JSON: 11 characters around the body.
const AROUND = '{"note":""}'.length;

Deno.test("messageRowOf() keeps unknown keys in extra, and null when there are none", () => {
  assert.deepEqual(rowOf(userPrompt("hi", { slug: "a-b", todos: [1, { x: true }] })).extra, {
    slug: "a-b",
    todos: [1, { x: true }],
  });
  assert.equal(rowOf(userPrompt("hi")).extra, null);
});

Deno.test("messageRowOf() keeps an extra whose JSON is exactly the limit and cuts one a character longer", () => {
  const exact = "x".repeat(MAX_STORED_TEXT_CHARS - AROUND);
  assert.deepEqual(rowOf(userPrompt("hi", { note: exact })).extra, { note: exact });
  assert.deepEqual(rowOf(userPrompt("hi", { note: `${exact}x` })).extra, { truncated: true, keys: ["note"] });
});

Deno.test("messageRowOf() counts escapes in the extra's size: short text can serialise past the limit", () => {
  // 30,000 characters, each written as \u0001 (6 characters): 180,011 characters of JSON.
  const controls = "\u0001".repeat(30_000);
  assert.deepEqual(rowOf(userPrompt("hi", { note: controls })).extra, { truncated: true, keys: ["note"] });
  // 20,000 quotes, each written as \" (2 characters): 40,011 characters, under the limit.
  const quotes = '"'.repeat(20_000);
  assert.deepEqual(rowOf(userPrompt("hi", { note: quotes })).extra, { note: quotes });
});

const FILE = "/home/a/.claude/projects/-home-a-proj/file-session.jsonl";

/**
 * Stages 2 and 3 the way the pipeline runs them: each record checked and its row built with no turn,
 * then, in file and line order, the unique ones admitted and their turn written in.
 */
function identifyAll(
  values: Record<string, unknown>[],
  options: Partial<IdentifyOptions> & { turns?: TurnState } = {},
): MessageRow[] {
  const { turns = new Map(), ...rowOptions } = options;
  const state = { seen: new FingerprintSet(), usage: new UsageAccumulator("r1"), stats: createCleanStats() };
  const rows: MessageRow[] = [];
  for (const raw of rawRecords(FILE, values)) {
    const checked = checkRecord(raw);
    if (checked.kind !== "message") continue;
    const row = messageRowOf(checked.record, { runId: "r1", promptStatus: "pending", ...rowOptions }, null);
    if (!admitRecord({ k: "message", uuid: row.uuid, usage: checked.usage, where: row }, state)) continue;
    row.turn = advanceTurn(turns, row.session_id, row.kind === "human_prompt");
    rows.push(row);
  }
  return rows;
}

function toolResult(
  id: string,
  output: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return userPrompt("", {
    message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: output }] },
    toolUseResult: { stdout: output },
    ...fields,
  });
}

function toolUse(name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const line = assistantLine(`msg_${name}`, `req_${name}`, { input: 1, output: 1 }, fields);
  (line.message as Record<string, unknown>).content = [{ type: "tool_use", id: "t", name, input: {} }];
  return line;
}

Deno.test("advanceTurn() bumps the turn on typed prompts only, not on tool results, meta or commands", () => {
  const rows = identifyAll([
    { type: "system", uuid: "sys", sessionId: "s1", subtype: "init", content: "started" },
    userPrompt("first question", { uuid: "p1" }),
    toolUse("Bash", { uuid: "t1" }),
    toolResult("t", "ok", { uuid: "r1" }),
    toolUse("Read", { uuid: "t2" }),
    toolResult("t", "file text", { uuid: "r2" }),
    assistantLine("m1", "q1", { input: 1, output: 1 }, { uuid: "a1" }),
    userPrompt("<local-command-stdout>done</local-command-stdout>", { uuid: "meta1" }),
    userPrompt("Caveat: the messages below were generated by the user", { uuid: "meta2", isMeta: true }),
    userPrompt("<command-name>/model</command-name>", { uuid: "cmd" }),
    userPrompt("second question", { uuid: "p2" }),
    toolResult("t", "more", { uuid: "r3" }),
    userPrompt("a prompt in another session", { uuid: "q1", sessionId: "s2" }),
    userPrompt("third question", { uuid: "p3" }),
  ]);
  assertEquals(rows.map((r) => [r.uuid, r.session_id, r.kind, r.turn]), [
    ["sys", "s1", "system", null],
    ["p1", "s1", "human_prompt", 1],
    ["t1", "s1", "tool_use", 1],
    ["r1", "s1", "tool_result", 1],
    ["t2", "s1", "tool_use", 1],
    ["r2", "s1", "tool_result", 1],
    ["a1", "s1", "assistant_text", 1],
    ["meta1", "s1", "meta", 1],
    ["meta2", "s1", "meta", 1],
    ["cmd", "s1", "slash_command", 1],
    ["p2", "s1", "human_prompt", 2],
    ["r3", "s1", "tool_result", 2],
    ["q1", "s2", "human_prompt", 1],
    ["p3", "s1", "human_prompt", 3],
  ]);
});

Deno.test("advanceTurn() continues each session's turn count from the state of earlier runs", () => {
  const turns = new Map([["s1", 4]]);
  const rows = identifyAll([
    toolResult("t", "late output", { uuid: "r9" }),
    userPrompt("next", { uuid: "p5" }),
    userPrompt("new session", { uuid: "n1", sessionId: "s3" }),
  ], { turns });
  assertEquals(rows.map((r) => r.turn), [4, 5, 1]);
  assertEquals([...turns], [["s1", 5], ["s3", 1]]);
});

Deno.test("messageRowOf() builds the whole messages row of a prompt and of a tool use", () => {
  const [prompt, use] = identifyAll([
    userPrompt("fix teh bug  ", {
      uuid: "p1",
      parentUuid: "p0",
      logicalParentUuid: "c0",
      timestamp: "2026-05-02T03:30:00.000Z",
      gitBranch: "main",
      version: "2.1.3",
      customField: { a: 1 },
    }),
    toolUse("Bash", {
      uuid: "t1",
      parentUuid: "p1",
      sessionId: null,
      isSidechain: true,
      agentId: "agent-1",
      isMeta: false,
      isCompactSummary: false,
    }),
  ], { timeZone: "America/Los_Angeles", promptStatus: "skipped_no_llm", runId: "run-7" });
  // Keys are hashes, checked for shape and stability below.
  const { message_key: _key, project_id: _project, ...promptFields } = prompt;
  assertEquals(promptFields, {
    uuid: "p1",
    parent_uuid: "p0",
    logical_parent_uuid: "c0",
    session_id: "s1",
    project: "/home/a/proj",
    turn: 1,
    timestamp: "2026-05-02T03:30:00.000Z",
    event_date: "2026-05-01",
    type: "user",
    subtype: null,
    kind: "human_prompt",
    role: "user",
    model: null,
    api_message_id: null,
    request_id: null,
    text: "fix teh bug",
    tool_names: [],
    is_sidechain: false,
    is_meta: false,
    is_compact_summary: false,
    agent_id: null,
    git_branch: "main",
    cc_version: "2.1.3",
    source_file: FILE,
    source_line: 1,
    source_offset: 0,
    run_id: "run-7",
    corrected_text: null,
    correction_status: "skipped_no_llm",
    correction_model: null,
    extra: { customField: { a: 1 } },
  });
  assertEquals(
    [
      /^[0-9a-f]{16}$/.test(prompt.message_key),
      prompt.project_id.length,
      prompt.project_id === use.project_id,
    ],
    [true, 12, true],
  );
  assertEquals(use.message_key === prompt.message_key, false);
  const [again] = identifyAll([userPrompt("other text", { uuid: "p1", cwd: "/elsewhere" })]);
  assertEquals([again.message_key === prompt.message_key, again.project_id === prompt.project_id], [
    true,
    false,
  ]);
  const { uuid, session_id, turn, kind, model, api_message_id, request_id, text, tool_names } = use;
  assertEquals(
    { uuid, session_id, turn, kind, model, api_message_id, request_id, text, tool_names },
    {
      uuid: "t1",
      // No sessionId: the file name stands in.
      session_id: "file-session",
      turn: null,
      kind: "tool_use",
      model: "claude-sonnet-4-5",
      api_message_id: "msg_Bash",
      request_id: "req_Bash",
      text: null,
      tool_names: ["Bash"],
    },
  );
  assertEquals(
    [use.is_sidechain, use.agent_id, use.correction_status, use.extra, use.source_line, use.source_offset],
    [true, "agent-1", null, { blockTypes: ["tool_use"] }, 2, 100],
  );
});

Deno.test("messageRowOf() cuts long tool output but never a prompt", () => {
  const long = "x".repeat(MAX_STORED_TEXT_CHARS + 10);
  const [prompt, output, exact] = identifyAll([
    userPrompt(long, { uuid: "p1" }),
    toolResult("t", long, { uuid: "r1" }),
    toolResult("t", "y".repeat(MAX_STORED_TEXT_CHARS), { uuid: "r2" }),
  ]);
  assertEquals(prompt.text?.length, 65_546);
  assertEquals(output.text, `${"x".repeat(65_536)}\n…[10 more characters cut]`);
  assertEquals(exact.text?.length, 65_536);
});

Deno.test("messageRowOf() keeps unknown fields in extra, or only their names when they are huge", () => {
  const [small, huge, none] = identifyAll([
    userPrompt("a", { uuid: "p1", planContent: "short" }),
    userPrompt("b", { uuid: "p2", planContent: "z".repeat(MAX_STORED_TEXT_CHARS), other: 1 }),
    { type: "system", uuid: "s1", sessionId: "s1" },
  ]);
  assertEquals([small.extra, huge.extra, none.extra], [
    { planContent: "short" },
    { truncated: true, keys: ["planContent", "other"] },
    null,
  ]);
});

Deno.test("messageRowOf() flags meta and compaction rows and leaves known fields out of extra", () => {
  const rows = identifyAll([
    userPrompt("Caveat", { uuid: "m1", isMeta: true, userType: "external" }),
    userPrompt("Summary of the earlier session", { uuid: "c1", isCompactSummary: true }),
    toolResult("t", "ok", { uuid: "r1" }),
    { type: "system", uuid: "s1", sessionId: "s1", subtype: "api_error" },
  ]);
  assertEquals(rows.map((r) => [r.kind, r.is_meta, r.is_compact_summary, r.subtype, r.extra]), [
    ["meta", true, false, null, null],
    ["compact_summary", false, true, null, null],
    ["tool_result", false, false, null, { blockTypes: ["tool_result"] }],
    ["system", false, false, "api_error", null],
  ]);
});

Deno.test("messageRowOf() repairs a lone surrogate in extra and says so", () => {
  const [row] = identifyAll([userPrompt("a", { uuid: "p1", note: "cut \uD83D here" })]);
  assertEquals(row.extra, { note: "cut \uFFFD here", ccpipe_sanitised: ["lone surrogate replaced"] });
});

Deno.test("messageRowOf() keeps extra up to exactly 64 KiB of JSON", () => {
  // {"planContent":"…"} is 18 characters around the value.
  const [fits, over] = identifyAll([
    userPrompt("a", { uuid: "p1", planContent: "z".repeat(MAX_STORED_TEXT_CHARS - 18) }),
    userPrompt("b", { uuid: "p2", planContent: "z".repeat(MAX_STORED_TEXT_CHARS - 17) }),
  ]);
  assertEquals((fits.extra as { planContent: string }).planContent.length, 65_518);
  assertEquals(over.extra, { truncated: true, keys: ["planContent"] });
});

Deno.test("SessionAccumulator keeps each session's first and last time, first day and latest facts", () => {
  const sessions = new SessionAccumulator("r1");
  // As the merge does: a row's facts, and its tool count beside them.
  const observe = (r: MessageRow) => sessions.observeMessage(r, r.tool_names.length);
  const row = (over: Partial<MessageRow>) =>
    ({
      session_id: "s1",
      project: null,
      project_id: "p-none",
      timestamp: null,
      event_date: null,
      kind: "assistant_text",
      type: "assistant",
      tool_names: [],
      git_branch: null,
      cc_version: null,
      ...over,
    }) as MessageRow;
  observe(row({
    timestamp: "2026-05-02T10:00:00.000Z",
    event_date: "2026-05-02",
    project: "/a",
    project_id: "pa",
    tool_names: ["Bash", "Read"],
    git_branch: "main",
    cc_version: "2.1.0",
  }));
  observe(row({
    timestamp: "2026-05-01T23:00:00.000Z",
    event_date: "2026-05-01",
    kind: "human_prompt",
    type: "user",
  }));
  observe(row({
    timestamp: "2026-05-03T08:00:00.000Z",
    event_date: "2026-05-03",
    git_branch: "fix",
    cc_version: "2.1.1",
  }));
  observe(row({ timestamp: null, event_date: null, project: "/b", project_id: "pb" }));
  observe(row({ timestamp: "2026-05-02T12:00:00.000Z", event_date: "2026-05-02" }));
  sessions.observeMeta({ sessionId: "s1", title: "First title" });
  sessions.observeMeta({ sessionId: "s1", summary: "A summary" });
  sessions.observeMeta({ sessionId: "s1", title: "Renamed" });
  sessions.observeMeta({ sessionId: "s2", title: "Only a title" });
  sessions.observeMeta({ sessionId: "s2", summary: "Then a summary" }); // a summary alone keeps the title
  // The merge passes a record's facts without its tool names, and its tool count beside them.
  const { tool_names: _names, ...facts } = row({ session_id: "s3" });
  sessions.observeMessage(facts, 3);
  sessions.observeMessage(facts, 0);
  assertEquals(sessions.size, 3);
  const [s1, s2, s3] = [...sessions.rows()];
  assertEquals([s3.message_count, s3.tool_use_count], [2, 3]);
  assertEquals(s1, {
    session_id: "s1",
    project_id: "pb",
    project: "/b",
    first_timestamp: "2026-05-01T23:00:00.000Z",
    last_timestamp: "2026-05-03T08:00:00.000Z",
    event_date: "2026-05-01",
    message_count: 5,
    human_prompt_count: 1,
    assistant_count: 4,
    tool_use_count: 2,
    title: "Renamed",
    summary: "A summary",
    git_branch: "fix",
    cc_version: "2.1.1",
    run_id: "r1",
  });
  assertEquals([s2.session_id, s2.title, s2.summary, s2.message_count, s2.first_timestamp], [
    "s2",
    "Only a title",
    "Then a summary",
    0,
    null,
  ]);
});
