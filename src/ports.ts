/**
 * The side-effect interfaces stages receive instead of touching `Deno.*`, `fetch` or `Date.now()`.
 *
 * @module
 */

/** Time, injectable so tests step it instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with `signal.reason` when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * Progress reporting for long work; the CLI draws it on a terminal, tests ignore it. The optional
 * methods are called by whoever knows the fact: `readPlanned` by Stage 1 before its first file, the
 * table methods around each sink load.
 */
export interface Progress {
  /** How many files and bytes this run is about to read (bytes after the watermarks). */
  readPlanned?(files: number, bytes: number): void;
  fileStarted(path: string, bytes: number): void;
  bytesRead(path: string, bytes: number): void;
  fileDone(path: string): void;
  /** A table starts loading into the sink. */
  tableLoading?(table: string, rows: number): void;
  /** A table has loaded. */
  tableLoaded?(table: string, rows: number): void;
}

/** A progress sink that does nothing. */
export const silentProgress: Progress = {
  fileStarted() {},
  bytesRead() {},
  fileDone() {},
};
