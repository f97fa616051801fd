/**
 * Stage 4: corrects the typos in typed prompts through Gemini, as fast as the quota allows, never
 * paying twice for the same text, and never letting a model's mistake into the data.
 *
 * Per prompt: skip rules → redaction → content key → in-run dedupe → cache → batch of `batchSize`
 * → a `p-limit` pool of `workers` sharing one rate limiter → guards → cache write → restore.
 *
 * @module
 */
import pLimit from "p-limit";
import { type Clock, systemClock } from "../ports.ts";
import type { CorrectionItem } from "../schema/correction.ts";
import {
  bump,
  type CorrectionStats,
  costOf,
  createCorrectionStats,
  percentile,
  type StopReason,
} from "../llm/accounting.ts";
import type { CorrectionConfig } from "../llm/config.ts";
import { cacheKey, type CorrectionCache, normalizeForKey } from "../llm/disk_cache.ts";
import {
  GeminiRequestError,
  GeminiResponseError,
  RateLimitError,
  TransientServiceError,
} from "../llm/errors.ts";
import type { CorrectionClient } from "../llm/gemini_client.ts";
import { checkItem, matchIds } from "../llm/guards.ts";
import { estimateOutputTokens, estimateRequestTokens, PROMPT_VERSION } from "../llm/prompt.ts";
import { createRateLimiter, type RateLimiter } from "../llm/rate_limiter.ts";
import { redact, restore } from "../llm/redact.ts";
import { backoffDelay } from "../io/retry.ts";
import { skipRuleFor } from "../llm/select.ts";

export { createCorrectionStats };
export type { CorrectionStats };

/** One typed prompt to correct. */
export interface PromptToCorrect {
  /** The message's uuid. */
  uuid: string;
  /** The prompt as typed. */
  text: string;
}

/** The Stage 4 outcome of one prompt (the `messages` correction columns). */
export interface CorrectionResult {
  /** The message's uuid. */
  uuid: string;
  /** Corrected text (`corrected`), the original (`unchanged`, `rejected_*`, `failed_*`), or null (skipped, pending). */
  corrected_text: string | null;
  /** See {@linkcode correct} for the statuses. */
  correction_status: string;
  /** The model that answered, or null when none did. */
  correction_model: string | null;
}

/** Options for {@linkcode correct}. */
export interface CorrectOptions {
  /** The model client; null (no key) leaves every prompt `skipped_no_llm`. */
  client: CorrectionClient | null;
  /** The answer cache. */
  cache: CorrectionCache;
  /** Validated settings. */
  config: CorrectionConfig;
  /**
   * Time source (limiter, backoff, latency).
   * @default {systemClock}
   */
  clock?: Clock;
  /** Counters filled in place. */
  stats: CorrectionStats;
  /** Aborts the stage: in-flight calls are cancelled and the generator throws the reason. */
  signal?: AbortSignal;
  /**
   * Makes no call: prompts that would be sent are `pending`, and `stats.dryRun` holds the estimate.
   * @default {false}
   */
  dryRun?: boolean;
  /** Random source for backoff jitter. @default {Math.random} */
  random?: () => number;
}

interface Outcome {
  status: string;
  /** Redacted corrected text, for `corrected` only. */
  corrected: string | null;
  model: string | null;
}

interface Slot {
  uuid: string;
  original: string;
  secrets: string[];
  result?: CorrectionResult;
}

interface Unique {
  key: string;
  /** The normalised redacted text sent. */
  text: string;
  slots: Slot[];
  outcome?: Outcome;
  attempted: boolean;
}

type BatchResult = { unique: Unique; outcome: Outcome } | { unique: Unique; split: true };

const PENDING: Outcome = { status: "pending", corrected: null, model: null };
const CACHEABLE = /^(?:corrected|unchanged|rejected_\w+)$/;

/**
 * Corrects prompts. Yields exactly one result per input, in input order, with bounded buffering:
 * the next batch is pulled only when a worker is free, and at most about `4 × workers × batchSize`
 * prompts wait for their turn to be yielded.
 *
 * Statuses: `corrected`, `unchanged`, `skipped_empty`, `skipped_slash_command`,
 * `skipped_code_or_output`, `skipped_no_llm`, `pending` (dry run, or sending stopped by a per-day
 * quota or a refused key/model), `rejected_<guard>` and `failed_<error>`. A prompt answered from the
 * cache gets the cached status. On a per-day quota the stage stops sending, keeps what finished,
 * yields the rest as `pending` and sets `stats.stopped = "daily_quota"`; a rerun resumes from the cache.
 *
 * @param source Prompts, in the order results are wanted.
 * @param options Client, cache, config, clock, stats, signal, dry run.
 * @returns The results, in input order.
 * @throws The abort reason when `signal` aborts.
 */
