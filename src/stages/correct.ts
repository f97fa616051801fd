/**
 * Stage 4: corrects the typos in typed prompts through Gemini, as fast as the quota allows, never
 * paying twice for the same text, and never letting a model's mistake into the data.
 *
 * Per prompt: skip rules → redaction → content key → in-run dedupe → cache → local prefilter → batch of
 * `batchSize` → a `p-limit` pool of `workers` sharing one rate limiter → guards → cache write → restore.
 *
 * @module
 */
import pLimit, { type LimitFunction } from "p-limit";
import { type Clock, type Stage4ProgressState, systemClock } from "../ports.ts";
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
  type ResponseKind,
  type TransientKind,
  TransientServiceError,
} from "../llm/errors.ts";
import type { CorrectionClient } from "../llm/gemini_client.ts";
import { checkItem, type GuardName, matchIds } from "../llm/guards.ts";
import { estimateOutputTokens, estimateRequestTokens, PROMPT_VERSION } from "../llm/prompt.ts";
import { createRateLimiter, type RateLimiter } from "../llm/rate_limiter.ts";
import { redact, restore } from "../llm/redact.ts";
import { backoffDelay } from "../io/retry.ts";
import { type SkipRule, skipRuleFor } from "../llm/select.ts";
import type { SpellPrefilter } from "../llm/spell_prefilter.ts";

export { createCorrectionStats };
export type { CorrectionStats };

/** One typed prompt to correct. */
export interface PromptToCorrect {
  /** The message's uuid. */
  uuid: string;
  /** The prompt as typed. */
  text: string;
}

/** Why an item failed for good: a retry family given up on, an unusable answer, or an HTTP refusal. */
export type FailureKind = "rate_limited" | TransientKind | ResponseKind | `http_${number}` | "internal";

/**
 * A prompt's Stage 4 outcome (the `messages.correction_status` column).
 *
 * - `corrected`, `unchanged`: the model answered (now or from the cache).
 * - `unchanged_local`: the local prefilter found nothing to correct; no call.
 * - `skipped_<rule>`: a skip rule, or `skipped_no_llm` without a key.
 * - `pending`: a dry run, or sending stopped (per-day quota, refused key or model); a later run retries.
 * - `rejected_<guard>`: a guard refused every answer; the original is kept.
 * - `failed_<kind>`: the request failed for good; the original is kept.
 */
export type CorrectionStatus =
  | "corrected"
  | "unchanged"
  | "unchanged_local"
  | "pending"
  | `skipped_${SkipRule | "no_llm"}`
  | `rejected_${GuardName}`
  | `failed_${FailureKind}`;

/** The Stage 4 outcome of one prompt (the `messages` correction columns). */
export interface CorrectionResult {
  /** The message's uuid. */
  uuid: string;
  /** Corrected text (`corrected`), the original (`unchanged*`, `rejected_*`, `failed_*`), or null (skipped, pending). */
  corrected_text: string | null;
  /** See {@linkcode CorrectionStatus}. */
  correction_status: CorrectionStatus;
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
  /**
   * The local check that decides whether a prompt needs the model; a prompt it finds clean is
   * `unchanged_local` and costs no call. Null sends every prompt the rules keep.
   * @default {null}
   */
  prefilter?: SpellPrefilter | null;
  /** How many prompts to expect in all, for the progress line (read at each report). */
  expectedPrompts?: () => number;
  /** Receives the stage's progress after each result and each batch; the receiver throttles. */
  onProgress?: (state: Stage4ProgressState) => void;
}

