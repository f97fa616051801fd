/**
 * Token usage counted once per API response.
 *
 * Claude Code writes one line per content block, each repeating the response's usage. The rule
 * (ccusage's documented one): key on `message.id:requestId`, or `message.id` alone when there is no
 * `requestId`; a sidechain replay of a parent's response (same `message.id`, another `requestId`)
 * merges into the parent's key; per key the copy with the highest token total wins (ties keep the
 * first, so a non-sidechain original beats its replay). `<synthetic>` messages are not API responses.
 *
 * @module
 */
import type { Envelope, UsageRow } from "../schema/mod.ts";

/** Usage facts of one assistant line, before dedupe. */
export interface UsageCandidate {
  env: Envelope;
  sessionId: string;
  projectId: string;
  eventDate: string | null;
  timestamp: string | null;
}

function int(value: number | null | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
}

/** Like {@linkcode int}, but a field the response did not report stays null (unknown, not zero). */
function intOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : int(value);
}

/** Accumulates usage rows for one run, one per API response. */
export class UsageAccumulator {
  #rows = new Map<string, UsageRow>();
  /** message.id → key of its first non-sidechain copy. */
  #mainKeyByMessageId = new Map<string, string>();
  #runId: string;
  #lines = 0;

  /** Creates an accumulator whose rows carry `runId`. */
  constructor(runId: string) {
    this.#runId = runId;
  }

  /** Assistant lines with usage that were observed (duplicates included). */
  get linesObserved(): number {
    return this.#lines;
  }

  /** Distinct API responses so far. */
  get size(): number {
    return this.#rows.size;
  }

  /**
   * Observes one assistant line (call it for every parsed line, duplicates included).
   *
   * @returns true when the line carried countable usage.
   */
  observe(candidate: UsageCandidate): boolean {
    const { env } = candidate;
    const message = env.message;
    const usage = message?.usage;
    const messageId = message?.id;
    const model = message?.model ?? null;
    if (env.type !== "assistant" || !usage || !messageId || !model || model === "<synthetic>") return false;
    this.#lines++;
    const requestId = env.requestId ?? null;
    const ownKey = requestId ? `${messageId}:${requestId}` : messageId;
    const sidechain = env.isSidechain === true;
    let key = ownKey;
    if (sidechain) {
      const mainKey = this.#mainKeyByMessageId.get(messageId);
      if (mainKey !== undefined) key = mainKey;
    } else if (!this.#mainKeyByMessageId.has(messageId)) {
      this.#mainKeyByMessageId.set(messageId, ownKey);
    }
    const input = int(usage.input_tokens), output = int(usage.output_tokens);
    const cacheCreation = int(usage.cache_creation_input_tokens),
      cacheRead = int(usage.cache_read_input_tokens);
    const total = input + output + cacheCreation + cacheRead;
    const existing = this.#rows.get(key);
    // Most lines repeat their response's usage (one line per content block): no row to build for them.
    if (existing && total <= existing.total_tokens) return true;
    const row: UsageRow = {
      usage_key: key,
      api_message_id: messageId,
      request_id: key === ownKey ? requestId : (existing?.request_id ?? requestId),
      session_id: candidate.sessionId,
      project_id: candidate.projectId,
      model,
      timestamp: candidate.timestamp,
      event_date: candidate.eventDate,
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: cacheCreation,
      cache_creation_5m_input_tokens: intOrNull(usage.cache_creation?.ephemeral_5m_input_tokens),
      cache_creation_1h_input_tokens: intOrNull(usage.cache_creation?.ephemeral_1h_input_tokens),
      cache_read_input_tokens: cacheRead,
      total_tokens: total,
      web_search_requests: intOrNull(usage.server_tool_use?.web_search_requests),
      web_fetch_requests: intOrNull(usage.server_tool_use?.web_fetch_requests),
      service_tier: usage.service_tier ?? null,
      speed: usage.speed ?? null,
      is_sidechain: sidechain,
      source_uuid: env.uuid,
      run_id: this.#runId,
    };
    if (existing) {
      // Keep the identity of the response the key names; take the larger counts.
      row.request_id = existing.request_id;
      row.session_id = existing.session_id;
      row.project_id = existing.project_id;
      row.timestamp = existing.timestamp ?? row.timestamp;
      row.event_date = existing.event_date ?? row.event_date;
      row.is_sidechain = existing.is_sidechain && sidechain;
    }
    this.#rows.set(key, row);
    return true;
  }

  /** The winning row of every response, in first-seen order. */
  rows(): IterableIterator<UsageRow> {
    return this.#rows.values();
  }
}
