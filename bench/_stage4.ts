/**
 * Runs Stage 4 (`correct()`) over a list of prompts against a Gemini endpoint, as the speedup and
 * rate-limit cases need it: a fresh in-memory cache per run, results counted and checked.
 *
 * @module
 */
import type { Clock } from "../src/ports.ts";
import { parseCorrectionConfig } from "../src/llm/config.ts";
import { createMemoryCache } from "../src/llm/disk_cache.ts";
import { createGeminiClient } from "../src/llm/gemini_client.ts";
import {
  correct,
  type CorrectionStats,
  createCorrectionStats,
  type PromptToCorrect,
} from "../src/stages/correct.ts";

/** The model every case uses (one the Gemini mock knows). */
export const MODEL = "gemini-2.5-flash-lite";

/** Options of {@linkcode runCorrection}. */
export interface RunCorrectionOptions {
  /** Gemini endpoint override (the served mock's URL). */
  endpoint: string;
  workers: number;
  /** The limiter's requests per minute. @default effectively unlimited */
  rpm?: number;
  /** Prompts per batch. @default 15 */
  batchSize?: number;
  /** Retries per request. @default 5 */
  maxRetries?: number;
  /** Time source of the limiter, backoff and 429 pauses. @default {systemClock} */
  clock?: Clock;
}

/** What one Stage 4 run produced. */
export interface CorrectionRun {
  ms: number;
  results: number;
  statuses: Record<string, number>;
  stats: CorrectionStats;
}

/**
 * Builds `count` distinct prompts, each with typos the mock fixes.
 *
 * @param count Number of prompts.
 * @param tag Makes the texts differ between callers.
 * @returns The prompts.
 */
export function typoPrompts(count: number, tag = "p"): PromptToCorrect[] {
  return Array.from({ length: count }, (_, i) => ({
    uuid: `${tag}-${i}`,
    text: `pls check teh item number ${i} of ${tag} adn tell me waht is wrong wiht it`,
  }));
}

/**
 * Runs Stage 4 once with a fresh in-memory cache.
 *
 * @param prompts The prompts (all distinct, so every one is sent).
 * @param options Endpoint, workers and limiter settings.
 * @returns Wall time, result count, statuses and the stage's counters.
 */
export async function runCorrection(
  prompts: readonly PromptToCorrect[],
  options: RunCorrectionOptions,
): Promise<CorrectionRun> {
  const config = parseCorrectionConfig({
    model: MODEL,
    workers: options.workers,
    batchSize: options.batchSize ?? 15,
    rpm: options.rpm ?? 1e9,
    tpm: 1e12,
    maxRetries: options.maxRetries ?? 5,
  });
  const client = createGeminiClient({
    apiKey: "bench-key",
    model: MODEL,
    endpoint: options.endpoint,
    timeoutMs: 30_000,
  });
  const stats = createCorrectionStats();
  async function* source() {
    yield* prompts;
  }
  const started = performance.now();
  let results = 0;
  for await (
    const _ of correct(source(), { client, cache: createMemoryCache(), config, stats, clock: options.clock })
  ) results++;
  return { ms: performance.now() - started, results, statuses: { ...stats.statuses }, stats };
}

/**
 * A clock that runs `scale` times faster than real time: `now()` advances `scale` ms per real ms and
 * `sleep(ms)` waits `ms / scale` real ms. Paired with a mock on the same scale, a one-minute quota
 * window passes in `60 / scale` real seconds.
 *
 * @param scale Clock ms per real ms.
 * @returns The clock.
 */
export function scaledClock(scale: number): Clock {
  const start = Date.now();
  return {
    now: () => start + (Date.now() - start) * scale,
    sleep(ms, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, ms / scale);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
