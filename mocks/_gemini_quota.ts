/**
 * Sliding-window quotas like the Gemini API's free tier: requests per minute, input tokens per minute and
 * requests per day, counted per model. Only accepted requests are recorded (a 429 does not use quota).
 *
 * @module
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The limits; an absent field is unlimited. */
export interface QuotaLimits {
  rpm?: number;
  tpm?: number;
  rpd?: number;
}

/** One violated limit, in the terms of the service's `QuotaFailure` violation. */
export interface QuotaViolation {
  quotaMetric: string;
  quotaId: string;
  quotaValue: string;
  /** Real time until the window frees enough room, in milliseconds. */
  retryAfterMs: number;
}

interface Entry {
  at: number;
  tokens: number;
}

/** Per-model sliding windows (60 s for rpm/tpm, 24 h for rpd). */
export class SlidingQuota {
  #minute = new Map<string, Entry[]>();
  #day = new Map<string, number[]>();

  /**
   * Returns the limits a request would break, per-day first, or an empty list when it fits.
   *
   * @param model The model the request is for (windows are per model).
   * @param tokens The request's input tokens.
   * @param now Current time in milliseconds.
   * @param limits The limits to enforce.
   * @returns The violations, empty when the request is within quota.
   */
  check(model: string, tokens: number, now: number, limits: QuotaLimits): QuotaViolation[] {
    const violations: QuotaViolation[] = [];
    const minute = this.#prunedMinute(model, now);
    if (limits.rpd !== undefined) {
      const day = this.#prunedDay(model, now);
      if (day.length >= limits.rpd) {
        violations.push({
          quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
          quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
          quotaValue: String(limits.rpd),
          retryAfterMs: day[day.length - limits.rpd] + DAY_MS - now,
        });
      }
    }
    if (limits.rpm !== undefined && minute.length >= limits.rpm) {
      violations.push({
        quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        quotaValue: String(limits.rpm),
        retryAfterMs: minute[minute.length - limits.rpm].at + MINUTE_MS - now,
      });
    }
    if (limits.tpm !== undefined) {
      let used = minute.reduce((sum, e) => sum + e.tokens, 0);
      if (used + tokens > limits.tpm) {
        // The window frees room as its oldest entries expire; a request larger than the whole limit never
        // fits, so it is told to wait for the full window (the real service keeps refusing it too).
        let retryAfterMs = MINUTE_MS;
        for (const entry of minute) {
          used -= entry.tokens;
          if (used + tokens <= limits.tpm && tokens <= limits.tpm) {
            retryAfterMs = entry.at + MINUTE_MS - now;
            break;
          }
        }
        violations.push({
          quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
          quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
          quotaValue: String(limits.tpm),
          retryAfterMs,
        });
      }
    }
    return violations;
  }

  /**
   * Records an accepted request in the windows.
   *
   * @param model The model the request was for.
   * @param tokens The request's input tokens.
   * @param now Current time in milliseconds.
   */
  record(model: string, tokens: number, now: number): void {
    this.#prunedMinute(model, now).push({ at: now, tokens });
    this.#prunedDay(model, now).push(now);
  }

  /** Forgets every recorded request. */
  clear(): void {
    this.#minute.clear();
    this.#day.clear();
  }

  #prunedMinute(model: string, now: number): Entry[] {
    const list = this.#minute.get(model) ?? [];
    let drop = 0;
    while (drop < list.length && list[drop].at <= now - MINUTE_MS) drop++;
    const kept = drop === 0 ? list : list.slice(drop);
    this.#minute.set(model, kept);
    return kept;
  }

  #prunedDay(model: string, now: number): number[] {
    const list = this.#day.get(model) ?? [];
    let drop = 0;
    while (drop < list.length && list[drop] <= now - DAY_MS) drop++;
    const kept = drop === 0 ? list : list.slice(drop);
    this.#day.set(model, kept);
    return kept;
  }
}

/**
 * Formats a wait as a protobuf Duration string the way `RetryInfo.retryDelay` carries it: whole seconds
 * rounded up ("26s") from one second on, milliseconds below it ("0.5s") so scaled-down runs still work.
 *
 * @param ms The wait in milliseconds.
 * @returns The duration string.
 */
export function formatRetryDelay(ms: number): string {
  if (ms >= 1000) return `${Math.ceil(ms / 1000)}s`;
  return `${Math.max(1, Math.ceil(ms)) / 1000}s`;
}
