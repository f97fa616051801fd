/**
 * Stage 4 accounting: what was sent, saved, retried and spent, for the run summary and the `runs` row.
 *
 * @module
 */

/** Why the stage stopped sending before the end, or null when it did not. */
export type StopReason = "daily_quota" | "auth" | "model_not_found" | null;

/** What a dry run would do. */
export interface DryRunEstimate {
  /** Distinct prompts that would be sent (after skips, cache hits and in-run duplicates). */
  promptsSelected: number;
  /** Requests they need. */
  batches: number;
  /** Estimated input tokens. */
  estTokensIn: number;
  /** Estimated output tokens. */
  estTokensOut: number;
  /** Estimated cost in USD. */
  estCostUsd: number;
  /** Seconds the configured rpm/tpm need for them (throughput bound, latency not counted). */
  estSeconds: number;
  /** Whether the per-day request quota holds them (true when none is configured). */
  fitsDailyQuota: boolean;
}

/** Stage 4 counters; the stage fills one in place. */
export interface CorrectionStats {
  /** Prompts received. */
  prompts: number;
  /** Requests made (each 429 or failed attempt included). */
  calls: number;
  /** Items carried by those requests (retries included). */
  itemsSent: number;
  /** Distinct texts that went out at least once. */
  uniqueSent: number;
  /** Prompts answered from the cache. */
  cacheHits: number;
  /** Prompts skipped, by rule (`empty`, `slash_command`, `code_or_output`, `no_llm`). */
  skipped: Record<string, number>;
  /** Distinct texts the local prefilter found clean: kept as typed, no call. */
  cleanLocal: number;
  /** Prompts whose text was already in this run (answered once, fanned out). */
  inRunDuplicates: number;
  /** Distinct texts left pending (dry run or stopped) without being sent. */
  pendingUnsent: number;
  /** Retries by cause (`rate_limited`, `http_5xx`, `timeout`, `network`, `split`). */
  retries: Record<string, number>;
  /** 429 answers received. */
  rateLimited429: number;
  /** Input tokens billed (`usageMetadata.promptTokenCount`). */
  tokensIn: number;
  /** Output tokens billed (candidates + thoughts). */
  tokensOut: number;
  /** Estimated cost from the configured prices. */
  costUsd: number;
  /** Per-call latency samples in ms, from the injected clock. */
  latenciesMs: number[];
  /** Median call latency in ms (set when the stage ends). */
  latencyP50Ms: number;
  /** 95th percentile call latency in ms (set when the stage ends). */
  latencyP95Ms: number;
  /** Stage wall time in ms (set when the stage ends). */
  wallMs: number;
  /** Outcomes by status. */
  statuses: Record<string, number>;
  /** Why sending stopped early, or null. */
  stopped: StopReason;
  /** Dry-run estimate, or null for a real run. */
  dryRun: DryRunEstimate | null;
}

/**
 * Creates zeroed Stage 4 counters.
 *
 * @returns Fresh counters.
 */
export function createCorrectionStats(): CorrectionStats {
  return {
    prompts: 0,
    calls: 0,
    itemsSent: 0,
    uniqueSent: 0,
    cacheHits: 0,
    cleanLocal: 0,
    skipped: {},
    inRunDuplicates: 0,
    pendingUnsent: 0,
    retries: {},
    rateLimited429: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    latenciesMs: [],
    latencyP50Ms: 0,
    latencyP95Ms: 0,
    wallMs: 0,
    statuses: {},
    stopped: null,
    dryRun: null,
  };
}

/**
 * Increments a named counter of a record.
 *
 * @param record The record of counters.
 * @param name The counter.
 * @param by The increment. Default 1.
 */
export function bump(record: Record<string, number>, name: string, by = 1): void {
  record[name] = (record[name] ?? 0) + by;
}

/**
 * The nearest-rank percentile of samples.
 *
 * @example
 * ```ts
 * import { percentile } from "./accounting.ts";
 * if (percentile([5, 1, 3, 2, 4], 50) !== 3) throw new Error();
 * ```
 *
 * @param samples The samples (not modified).
 * @param p The percentile, 0–100.
 * @returns The value, or 0 for no samples.
 * @throws {RangeError} If `p` is outside 0–100.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`Cannot compute percentile as 'p' must be in [0, 100]: current value is ${p}`);
  }
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The cost of some tokens at the configured prices (USD per 1M tokens).
 *
 * @param tokensIn Input tokens.
 * @param tokensOut Output tokens.
 * @param prices Prices per 1M tokens.
 * @returns USD.
 */
export function costOf(
  tokensIn: number,
  tokensOut: number,
  prices: { priceInPerMTok: number; priceOutPerMTok: number },
): number {
  return (tokensIn * prices.priceInPerMTok + tokensOut * prices.priceOutPerMTok) / 1_000_000;
}
