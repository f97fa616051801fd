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

function int(value: number | null | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
}

/** Like {@linkcode int}, but a field the response did not report stays null (unknown, not zero). */
function intOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : int(value);
}

/** The usage of one assistant line: what {@linkcode UsageAccumulator} needs of it, counts made whole. */
export interface UsageLine {
  messageId: string;
  requestId: string | null;
  model: string;
  sidechain: boolean;
  /** The line's uuid. */
  uuid: string;
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
  cache5m: number | null;
  cache1h: number | null;
  webSearch: number | null;
  webFetch: number | null;
  serviceTier: string | null;
  speed: string | null;
}

/** Where a usage line was written: its session, project and time. */
export type UsageWhere = Pick<UsageRow, "session_id" | "project_id" | "timestamp" | "event_date">;

/**
 * The usage of an assistant line, or null when it has none to count (not an assistant line, no usage,
 * id or model, or a `<synthetic>` message, which is no API response).
 *
 * @param env The line's envelope.
 * @returns Its usage.
 */
export function usageLineOf(env: Envelope): UsageLine | null {
  const message = env.message;
  const usage = message?.usage;
  const messageId = message?.id;
  const model = message?.model ?? null;
  if (env.type !== "assistant" || !usage || !messageId || !model || model === "<synthetic>") return null;
  return {
    messageId,
    requestId: env.requestId ?? null,
    model,
    sidechain: env.isSidechain === true,
    uuid: env.uuid,
    input: int(usage.input_tokens),
    output: int(usage.output_tokens),
    cacheCreation: int(usage.cache_creation_input_tokens),
    cacheRead: int(usage.cache_read_input_tokens),
    cache5m: intOrNull(usage.cache_creation?.ephemeral_5m_input_tokens),
    cache1h: intOrNull(usage.cache_creation?.ephemeral_1h_input_tokens),
    webSearch: intOrNull(usage.server_tool_use?.web_search_requests),
    webFetch: intOrNull(usage.server_tool_use?.web_fetch_requests),
    serviceTier: usage.service_tier ?? null,
    speed: usage.speed ?? null,
  };
}

/** Accumulates usage rows for one run, one per API response. */
export class UsageAccumulator {
  #rows = new Map<string, UsageRow>();
  /** message.id → key of its first non-sidechain copy. */
  #mainKeyByMessageId = new Map<string, string>();
  #runId: string;

  /** Creates an accumulator whose rows carry `runId`. */
  constructor(runId: string) {
    this.#runId = runId;
  }

  /** Distinct API responses so far. */
  get size(): number {
    return this.#rows.size;
  }

  /**
   * Observes one assistant line's usage, taken out of its envelope by {@linkcode usageLineOf} (call it for
   * every line with usage, duplicates included).
   *
   * @param line The line's usage.
   * @param where The line's session, project and time.
   */
  observeLine(line: UsageLine, where: UsageWhere): void {
    const { messageId, requestId, sidechain } = line;
    const ownKey = requestId ? `${messageId}:${requestId}` : messageId;
    let key = ownKey;
    if (sidechain) {
      const mainKey = this.#mainKeyByMessageId.get(messageId);
      if (mainKey !== undefined) key = mainKey;
    } else if (!this.#mainKeyByMessageId.has(messageId)) {
      this.#mainKeyByMessageId.set(messageId, ownKey);
    }
    const total = line.input + line.output + line.cacheCreation + line.cacheRead;
    const existing = this.#rows.get(key);
    // Most lines repeat their response's usage (one line per content block): no row to build for them.
    if (existing && total <= existing.total_tokens) return;
    const row: UsageRow = {
      usage_key: key,
      api_message_id: messageId,
      request_id: key === ownKey ? requestId : (existing?.request_id ?? requestId),
      session_id: where.session_id,
      project_id: where.project_id,
      model: line.model,
      timestamp: where.timestamp,
      event_date: where.event_date,
      input_tokens: line.input,
      output_tokens: line.output,
      cache_creation_input_tokens: line.cacheCreation,
      cache_creation_5m_input_tokens: line.cache5m,
      cache_creation_1h_input_tokens: line.cache1h,
      cache_read_input_tokens: line.cacheRead,
      total_tokens: total,
      web_search_requests: line.webSearch,
      web_fetch_requests: line.webFetch,
      service_tier: line.serviceTier,
      speed: line.speed,
      is_sidechain: sidechain,
      source_uuid: line.uuid,
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
  }

  /** The winning row of every response, in first-seen order. */
  rows(): IterableIterator<UsageRow> {
    return this.#rows.values();
  }
}
