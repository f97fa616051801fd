/**
 * Stage 4 configuration: one zod schema with documented defaults, validated once.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";

/** The longest delay a timer can wait: beyond 2^31 − 1 ms, `setTimeout` fires at once (every request would time out). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The local prefilters (`--prefilter`, `correction.prefilter`). */
export const Prefilters = ["spell", "none"] as const;
/** A prefilter name. */
export type Prefilter = typeof Prefilters[number];

/**
 * The Stage 4 settings and their defaults.
 *
 * Quota defaults follow Gemini 2.5 Flash-Lite at Tier 1 (billing linked): 4,000 requests and
 * 4,000,000 input tokens per minute, no published per-day cap (`rpd: null`). The free tier is far
 * lower (15 rpm / 250k tpm / 1,000 rpd at the time of writing): set those from AI Studio's live numbers.
 * Prices are USD per 1M tokens (2.5 Flash-Lite: 0.10 in, 0.40 out).
 */
export const correctionConfigSchema = z.object({
  /** Model id. `gemini-2.0-flash-lite` has been shut down. */
  model: z.string().min(1).default("gemini-2.5-flash-lite"),
  /** Prompts per request. 15 keeps a small model from mixing items up. */
  batchSize: z.int().min(1).max(50).default(15),
  /** Concurrent requests (p-limit pool size). */
  workers: z.int().min(1).max(64).default(5),
  /** Requests per minute the limiter allows. */
  rpm: z.number().positive().default(4000),
  /** Estimated input tokens per minute the limiter allows. */
  tpm: z.number().positive().default(4_000_000),
  /** Requests per day, or null for no daily cap (used by the dry-run estimate). */
  rpd: z.number().positive().nullable().default(null),
  /** Minimum gap between request starts in ms (the original design's 0.1 s is 100). */
  minGapMs: z.number().min(0).default(0),
  /** Per-request timeout in ms. */
  timeoutMs: z.int().min(1).max(MAX_TIMER_MS).default(30_000),
  /** Retries per request for 429s and for 5xx/timeouts/network errors (each counted apart). */
  maxRetries: z.int().min(0).max(20).default(5),
  /** First backoff delay in ms (doubles per attempt, full jitter). */
  backoffBaseMs: z.number().min(0).default(500),
  /** Backoff cap in ms. */
  backoffMaxMs: z.number().min(0).default(30_000),
  /** Sampling temperature (part of the cache key). */
  temperature: z.number().min(0).max(2).default(0),
  /** USD per 1M input tokens. */
  priceInPerMTok: z.number().min(0).default(0.10),
  /** USD per 1M output tokens. */
  priceOutPerMTok: z.number().min(0).default(0.40),
  /**
   * The local check that decides whether a prompt needs the model: `spell` (a code-aware spell check;
   * a prompt with no flagged word is kept as typed, `unchanged_local`, without a call) or `none`.
   */
  prefilter: z.enum(Prefilters).default("spell"),
  /** Hallucination guard bounds. */
  guards: z.object({
    /** Largest allowed ratio between the longer and the shorter of original and corrected length. */
    maxLengthRatio: z.number().min(1).default(1.5),
    /** Largest allowed edit distance divided by the longer length. */
    maxEditDistanceRatio: z.number().min(0).max(1).default(0.35),
  }).prefault({}),
});

/** Validated Stage 4 settings. */
export type CorrectionConfig = z.infer<typeof correctionConfigSchema>;

/**
 * Validates Stage 4 settings and fills in the defaults.
 *
 * @example Defaults
 * ```ts
 * import { parseCorrectionConfig } from "./config.ts";
 * const config = parseCorrectionConfig({ workers: 2 });
 * if (config.batchSize !== 15 || config.workers !== 2) throw new Error("unexpected");
 * ```
 *
 * @param input Raw settings (flags, environment and config file merged).
 * @returns The validated settings.
 * @throws {ConfigError} Naming the first bad field.
 */
export function parseCorrectionConfig(input: unknown): CorrectionConfig {
  const parsed = correctionConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join(".") || "(root)";
  throw new ConfigError(`Cannot use the correction config as '${field}' is invalid: ${issue.message}`);
}
