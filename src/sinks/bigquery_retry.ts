/**
 * How the BigQuery sink tells transient failures from terminal ones, describes them in one line,
 * and retries them: every request runs under a deadline, and transient failures (HTTP 408/429/5xx,
 * `rateLimitExceeded`, cut connections, and the DML concurrency errors of several machines writing
 * one table) are retried with `src/io/retry.ts`'s full-jitter backoff on the injected clock.
 *
 * @module
 */
import type { JobMetadata } from "@google-cloud/bigquery";
import { SinkError } from "../errors.ts";
import { retry, RetryError } from "../io/retry.ts";
import type { Clock } from "../ports.ts";
import type { BigQueryConfig } from "./bigquery_config.ts";

const retriableReasons = new Set([
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "backendError",
  "internalError",
  "jobBackendError",
  "jobInternalError",
]);
const retriableStatus = new Set([408, 429, 500, 502, 503, 504]);
const networkCodes = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
// BigQuery answers these with reasons that are terminal in general (`invalidQuery`,
// `resourcesExceeded`), yet they only say another statement held the table: retry them.
const concurrencyMessages = [
  /Could not serialize access to table .* due to concurrent update/i,
  /Transaction is aborted due to concurrent update/i,
  /Too many DML statements outstanding against table/i,
];

interface ErrorLike {
  code?: unknown;
  message?: string;
  errors?: { reason?: string; message?: string; location?: string }[];
  name?: string;
  type?: string;
}

/** A job that reached DONE with an error result. */
export class JobFailedError extends Error {
  readonly status: NonNullable<JobMetadata["status"]>;
  readonly jobId: string;
  constructor(jobId: string, status: NonNullable<JobMetadata["status"]>) {
    super(status.errorResult?.message ?? "job failed");
    this.name = "JobFailedError";
    this.jobId = jobId;
    this.status = status;
  }
}

/** A request that got no answer before its deadline; the sink looks its job up before trying again. */
export class RequestTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(what: string, ms: number) {
    super(`no answer within ${ms} ms to ${what}`);
    this.name = "RequestTimeoutError";
  }
}

/**
 * Tells whether DML failed only because other statements held the table (concurrent loads from
 * several machines): a serialisation conflict or a full DML queue.
 *
 * @param error What the SDK threw or a failed job.
 * @returns `true` for the concurrency errors.
 */
export function isConcurrentDmlError(error: unknown): boolean {
  const e = (error ?? {}) as ErrorLike;
  const messages = [
    e.message ?? "",
    ...(e.errors ?? []).map((item) => item.message ?? ""),
    ...(error instanceof JobFailedError ? [error.status.errorResult?.message ?? ""] : []),
  ];
  return messages.some((m) => concurrencyMessages.some((pattern) => pattern.test(m)));
}

/**
 * Tells whether a failed BigQuery request or job could succeed when tried again: HTTP 408/429/5xx,
 * the reasons `rateLimitExceeded` and `backendError`, cut or timed-out connections, and DML that
 * conflicted with another machine's.
 *
 * @param error What the SDK threw.
 * @returns `true` for transient failures.
 */
export function isRetriableBigQueryError(error: unknown): boolean {
  if (isConcurrentDmlError(error)) return true;
  if (error instanceof JobFailedError) return retriableReasons.has(error.status.errorResult?.reason ?? "");
  if (error instanceof SinkError || typeof error !== "object" || error === null) return false;
  const e = error as ErrorLike;
  if (typeof e.code === "number" && retriableStatus.has(e.code)) return true;
  if (e.errors?.some((item) => retriableReasons.has(item.reason ?? ""))) return true;
  if (typeof e.code === "string" && networkCodes.has(e.code)) return true;
  // node-fetch reports cut connections as FetchError of type "system"; fetch as a TypeError.
  if (e.name === "FetchError" || e.type === "system") return true;
  return e instanceof TypeError && /fetch|network|socket|terminated|aborted/i.test(e.message ?? "");
}

/**
 * Returns the HTTP status of an SDK error, if it carries one.
 *
 * @param error What the SDK threw.
 * @returns The status code or `undefined`.
 */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as ErrorLike | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Describes an SDK error in one line without its stack: status, reason and message.
 *
 * @param error What the SDK threw.
 * @returns A short description.
 */
export function describeBigQueryError(error: unknown): string {
  if (error instanceof JobFailedError) {
    const r = error.status.errorResult;
    return `job ${error.jobId} failed: ${r?.reason ?? "error"}: ${r?.message ?? ""}`.trim();
  }
  const e = (error ?? {}) as ErrorLike;
  const status = typeof e.code === "number" ? `HTTP ${e.code}` : typeof e.code === "string" ? e.code : "";
  const reason = e.errors?.[0]?.reason ?? "";
  const message = (e.message ?? String(error)).split("\n")[0].slice(0, 300);
  return [status, reason, message].filter(Boolean).join(": ");
}

/** What every retried request needs: backoff settings, the clock, the run's signal, a log and deadlines. */
export interface RetryContext {
  config: Pick<BigQueryConfig, "retries" | "requestTimeoutMs">;
  clock: Clock;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** A signal that aborts after `ms`. @default {AbortSignal.timeout} */
  deadline?: (ms: number) => AbortSignal;
  /** Counts the retries made (the run's figures and the simulation read it). */
  retries?: { count: number };
}

/**
 * Settles like `promise`, or rejects with a {@linkcode RequestTimeoutError} when `deadline` aborts
 * first. The SDK takes no signal, so the request itself is abandoned, not cancelled; the caller
 * resolves what it did by looking its job up.
 *
 * @param promise The request.
 * @param deadline Aborts when time is up.
 * @param what The request, for the message.
 * @param ms The deadline, for the message.
 * @returns What `promise` resolved to.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  deadline: AbortSignal,
  what: string,
  ms: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RequestTimeoutError(what, ms));
    if (deadline.aborted) return onAbort();
    deadline.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => deadline.removeEventListener("abort", onAbort));
  });
}

/**
 * Runs one request under the request deadline, retrying transient failures with full-jitter backoff.
 *
 * @param what What the request does, for messages ("read dataset p.d").
 * @param context Backoff settings, clock, signal, log and deadlines.
 * @param fn The request.
 * @returns What `fn` resolved to.
 * @throws {SinkError} With the last failure as cause, `transient` when a later run may succeed.
 */
export async function withRetry<T>(what: string, context: RetryContext, fn: () => Promise<T>): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = context.config.retries;
  const ms = context.config.requestTimeoutMs;
  const deadline = context.deadline ?? ((n: number) => AbortSignal.timeout(n));
  try {
    return await retry(() => withDeadline(fn(), deadline(ms), what, ms), {
      maxAttempts,
      baseMs: baseDelayMs,
      maxMs: maxDelayMs,
      clock: context.clock,
      signal: context.signal,
      isRetriable: (error) => !(error instanceof SinkError) && isRetriableBigQueryError(error),
      onRetry: (error, attempt, delay) => {
        if (context.retries) context.retries.count++;
        context.log(
          `bigquery: ${what}: ${describeBigQueryError(error)}; retry ${attempt}/${
            maxAttempts - 1
          } in ${delay} ms`,
        );
      },
    });
  } catch (error) {
    if (error instanceof SinkError || context.signal?.aborted) throw error;
    const last = error instanceof RetryError ? error.cause : error;
    const tried = error instanceof RetryError ? ` after ${error.attempts} attempts` : "";
    throw new SinkError(`Cannot ${what} as BigQuery failed${tried}: ${describeBigQueryError(last)}`, {
      cause: last,
      transient: isRetriableBigQueryError(last),
    });
  }
}
