/**
 * Domain errors the CLI explains in one line. Each carries whether a retry could help.
 *
 * @module
 */

/** Base class for errors meant for the person at the terminal (no stack trace is printed). */
export class CcpipeError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** Whether retrying the same operation later could succeed. */
  readonly transient: boolean;
  constructor(message: string, options: { exitCode?: number; transient?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.transient = options.transient ?? false;
  }
}

/** Wrong flags or arguments (exit code 2). */
export class UsageError extends CcpipeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** Invalid configuration from flags, environment or config file (exit code 2). */
export class ConfigError extends CcpipeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** A source directory or file that cannot be read, or a data dir that cannot be written (exit code 3). */
export class InputError extends CcpipeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 3 });
  }
}

/** A warehouse (DuckDB or BigQuery) refused an operation (exit code 4). */
export class SinkError extends CcpipeError {
  constructor(message: string, options: { cause?: unknown; transient?: boolean } = {}) {
    super(message, { ...options, exitCode: 4 });
  }
}

/** A per-day quota is exhausted: the stage stopped cleanly and the next run resumes (exit code 75). */
export class QuotaExhaustedError extends CcpipeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 75, transient: true });
  }
}
