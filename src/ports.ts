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

/** Where Stage 4 stands, as its progress line shows it. */
export interface Stage4ProgressState {
  /** Prompts with a result. */
  prompts: number;
  /** Prompts expected in all (at least `prompts`). */
  promptsTotal: number;
  /** Batches answered (or given up). */
  batchesDone: number;
  /** Batches formed so far plus those the prompts still to come are expected to need. */
  batchesTotal: number;
  /** Requests made. */
  calls: number;
  cacheHits: number;
  /** 429 answers so far. */
  rateLimited: number;
  /** How long every worker still waits after a 429, in ms (0 when not paused). */
  pausedMs: number;
  /** Estimated ms left, from the limiter's rate and the batches left; null before anything is known. */
  etaMs: number | null;
  /** Whether the stage has finished (the line is cleared). */
  done: boolean;
}

/**
 * Progress reporting for long work; the CLI draws it on a terminal, tests ignore it. The optional
 * methods are called by whoever knows the fact: `readPlanned` by Stage 1 before its first file,
 * `correcting` by Stage 4, the table methods around each sink load.
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
  /** Stage 4's state, reported after every result and batch (the drawer throttles). */
  correcting?(state: Stage4ProgressState): void;
}

/** A progress sink that does nothing. */
export const silentProgress: Progress = {
  fileStarted() {},
  bytesRead() {},
  fileDone() {},
};