interface Outcome {
  status: CorrectionStatus;
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
const CLEAN_LOCAL: Outcome = { status: "unchanged_local", corrected: null, model: null };

/** Whether an outcome is the model's verdict on the text (cached), not a circumstance of this run. */
function isCacheable(status: CorrectionStatus): boolean {
  return status === "corrected" || status === "unchanged" || status.startsWith("rejected_");
}

/** What a prompt's `corrected_text` is for an outcome: the correction, the original, or nothing. */
function textFor(outcome: Outcome, slot: Slot): string | null {
  if (outcome.status === "corrected") return restore(outcome.corrected!, slot.secrets);
  if (outcome.status === "pending" || outcome.status.startsWith("skipped_")) return null;
  return slot.original;
}

/**
 * Corrects prompts. Yields exactly one result per input, in input order, with bounded buffering:
 * the next batch is pulled only when a worker is free, and at most about `4 × workers × batchSize`
 * prompts wait for their turn to be yielded.
 *
 * See {@linkcode CorrectionStatus} for the statuses. A prompt answered from the cache gets the cached
 * status. On a per-day quota the stage stops sending, keeps what finished, yields the rest as `pending`
 * and sets `stats.stopped = "daily_quota"`; a rerun resumes from the cache.
 *
 * @param source Prompts, in the order results are wanted.
 * @param options Client, cache, config, clock, stats, signal, dry run, prefilter, progress.
 * @returns The results, in input order.
 * @throws The abort reason when `signal` aborts.
 */
export function correct(
  source: AsyncIterable<PromptToCorrect>,
  options: CorrectOptions,
): AsyncGenerator<CorrectionResult> {
  return new CorrectionRun(options).run(source);
}

/**
 * One pass of Stage 4: admission (skip rules, redaction, dedupe, cache, prefilter), scheduling (batches
 * on a `p-limit` pool that owns the worker bound) and ordered output.
 */
class CorrectionRun {
  #options: CorrectOptions;
  #clock: Clock;
  #stats: CorrectionStats;
  #model: string;
  #limiter: RateLimiter;
  /** The pool: at most `workers` batches run, the rest wait in p-limit's queue. */
  #pool: LimitFunction;
  #controller = new AbortController();
  #aborted: Promise<never>;
  #started: number;
  #maxBuffered: number;

  /** Results in input order; `#head` is the next one to yield. */
  #slots: (Slot | undefined)[] = [];
  #head = 0;
  #byKey = new Map<string, Unique>();
  #building: Unique[] = [];
  #running = new Set<Promise<void>>();
  #wake = Promise.withResolvers<void>();
  #stopped = false;
  #counts = { admitted: 0, queued: 0, yielded: 0, batchesFormed: 0, batchesDone: 0 };
  #dry = { items: [] as CorrectionItem[], batches: 0, tokensIn: 0, tokensOut: 0, selected: 0 };

