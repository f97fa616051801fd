/**
 * Stage 4 as the pipeline sees it, in one place: the runner's contract, its accounting, and
 * {@linkcode createStage4}, the one factory `ccpipe run`, `ccpipe demo` and the bench build it with.
 * The engine itself is `src/stages/correct.ts`.
 *
 * @module
 */
import type { PromptOutcomes } from "./reconcile.ts";
import type { CorrectionConfig } from "../llm/config.ts";
import { type CorrectionCache, createDiskCache } from "../llm/disk_cache.ts";
import type { CorrectionClient } from "../llm/gemini_client.ts";
import { loadCspellWords, SpellPrefilter, Vocabulary, type WordList } from "../llm/spell_prefilter.ts";
import type { Clock, Progress } from "../ports.ts";
import type { MessageRow } from "../schema/mod.ts";
import {
  correct,
  type CorrectionResult,
  createCorrectionStats,
  type PromptToCorrect,
} from "../stages/correct.ts";

export type { CorrectionResult, PromptToCorrect };

/** Stage 4 as the pipeline sees it: results in input order, plus counts for the reconciliation. */
export interface Stage4Runner {
  readonly model: string;
  /** Whether an LLM is available; without one every prompt is `skipped_no_llm` and no pass runs. */
  readonly enabled: boolean;
  /** Sees every message row before `correct` runs: the prefilter learns the user's vocabulary from them. */
  learn?(row: Pick<MessageRow, "kind" | "text" | "project">): void;
  correct(prompts: AsyncIterable<PromptToCorrect>): AsyncIterable<CorrectionResult>;
  /** Counts for the reconciliation and the `runs` row, read after `correct` finished. */
  accounting(): Stage4Accounting;
}

/** What Stage 4 reports to the run. */
export interface Stage4Accounting extends PromptOutcomes {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** Set when the stage stopped early, e.g. `daily_quota`. */
  stopped: string | null;
  details: Record<string, unknown>;
}

/** Options of {@linkcode createStage4}. */
export interface Stage4Options {
  /** The Gemini client, or null when no key is configured. */
  client: CorrectionClient | null;
  /** Validated settings (`config.prefilter` picks the local check). */
  config: CorrectionConfig;
  /** The answer cache; a disk cache under `cacheDir` when omitted. */
  cache?: CorrectionCache;
  /** Folder of the disk cache (used when `cache` is omitted). */
  cacheDir?: string;
  clock?: Clock;
  signal?: AbortSignal;
  /** Where the Stage 4 progress line goes. @default no progress */
  progress?: Progress;
  /** Estimate without calling (works without a client). */
  dryRun?: boolean;
  /** Label shown in summaries, e.g. "simulated" for the demo's mock. */
  label?: string;
  /** Loads the prefilter's dictionary (tests pass a small one). @default {loadCspellWords} */
  loadWords?: () => Promise<WordList>;
}

/**
 * Creates the pipeline's Stage 4 runner. Without a client (and not in a dry run) it is disabled and
 * the pipeline marks prompts `skipped_no_llm` without a pass over them.
 *
 * @param options Client, config, cache, ports.
 * @returns The runner.
 * @throws {TypeError} When neither `cache` nor `cacheDir` is given.
 */
export function createStage4(options: Stage4Options): Stage4Runner {
  const { config } = options;
  const cache = options.cache ??
    (options.cacheDir !== undefined
      ? createDiskCache(options.cacheDir, { clock: options.clock })
      : undefined);
  if (!cache) throw new TypeError("Cannot create Stage 4 as neither 'cache' nor 'cacheDir' is given");
  const stats = createCorrectionStats();
  const vocabulary = new Vocabulary();
  const enabled = options.client !== null || options.dryRun === true;
  let promptsSeen = 0;
  let prefilterLoadMs = 0;
  // The dictionary starts loading at the first prompt, while Stages 1–3 still read.
  let words: Promise<WordList> | null = null;
  const loadWords = () => {
    if (!words) {
      const started = performance.now();
      words = (options.loadWords ?? loadCspellWords)().then((list) => {
        prefilterLoadMs = Math.round(performance.now() - started);
        return list;
      });
      words.catch(() => {}); // Reported when correct() awaits it.
    }
    return words;
  };
  return {
    model: config.model,
    enabled,
    learn(row) {
      if (row.kind === "human_prompt") {
        promptsSeen++;
        if (config.prefilter === "spell" && enabled) loadWords();
      }
      if (config.prefilter === "spell") vocabulary.learnFromMessage(row);
    },
    async *correct(prompts) {
      const prefilter = config.prefilter === "spell"
        ? new SpellPrefilter(await loadWords(), vocabulary)
        : null;
      yield* correct(prompts, {
        client: options.client,
        cache,
        config,
        clock: options.clock,
        stats,
        signal: options.signal,
        dryRun: options.dryRun,
        prefilter,
        expectedPrompts: () => promptsSeen,
        onProgress: options.progress?.correcting?.bind(options.progress),
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
        cleanLocal: stats.cleanLocal,
        calls: stats.calls,
        tokensIn: stats.tokensIn,
        tokensOut: stats.tokensOut,
        costUsd: stats.costUsd,
        stopped: stats.stopped,
        details: {
          ...details,
          model: config.model,
          prefilter: config.prefilter,
          vocabulary: vocabulary.size,
          prefilterLoadMs,
          ...(options.label ? { label: options.label } : {}),
        },
      };
    },
  };
}
