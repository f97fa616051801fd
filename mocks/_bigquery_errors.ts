/**
 * The error the BigQuery mock raises internally and the JSON shapes BigQuery uses to report it,
 * either as an HTTP error body or as a job's `status.errorResult` / `status.errors`.
 *
 * @module
 */

/** One entry of BigQuery's `errors[]` / a job's `errorResult`. */
export interface BigQueryErrorProto {
  reason: string;
  message: string;
  location?: string;
  domain?: string;
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** A failure the mock reports the way BigQuery would: an HTTP code, a reason and a message. */
export class MockBigQueryError extends Error {
  /** HTTP status when the failure answers a request directly. */
  readonly code: number;
  /** BigQuery's machine-readable reason (`invalid`, `invalidQuery`, `notFound`, ...). */
  readonly reason: string;
  /** Where the error happened (`query`, a file name, ...), when BigQuery says so. */
  readonly location?: string;
  /** Extra `errors[]` entries after the first (per-row load errors). */
  readonly details: BigQueryErrorProto[];

  /**
   * Builds an error.
   *
   * @param code HTTP status.
   * @param reason BigQuery reason.
   * @param message Message in BigQuery's words.
   * @param options `location` and extra `details`.
   */
  constructor(
    code: number,
    reason: string,
    message: string,
    options: { location?: string; details?: BigQueryErrorProto[] } = {},
  ) {
    super(message);
    this.name = "MockBigQueryError";
    this.code = code;
    this.reason = reason;
    this.location = options.location;
    this.details = options.details ?? [];
  }

  /** The first `errors[]` entry, which is also a job's `errorResult`. */
  proto(): BigQueryErrorProto {
    return {
      reason: this.reason,
      message: this.message,
      ...(this.location !== undefined ? { location: this.location } : {}),
    };
  }

  /** All `errors[]` entries. */
  protos(): BigQueryErrorProto[] {
    return [this.proto(), ...this.details];
  }

  /** The HTTP error body Google APIs send. */
  body(): { error: { code: number; message: string; errors: BigQueryErrorProto[]; status: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: this.protos().map((e) => ({ ...e, domain: e.domain ?? "global" })),
        status: STATUS_NAMES[this.code] ?? "UNKNOWN",
      },
    };
  }
}

/** A 400 `invalid` error. */
export function invalid(message: string, location?: string): MockBigQueryError {
  return new MockBigQueryError(400, "invalid", message, { location });
}

/** A 400 `invalidQuery` error, located at the query like BigQuery does. */
export function invalidQuery(message: string): MockBigQueryError {
  return new MockBigQueryError(400, "invalidQuery", message, { location: "query" });
}

/** A 404 `notFound` error. */
export function notFound(message: string): MockBigQueryError {
  return new MockBigQueryError(404, "notFound", message);
}

/** A 409 `duplicate` error. */
export function duplicate(message: string): MockBigQueryError {
  return new MockBigQueryError(409, "duplicate", message);
}
