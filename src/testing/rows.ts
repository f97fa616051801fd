/**
 * Test helpers: valid rows of the final tables, numbered, with any field overridden.
 *
 * @module
 */
import type { MessageRow, SessionRow, UsageRow } from "../schema/mod.ts";
import { emptySessionRow } from "../stages/identify.ts";

const START = Date.parse("2026-08-10T12:00:00Z");

/** A `messages` row: even numbers are typed prompts, odd ones assistant tool uses. */
export function messageRow(i: number, runId: string, over: Partial<MessageRow> = {}): MessageRow {
  const timestamp = new Date(START - (i % 2) * 86_400_000 + i * 1000).toISOString();
  const assistant = i % 2 === 1;
  return {
    uuid: `uuid-${i}`,
    message_key: `key-${i}`,
    parent_uuid: i === 0 ? null : `uuid-${i - 1}`,
    logical_parent_uuid: null,
    session_id: `session-${i % 3}`,
    project_id: "proj-1",
    project: "/home/dana/code/blog",
    turn: i,
    timestamp,
    event_date: timestamp.slice(0, 10),
    type: assistant ? "assistant" : "user",
    subtype: null,
    kind: assistant ? "tool_use" : "human_prompt",
    role: assistant ? "assistant" : "user",
    model: assistant ? "claude-sonnet-4-5" : null,
    api_message_id: assistant ? `msg_${i}` : null,
    request_id: assistant ? `req_${i}` : null,
    text: `text number ${i}`,
    tool_names: assistant ? ["Bash", "Read"] : [],
    is_sidechain: false,
    is_meta: false,
    is_compact_summary: false,
    agent_id: null,
    git_branch: "main",
    cc_version: "2.1.0",
    source_file: "/home/dana/.claude/projects/blog/a.jsonl",
    source_line: i + 1,
    source_offset: i * 120,
    run_id: runId,
    corrected_text: null,
    correction_status: null,
    correction_model: null,
    extra: i % 5 === 0 ? { note: `n${i}` } : null,
    ...over,
  };
}

/** A `usage` row for response number `i`. */
export function usageRow(i: number, runId: string, over: Partial<UsageRow> = {}): UsageRow {
  const timestamp = new Date(START + i * 1000).toISOString();
  return {
    usage_key: `msg_${i}:req_${i}`,
    api_message_id: `msg_${i}`,
    request_id: `req_${i}`,
    session_id: `session-${i % 3}`,
    project_id: "proj-1",
    model: "claude-sonnet-4-5",
    timestamp,
    event_date: timestamp.slice(0, 10),
    input_tokens: 10,
    output_tokens: 20,
    cache_creation_input_tokens: 0,
    cache_creation_5m_input_tokens: 0,
    cache_creation_1h_input_tokens: 0,
    cache_read_input_tokens: 5,
    total_tokens: 35,
    web_search_requests: 0,
    web_fetch_requests: 0,
    service_tier: "standard",
    speed: null,
    is_sidechain: false,
    source_uuid: `uuid-${i}`,
    run_id: runId,
    ...over,
  };
}

/** A `sessions` row with deliberately wrong aggregates (sinks recompute them). */
export function sessionRow(n: number, runId: string, over: Partial<SessionRow> = {}): SessionRow {
  // Aggregates stay zero on purpose: the sink recomputes them from `messages`.
  return {
    ...emptySessionRow(`session-${n}`, runId),
    project_id: "proj-1",
    project: "/home/dana/code/blog",
    title: `Session ${n}`,
    git_branch: "main",
    cc_version: "2.1.0",
    ...over,
  };
}