export async function* correct(
  source: AsyncIterable<PromptToCorrect>,
  options: CorrectOptions,
): AsyncGenerator<CorrectionResult> {
  const { client, cache, config, stats, dryRun = false, random = Math.random } = options;
  const clock = options.clock ?? systemClock;
  const outer = options.signal;
  if (outer?.aborted) throw outer.reason;
  const started = clock.now();
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer!.reason);
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const signal = controller.signal;
  const aborted = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});

  const model = client?.model ?? config.model;
  const settings = { temperature: config.temperature };
  const limiter = createRateLimiter({ rpm: config.rpm, tpm: config.tpm, minGapMs: config.minGapMs, clock });
  const limit = pLimit(config.workers);
  const maxBuffered = 4 * config.workers * config.batchSize + 64;

  const slots: (Slot | undefined)[] = [];
  let head = 0;
  const byKey = new Map<string, Unique>();
  let building: Unique[] = [];
  const ready: Unique[][] = [];
  const running = new Set<Promise<void>>();
  let wake = Promise.withResolvers<void>();
  let stopped = false;
  const dry = { items: [] as CorrectionItem[], batches: 0, tokensIn: 0, tokensOut: 0, selected: 0 };

  const fill = (slot: Slot, outcome: Outcome) => {
    const { status } = outcome;
    const text = status === "corrected"
      ? restore(outcome.corrected!, slot.secrets)
      : status === "pending" || status.startsWith("skipped_")
      ? null
      : slot.original;
    slot.result = {
      uuid: slot.uuid,
      corrected_text: text,
      correction_status: status,
      correction_model: outcome.model,
    };
  };
  const settle = (unique: Unique, outcome: Outcome) => {
    unique.outcome = outcome;
    unique.text = ""; // Free the text; only the outcome is needed for later duplicates.
    for (const slot of unique.slots) fill(slot, outcome);
    unique.slots = [];
  };
  const leavePending = (unique: Unique) => {
    if (!unique.attempted) stats.pendingUnsent++;
    settle(unique, PENDING);
  };
  const stop = (reason: Exclude<StopReason, null>) => {
    if (!stopped) stats.stopped = reason;
    stopped = true;
  };
  const flush = () => {
    if (building.length > 0) ready.push(building);
    building = [];
  };
  const dryAdd = (unique: Unique | undefined) => {
    if (unique) dry.items.push({ id: `a${dry.items.length + 1}`, text: unique.text });
    if (dry.items.length >= config.batchSize || (!unique && dry.items.length > 0)) {
      dry.batches++;
      dry.tokensIn += estimateRequestTokens(dry.items);
      dry.tokensOut += estimateOutputTokens(dry.items);
      dry.items = [];
    }
  };

  const admit = async (prompt: PromptToCorrect) => {
    stats.prompts++;
    const slot: Slot = { uuid: prompt.uuid, original: prompt.text, secrets: [] };
    slots.push(slot);
    if (!client && !dryRun) {
      bump(stats.skipped, "no_llm");
      return fill(slot, { status: "skipped_no_llm", corrected: null, model: null });
    }
    const rule = skipRuleFor(prompt.text);
    if (rule) {
      bump(stats.skipped, rule);
      return fill(slot, { status: `skipped_${rule}`, corrected: null, model: null });
    }
    const redacted = redact(prompt.text);
    slot.secrets = redacted.secrets;
    const text = normalizeForKey(redacted.text);
    const key = cacheKey({ model, promptVersion: PROMPT_VERSION, settings, text });
    const existing = byKey.get(key);
    if (existing) {
      stats.inRunDuplicates++;
      if (existing.outcome) fill(slot, existing.outcome);
      else existing.slots.push(slot);
      return;
    }
    const unique: Unique = { key, text, slots: [slot], attempted: false };
    byKey.set(key, unique);
    const cached = await cache.get(key);
    if (cached) {
      stats.cacheHits++;
      return settle(unique, { status: cached.status, corrected: cached.corrected, model: cached.model });
    }
    if (dryRun) {
      dry.selected++;
      dryAdd(unique);
      return leavePending(unique);
    }
    if (stopped) return leavePending(unique);
    building.push(unique);
    if (building.length >= config.batchSize) flush();
  };

  const dispatch = (batch: Unique[]) => {
    for (const unique of batch) {
      if (!unique.attempted) stats.uniqueSent++;
      unique.attempted = true;
    }
    const job = limit(() =>
      runBatch(batch, {
        client: client!,
        cache,
        config,
        clock,
        stats,
        limiter,
        signal,
        random,
        isStopped: () => stopped,
        stop,
      })
    )
      .then((results) => {
        for (const result of results) {
          if ("split" in result) {
            bump(stats.retries, "split");
            ready.unshift([result.unique]);
          } else settle(result.unique, result.outcome);
        }
      }, () => {
        for (const unique of batch) {
          if (!unique.outcome) settle(unique, { status: "failed_internal", corrected: null, model });
        }
      })
      .finally(() => {
        running.delete(job);
        wake.resolve();
      });
    running.add(job);
  };

  const iterator = source[Symbol.asyncIterator]();
  let sourceDone = false;
  try {
    while (true) {
      while (head < slots.length && slots[head]!.result) {
        if (signal.aborted) throw signal.reason;
        const result = slots[head]!.result!;
        slots[head++] = undefined;
        bump(stats.statuses, result.correction_status);
        yield result;
      }
      if (head > 4096 && head * 2 > slots.length) {
        slots.splice(0, head);
        head = 0;
      }
      if (signal.aborted) throw signal.reason;
      if (stopped) {
        for (const batch of ready.splice(0)) batch.forEach(leavePending);
        building.splice(0).forEach(leavePending);
      }
      while (ready.length > 0 && running.size < config.workers) dispatch(ready.shift()!);
      const buffered = slots.length - head;
      if (!sourceDone && ready.length === 0 && buffered < maxBuffered) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next.done) {
          sourceDone = true;
          flush();
          if (dryRun) dryAdd(undefined);
        } else await admit(next.value);
        continue;
      }
      if (sourceDone && head === slots.length && running.size === 0 && ready.length === 0) break;
      if (building.length > 0 && buffered >= maxBuffered) {
        flush();
        continue;
      }
      if (running.size === 0) {
        // Unreachable by construction (something unresolved is always queued or running).
        throw new Error("Cannot continue correct() as no batch is running and no result is ready");
      }
      await Promise.race([wake.promise, aborted]);
      wake = Promise.withResolvers<void>();
    }
  } finally {
    outer?.removeEventListener("abort", onOuterAbort);
    if (!signal.aborted) controller.abort(new DOMException("correct() ended", "AbortError"));
    await Promise.allSettled([...running]);
    // Not awaited: a source stuck in next() would hold the abort up.
    if (!sourceDone) iterator.return?.()?.catch(() => {});
    stats.latencyP50Ms = percentile(stats.latenciesMs, 50);
    stats.latencyP95Ms = percentile(stats.latenciesMs, 95);
    stats.costUsd = costOf(stats.tokensIn, stats.tokensOut, config);
    stats.wallMs = clock.now() - started;
    if (dryRun) {
      stats.dryRun = {
        promptsSelected: dry.selected,
        batches: dry.batches,
        estTokensIn: dry.tokensIn,
        estTokensOut: dry.tokensOut,
        estCostUsd: costOf(dry.tokensIn, dry.tokensOut, config),
        estSeconds: Math.max(dry.batches / config.rpm, dry.tokensIn / config.tpm) * 60,
        fitsDailyQuota: config.rpd === null || dry.batches <= config.rpd,
      };
    }
  }
}

