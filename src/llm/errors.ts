/**
 * Typed errors of the Gemini client. Each maps one failure family to one retry decision
 * (see `isRetriable` in `retry.ts`); none of their messages carries the API key or prompt text.
 *
 * @module
 */
import { CcpipeError } from "../errors.ts";

/** Gemini answered HTTP 429 (`RESOURCE_EXHAUSTED`): a quota is spent for now. */
export class RateLimitError extends CcpipeError {
  /** The server's `google.rpc.RetryInfo.retryDelay` in milliseconds, when it sent one. */
  readonly retryDelayMs: number | undefined;
  /** The violated `google.rpc.QuotaFailure` quota id, when the server named one. */
  readonly quotaId: string | undefined;
  /** Whether the violated quota is a per-day one (it stays spent until the daily reset). */
  readonly isDaily: boolean;
  /**
   * Creates a rate-limit error.
   *
   * @param message One line, with no prompt text or key.
   * @param options Retry delay, quota id and cause.
   */
  constructor(
    message: string,
    options: { retryDelayMs?: number; quotaId?: string; cause?: unknown } = {},
  ) {
    const isDaily = /per ?day/i.test(options.quotaId ?? "");
    super(message, { cause: options.cause, transient: true, exitCode: isDaily ? 75 : 1 });
    this.retryDelayMs = options.retryDelayMs;
    this.quotaId = options.quotaId;
    this.isDaily = isDaily;
  }
}

/** The kinds of transient service failure: a 5xx answer, a timeout, or a network error. */
export type TransientKind = "http_5xx" | "timeout" | "network";

/** A failure that a later retry of the same request may not meet: 5xx, timeout or network. */
export class TransientServiceError extends CcpipeError {
  /** Which transient family this is. */
  readonly kind: TransientKind;
  /** The HTTP status, for `http_5xx`. */
  readonly status: number | undefined;
  /**
   * Creates a transient error.
   *
   * @param kind The failure family.
   * @param options HTTP status and cause.
   */
  constructor(kind: TransientKind, options: { status?: number; cause?: unknown } = {}) {
    super(
      kind === "http_5xx"
        ? `Gemini answered HTTP ${options.status ?? "5xx"}`
        : kind === "timeout"
        ? "Gemini did not answer in time"
        : "Cannot reach Gemini over the network",
      { cause: options.cause, transient: true },
    );
    this.kind = kind;
    this.status = options.status;
  }
}

/** The kinds of unusable answer. */
export type ResponseKind = "malformed" | "schema" | "blocked" | "truncated" | "empty";

/** Gemini answered 200 but the answer cannot be used: malformed, schema-invalid, blocked or truncated. */
export class GeminiResponseError extends CcpipeError {
  /** Why the answer is unusable. */
  readonly kind: ResponseKind;
  /**
   * Creates a response error.
   *
   * @param kind Why the answer is unusable.
   * @param options Cause (never the answer text).
   */
  constructor(kind: ResponseKind, options: { cause?: unknown; detail?: string } = {}) {
    super(`Cannot use Gemini's answer as it is ${kind}${options.detail ? ` (${options.detail})` : ""}`, {
      cause: options.cause,
    });
    this.kind = kind;
  }
}

/** Gemini refused the request itself (4xx other than 429): bad request, bad key, unknown model. */
export class GeminiRequestError extends CcpipeError {
  /** The HTTP status. */
  readonly status: number;
  /**
   * Creates a request error.
   *
   * @param status The HTTP status.
   * @param options Google's status string (e.g. `PERMISSION_DENIED`) and cause.
   */
  constructor(status: number, options: { reason?: string; cause?: unknown } = {}) {
    super(`Gemini refused the request: HTTP ${status}${options.reason ? ` ${options.reason}` : ""}`, {
      cause: options.cause,
    });
    this.status = status;
  }
}
