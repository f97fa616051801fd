/**
 * Case 2: rate-limited throughput. The mock enforces a requests-per-minute quota on a time-compressed
 * clock (`timeScale` mock ms per real ms, so the 60 s sliding window passes in seconds), Stage 4 runs
 * on a clock compressed the same way, with more workers than the quota allows. Two settings: the
 * limiter configured at the quota, and a limiter three times too generous (so the mock's 429s and
 * their `RetryInfo` do the limiting).
 *
 * Throughput as a fraction of the quota = best possible time / achieved time, in mock time. A sliding
 * window that starts empty lets `quota` calls through at once and `quota` more per window after that,
 * so `n` calls need at least `ceil(n / quota) - 1` windows.
 *
 * @module
 */
import type { CaseResult } from "./_report.ts";
import { round } from "./_report.ts";
import type { ServedMocks } from "./_mock_server.ts";
import { runCorrection, scaledClock, typoPrompts } from "./_stage4.ts";

/** Options of {@linkcode rateLimitedCase}. */
export interface RateLimitedOptions {
  /** The mock's quota, requests per (mock) minute. @default 30 */
  quotaRpm?: number;
  /** Batches to send. @default 150 */
  batches?: number;
  /** Mock ms per real ms. @default 30 */
  timeScale?: number;
  /** Pool size (must exceed what the quota allows at the mock's latency). @default 10 */
  workers?: number;
  /** Mock latency per call in real ms. @default 5 */
  latencyMs?: number;
}

/** Target: achieved throughput ÷ quota. */
export const THROUGHPUT_TARGET = 0.9;

/**
 * Runs the rate-limited case with the limiter at the quota and at three times the quota.
 *
 * @param mocks The served mocks (the Gemini mock is reconfigured here).
 * @param options Quota, batches, time scale, workers, latency.
 * @returns One row per limiter setting.
 */
export async function rateLimitedCase(
  mocks: ServedMocks,
  options: RateLimitedOptions = {},
): Promise<CaseResult[]> {
  const { quotaRpm = 30, batches = 150, timeScale = 30, workers = 10, latencyMs = 5 } = options;
  const rows: CaseResult[] = [];
  for (
    const [label, limiterRpm] of [["limiter at quota", quotaRpm], ["limiter 3× quota", quotaRpm * 3]] as const
  ) {
    const prompts = typoPrompts(batches * 15, `rl${limiterRpm}`);
    await mocks.configureGemini(
      { latency: { kind: "fixed", ms: latencyMs }, quotas: { rpm: quotaRpm } },
      timeScale,
    );
    const run = await runCorrection(prompts, {
      endpoint: mocks.url,
      workers,
      rpm: limiterRpm,
      clock: scaledClock(timeScale),
    });
    const stats = await mocks.stats();
    const lost = prompts.length - (run.statuses.corrected ?? 0);
    const mockMs = run.ms * timeScale;
    const bestMs = (Math.ceil(batches / quotaRpm) - 1) * 60_000;
    const fraction = bestMs / mockMs;
    const perMinute = stats.gemini.ok / (mockMs / 60_000);
    rows.push({
      name: `2 rate-limited, ${label}`,
      measured: `${fraction.toFixed(3)} of quota, ${run.stats.rateLimited429} × 429, ${lost} lost`,
      target: `≥ ${THROUGHPUT_TARGET}, 0 lost`,
      pass: fraction >= THROUGHPUT_TARGET && lost === 0,
      how:
        `mock quota ${quotaRpm} rpm on a ${timeScale}× clock, limiter ${limiterRpm} rpm, ${workers} workers, ` +
        `${batches} batches, latency ${latencyMs} ms; best time ${bestMs / 60_000} windows ÷ achieved`,
      details: {
        quotaRpm,
        limiterRpm,
        timeScale,
        workers,
        batches,
        latencyMs,
        fractionOfQuota: round(fraction, 4),
        okCallsPerMockMinute: round(perMinute, 2),
        mockMinutes: round(mockMs / 60_000, 3),
        realSeconds: round(run.ms / 1000, 2),
        rateLimited429: run.stats.rateLimited429,
        mockRateLimited: stats.gemini.rateLimited,
        okCalls: stats.gemini.ok,
        itemsLost: lost,
        statuses: run.statuses,
        retries: run.stats.retries,
      },
    });
  }
  return rows;
}