  constructor(options: CorrectOptions) {
    const { config } = options;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#stats = options.stats;
    this.#model = options.client?.model ?? config.model;
    this.#limiter = createRateLimiter({
      rpm: config.rpm,
      tpm: config.tpm,
      minGapMs: config.minGapMs,
      clock: this.#clock,
    });
    this.#pool = pLimit(config.workers);
    this.#maxBuffered = 4 * config.workers * config.batchSize + 64;
    this.#started = this.#clock.now();
    const signal = this.#controller.signal;
    this.#aborted = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    this.#aborted.catch(() => {});
  }

  async *run(source: AsyncIterable<PromptToCorrect>): AsyncGenerator<CorrectionResult> {
    const outer = this.#options.signal;
    if (outer?.aborted) throw outer.reason;
    const onOuterAbort = () => this.#controller.abort(outer!.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    const signal = this.#controller.signal;
    const { config } = this.#options;
    const iterator = source[Symbol.asyncIterator]();
    let sourceDone = false;
    try {
      while (true) {
        yield* this.#ready();
        if (signal.aborted) throw signal.reason;
        if (this.#stopped) this.#building.splice(0).forEach((unique) => this.#leavePending(unique));
        const buffered = this.#slots.length - this.#head;
        // Pull more input only while the pool has a free worker (nothing would wait in its queue).
        const workerFree = this.#pool.activeCount + this.#pool.pendingCount < this.#pool.concurrency;
        if (!sourceDone && workerFree && buffered < this.#maxBuffered) {
          const next = await Promise.race([iterator.next(), this.#aborted]);
          if (next.done) {
            sourceDone = true;
            this.#flush();
            if (this.#options.dryRun) this.#dryAdd(undefined);
          } else await this.#admit(next.value);
          continue;
        }
        if (sourceDone && this.#head === this.#slots.length && this.#running.size === 0) break;
        if (this.#building.length > 0 && buffered >= this.#maxBuffered) {
          this.#flush();
          continue;
        }
        if (this.#running.size === 0) {
          // Unreachable by construction (something unresolved is always queued or running).
          throw new Error("Cannot continue correct() as no batch is running and no result is ready");
        }
        await Promise.race([this.#wake.promise, this.#aborted]);
        this.#wake = Promise.withResolvers<void>();
      }
    } finally {
      outer?.removeEventListener("abort", onOuterAbort);
      if (!signal.aborted) this.#controller.abort(new DOMException("correct() ended", "AbortError"));
      await Promise.allSettled([...this.#running]);
      // Not awaited: a source stuck in next() would hold the abort up.
      if (!sourceDone) iterator.return?.()?.catch(() => {});
      this.#finish(config);
    }
  }

  /** Yields the finished results at the head, in input order. */
  *#ready(): Generator<CorrectionResult> {
    const signal = this.#controller.signal;
    while (this.#head < this.#slots.length && this.#slots[this.#head]!.result) {
      if (signal.aborted) throw signal.reason;
      const result = this.#slots[this.#head]!.result!;
      this.#slots[this.#head++] = undefined;
      bump(this.#stats.statuses, result.correction_status);
      this.#counts.yielded++;
      this.#report();
      yield result;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Admission: skip rules, redaction, in-run dedupe, cache, prefilter, then a batch. */
  async #admit(prompt: PromptToCorrect): Promise<void> {
    const { client, cache, config, dryRun, prefilter } = this.#options;
    const stats = this.#stats;
    stats.prompts++;
    this.#counts.admitted++;
    const slot: Slot = { uuid: prompt.uuid, original: prompt.text, secrets: [] };
    this.#slots.push(slot);
    if (!client && !dryRun) {
      bump(stats.skipped, "no_llm");
      return this.#fill(slot, { status: "skipped_no_llm", corrected: null, model: null });
    }
    const rule = skipRuleFor(prompt.text);
    if (rule) {
      bump(stats.skipped, rule);
      return this.#fill(slot, { status: `skipped_${rule}`, corrected: null, model: null });
    }
    const redacted = redact(prompt.text);
    slot.secrets = redacted.secrets;
    const text = normalizeForKey(redacted.text);
    const key = cacheKey({
      model: this.#model,
      promptVersion: PROMPT_VERSION,
      settings: { temperature: config.temperature },
      text,
    });
    const existing = this.#byKey.get(key);
    if (existing) {
      stats.inRunDuplicates++;
      if (existing.outcome) this.#fill(slot, existing.outcome);
      else existing.slots.push(slot);
      return;
    }
    const unique: Unique = { key, text, slots: [slot], attempted: false };
    this.#byKey.set(key, unique);
    const cached = await cache.get(key);
    if (cached) {
      stats.cacheHits++;
      const status = cached.status as CorrectionStatus;
      return this.#settle(unique, { status, corrected: cached.corrected, model: cached.model });
    }
    if (prefilter && !prefilter.needsModel(text)) {
      stats.cleanLocal++;
      return this.#settle(unique, CLEAN_LOCAL);
    }
    if (dryRun) {
      this.#dry.selected++;
      this.#dryAdd(unique);
      return this.#leavePending(unique);
    }
    if (this.#stopped) return this.#leavePending(unique);
    this.#counts.queued++;
    this.#building.push(unique);
    if (this.#building.length >= config.batchSize) this.#flush();
  }

  /** Closes the batch being built and hands it to the pool. */
  #flush(): void {
    if (this.#building.length > 0) this.#dispatch(this.#building);
    this.#building = [];
  }

  /** Scheduling: the pool runs the batch when a worker is free; a split re-enters as single items. */
  #dispatch(batch: Unique[]): void {
    const stats = this.#stats;
    this.#counts.batchesFormed++;
    const job = this.#pool(async () => {
      // A batch that waited in the pool's queue past a stop is never sent.
      if (this.#stopped) {
        for (const unique of batch) this.#leavePending(unique);
        return [];
      }
      for (const unique of batch) {
        if (!unique.attempted) stats.uniqueSent++;
        unique.attempted = true;
      }
      return await runBatch(batch, this.#batchContext());
    })
      .then((results) => {
        for (const result of results) {
          if ("split" in result) {
            bump(stats.retries, "split");
            this.#dispatch([result.unique]);
          } else this.#settle(result.unique, result.outcome);
        }
      }, () => {
        for (const unique of batch) {
          if (!unique.outcome) {
            this.#settle(unique, { status: "failed_internal", corrected: null, model: this.#model });
          }
        }
      })
      .finally(() => {
        this.#counts.batchesDone++;
        this.#report();
        this.#running.delete(job);
        this.#wake.resolve();
      });
    this.#running.add(job);
  }

  #batchContext(): BatchContext {
    return {
      client: this.#options.client!,
      cache: this.#options.cache,
      config: this.#options.config,
      clock: this.#clock,
      stats: this.#stats,
      limiter: this.#limiter,
      signal: this.#controller.signal,
      random: this.#options.random ?? Math.random,
      isStopped: () => this.#stopped,
      stop: (reason) => {
        if (!this.#stopped) this.#stats.stopped = reason;
        this.#stopped = true;
      },
    };
  }

  #fill(slot: Slot, outcome: Outcome): void {
    slot.result = {
      uuid: slot.uuid,
      corrected_text: textFor(outcome, slot),
      correction_status: outcome.status,
      correction_model: outcome.model,
    };
  }

  #settle(unique: Unique, outcome: Outcome): void {
    unique.outcome = outcome;
    unique.text = ""; // Free the text; only the outcome is needed for later duplicates.
    for (const slot of unique.slots) this.#fill(slot, outcome);
    unique.slots = [];
  }

  #leavePending(unique: Unique): void {
    if (!unique.attempted) this.#stats.pendingUnsent++;
    this.#settle(unique, PENDING);
  }

  #dryAdd(unique: Unique | undefined): void {
    const { config } = this.#options;
    const dry = this.#dry;
    if (unique) dry.items.push({ id: `a${dry.items.length + 1}`, text: unique.text });
    if (dry.items.length >= config.batchSize || (!unique && dry.items.length > 0)) {
      dry.batches++;
      dry.tokensIn += estimateRequestTokens(dry.items);
      dry.tokensOut += estimateOutputTokens(dry.items);
      dry.items = [];
    }
  }

  /** Reports progress: counts so far, batches expected, and an ETA from the limiter's rate. */
  #report(done = false): void {
    const { onProgress, expectedPrompts, config, dryRun } = this.#options;
    if (!onProgress) return;
    const { admitted, queued, yielded, batchesFormed, batchesDone } = this.#counts;
    const now = this.#clock.now();
    const promptsTotal = Math.max(expectedPrompts?.() ?? 0, admitted);
    const share = admitted > 0 ? queued / admitted : 0;
    const batchesTotal = batchesFormed + (this.#building.length > 0 ? 1 : 0) +
      Math.ceil(((promptsTotal - admitted) * share) / config.batchSize);
    // The limiter's rate bounds the pace; a slower observed pace (latency-bound) wins when known.
    const elapsed = now - this.#started;
    const limiterPerMs = config.rpm / 60_000;
    const observedPerMs = batchesDone > 0 && elapsed > 0 ? batchesDone / elapsed : limiterPerMs;
    const perMs = Math.min(limiterPerMs, observedPerMs);
    const pausedMs = Math.max(0, this.#limiter.pausedUntil - now);
    const left = batchesTotal - batchesDone;
    onProgress({
      prompts: yielded,
      promptsTotal,
      batchesDone,
      batchesTotal,
      calls: this.#stats.calls,
      cacheHits: this.#stats.cacheHits,
      rateLimited: this.#stats.rateLimited429,
      pausedMs,
      etaMs: dryRun || left <= 0 ? (done ? 0 : null) : Math.round(left / perMs + pausedMs),
      done,
    });
  }

  #finish(config: CorrectionConfig): void {
    const stats = this.#stats;
    stats.latencyP50Ms = percentile(stats.latenciesMs, 50);
    stats.latencyP95Ms = percentile(stats.latenciesMs, 95);
    stats.costUsd = costOf(stats.tokensIn, stats.tokensOut, config);
    stats.wallMs = this.#clock.now() - this.#started;
    this.#report(true);
    if (this.#options.dryRun) {
      const dry = this.#dry;
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
  const failOrSplit = (status: CorrectionStatus): BatchResult[] =>
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

function failed(kind: FailureKind, model: string): Outcome {
  return { status: `failed_${kind}`, corrected: null, model };
}

async function store(ctx: BatchContext, result: { unique: Unique; outcome: Outcome }): Promise<void> {
  if (!isCacheable(result.outcome.status)) return;
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