interface BatchContext {
  client: CorrectionClient;
  cache: CorrectionCache;
  config: CorrectionConfig;
  clock: Clock;
  stats: CorrectionStats;
  limiter: RateLimiter;
  signal: AbortSignal;
  random: () => number;
  isStopped(): boolean;
  stop(reason: Exclude<StopReason, null>): void;
}

/**
 * Sends one batch until it has an answer, a terminal failure, or a stop; never throws. Retries
 * (429, 5xx, timeouts, network) loop here, holding the pool slot but not the limiter; a batch that
 * needs splitting is handed back to the caller, which re-enqueues its items (no nested `limit()`).
 */
async function runBatch(batch: Unique[], ctx: BatchContext): Promise<BatchResult[]> {
  const { client, config, clock, stats, limiter, signal } = ctx;
  const items: CorrectionItem[] = batch.map((unique, i) => ({ id: `a${i + 1}`, text: unique.text }));
  const tokens = estimateRequestTokens(items);
  const all = (outcome: Outcome): BatchResult[] => batch.map((unique) => ({ unique, outcome }));
  const failOrSplit = (status: string): BatchResult[] =>
    batch.length === 1 ? all({ status, corrected: null, model: client.model }) : batch.map((unique) => ({
      unique,
      split: true,
    }));
  let rateLimitedRetries = 0;
  let transientRetries = 0;
  while (true) {
    if (ctx.isStopped() || signal.aborted) return all(PENDING);
    let permit;
    try {
      permit = await limiter.acquire(tokens, { signal });
    } catch {
      return all(PENDING);
    }
    const callStart = clock.now();
    try {
      if (ctx.isStopped()) return all(PENDING);
      stats.calls++;
      stats.itemsSent += items.length;
      const { answer, usage } = await client.correctBatch(items, { signal });
      stats.latenciesMs.push(clock.now() - callStart);
      stats.tokensIn += usage.promptTokens;
      stats.tokensOut += usage.outputTokens;
      const byId = matchIds(items, answer);
      if (!byId) return failOrSplit("rejected_ids");
      const results: BatchResult[] = [];
      for (const [i, unique] of batch.entries()) {
        const corrected = byId.get(items[i]!.id)!;
        const guard = checkItem(unique.text, corrected, config.guards);
        if (guard && batch.length > 1) {
          results.push({ unique, split: true });
          continue;
        }
        const outcome: Outcome = guard
          ? { status: `rejected_${guard}`, corrected: null, model: client.model }
          : corrected === unique.text
          ? { status: "unchanged", corrected: null, model: client.model }
          : { status: "corrected", corrected, model: client.model };
        results.push({ unique, outcome });
      }
      await Promise.all(results.map((result) => "outcome" in result ? store(ctx, result) : undefined));
      return results;
    } catch (error) {
      if (signal.aborted) return all(PENDING);
      stats.latenciesMs.push(clock.now() - callStart);
      if (error instanceof RateLimitError) {
        stats.rateLimited429++;
        // The server did not count a refused request: neither should the limiter's window.
        permit.refund();
        if (error.isDaily) {
          ctx.stop("daily_quota");
          return all(PENDING);
        }
        const wait = error.retryDelayMs ??
          backoffDelay(rateLimitedRetries, {
            baseMs: config.backoffBaseMs,
            maxMs: config.backoffMaxMs,
            random: ctx.random,
          });
        // Everyone waits: the limiter holds every start until then.
        limiter.pause(clock.now() + wait);
        if (++rateLimitedRetries > config.maxRetries) return all(failed("rate_limited", client.model));
        bump(stats.retries, "rate_limited");
        continue;
      }
      if (error instanceof TransientServiceError) {
        if (++transientRetries > config.maxRetries) return all(failed(error.kind, client.model));
        bump(stats.retries, error.kind);
        permit.release();
        try {
          await clock.sleep(
            backoffDelay(transientRetries - 1, {
              baseMs: config.backoffBaseMs,
              maxMs: config.backoffMaxMs,
              random: ctx.random,
            }),
            signal,
          );
        } catch {
          return all(PENDING);
        }
        continue;
      }
      if (error instanceof GeminiResponseError) return failOrSplit(`failed_${error.kind}`);
      if (error instanceof GeminiRequestError) {
        if (error.status === 401 || error.status === 403) {
          ctx.stop("auth");
          return all(PENDING);
        }
        if (error.status === 404) {
          ctx.stop("model_not_found");
          return all(PENDING);
        }
        return all(failed(`http_${error.status}`, client.model));
      }
      return all(failed("internal", client.model));
    } finally {
      permit.release();
    }
  }
}

function failed(kind: string, model: string): Outcome {
  return { status: `failed_${kind}`, corrected: null, model };
}

async function store(ctx: BatchContext, result: { unique: Unique; outcome: Outcome }): Promise<void> {
  if (!CACHEABLE.test(result.outcome.status)) return;
  try {
    await ctx.cache.put(result.unique.key, {
      ...result.outcome,
      model: ctx.client.model,
      at: ctx.clock.now(),
    });
  } catch {
    // A cache that cannot be written costs a repeated call next run, not this answer.
  }
}
