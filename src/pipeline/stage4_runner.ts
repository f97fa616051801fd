/**
 * Adapts Stage 4 (`src/stages/correct.ts`) to the pipeline's {@linkcode Stage4Runner} seam.
 *
 * @module
 */
import type { CorrectionCache } from "../llm/disk_cache.ts";
import type { CorrectionClient } from "../llm/gemini_client.ts";
import type { CorrectionConfig } from "../llm/config.ts";
import type { Clock } from "../ports.ts";
import { correct, createCorrectionStats } from "../stages/correct.ts";
import type { CorrectionResult, PromptToCorrect, Stage4Accounting, Stage4Runner } from "./run_pipeline.ts";

/** Options of {@linkcode createStage4Runner}. */
export interface Stage4RunnerOptions {
  /** The Gemini client, or null when no key is configured. */
  client: CorrectionClient | null;
  cache: CorrectionCache;
  config: CorrectionConfig;
  clock?: Clock;
  signal?: AbortSignal;
  /** Estimate without calling (works without a client). */
  dryRun?: boolean;
  /** Label shown in summaries, e.g. "simulated" for the demo's mock. */
  label?: string;
}

/**
 * Creates the pipeline's Stage 4 runner. Without a client (and not in a dry run) it is disabled and
 * the pipeline marks prompts `skipped_no_llm` without a pass over them.
 *
 * @param options Client, cache, config and ports.
 * @returns The runner.
 */
export function createStage4Runner(options: Stage4RunnerOptions): Stage4Runner {
  const stats = createCorrectionStats();
  return {
    model: options.config.model,
    enabled: options.client !== null || options.dryRun === true,
    correct(prompts: AsyncIterable<PromptToCorrect>): AsyncIterable<CorrectionResult> {
      return correct(prompts, {
        client: options.client,
        cache: options.cache,
        config: options.config,
        clock: options.clock,
        stats,
        signal: options.signal,
        dryRun: options.dryRun,
      });
    },
    accounting(): Stage4Accounting {
      const skipped = Object.values(stats.skipped).reduce((a, b) => a + b, 0);
      const { latenciesMs: _samples, ...details } = stats;
      return {
        sent: stats.uniqueSent,
        cacheHits: stats.cacheHits,
        skipped,
        dedupedInRun: stats.inRunDuplicates,
        pending: stats.pendingUnsent,
        calls: stats.calls,
        tokensIn: stats.tokensIn,
        tokensOut: stats.tokensOut,
        costUsd: stats.costUsd,
        stopped: stats.stopped,
        details: {
          ...details,
          model: options.config.model,
          ...(options.label ? { label: options.label } : {}),
        },
      };
    },
  };
}
