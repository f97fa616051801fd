/**
 * Progress on stderr, on one line: files and MB read of the total with rate and ETA while reading,
 * Stage 4's prompts, batches, calls and ETA while correcting, then the table being loaded. Redrawn at most ten times a second, clamped to the terminal's width,
 * and drawn only when stderr is a terminal (commands pass {@linkcode silentProgress} for `--json`).
 *
 * @module
 */
import type { Progress, Stage4ProgressState } from "../ports.ts";
import { silentProgress } from "../ports.ts";
import type { Sink } from "../sinks/sink.ts";
import { count, formatDuration, formatNumber } from "../format.ts";
import type { Output } from "./logger.ts";

/** The shortest time between two redraws: at most ten a second. */
export const REDRAW_MS = 100;

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/**
 * Returns a progress reporter drawing on `output`'s status line, or a silent one off-terminal.
 *
 * @param output Where to draw.
 * @param now The clock (injectable for tests).
 */
export function terminalProgress(output: Output, now: () => number = Date.now): Progress {
  if (!output.errIsTerminal) return silentProgress;
  let plannedFiles = 0, plannedBytes = 0, filesDone = 0, bytesDone = 0;
  let startedAt: number | null = null;
  let lastDraw = -Infinity;
  const show = (line: string) => {
    const width = Math.max(20, output.columns?.() ?? 80) - 1;
    output.status(line.length > width ? `${line.slice(0, width - 1)}…` : line);
  };
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastDraw < REDRAW_MS) return;
    lastDraw = t;
    startedAt ??= t;
    const seconds = (t - startedAt) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    const parts = plannedFiles > 0
      ? [
        `reading ${formatNumber(filesDone)}/${count(plannedFiles, "file")}`,
        `${mb(bytesDone)}/${mb(plannedBytes)} MB`,
      ]
      : [`reading ${count(filesDone, "file")}`, `${mb(bytesDone)} MB`];
    if (rate > 0) parts.push(`${mb(rate)} MB/s`);
    if (rate > 0 && plannedBytes > bytesDone) {
      parts.push(`ETA ${formatDuration(Math.ceil((plannedBytes - bytesDone) / rate) * 1000)}`);
    }
    show(parts.join(" · "));
  };
  return {
    readPlanned(files, bytes) {
      plannedFiles = files;
      plannedBytes = bytes;
      startedAt = now();
      draw(true);
    },
    fileStarted() {
      draw();
    },
    bytesRead(_path, bytes) {
      bytesDone += bytes;
      plannedBytes = Math.max(plannedBytes, bytesDone);
      draw();
    },
    fileDone() {
      filesDone++;
      if (plannedFiles > 0 && filesDone >= plannedFiles) output.status("");
      else draw();
    },
    tableLoading(table, rows) {
      lastDraw = now();
      show(`loading ${table}: ${count(rows, "row")}`);
    },
    tableLoaded() {
      output.status("");
    },
    correcting(state) {
      const t = now();
      if (!state.done && t - lastDraw < REDRAW_MS) return;
      lastDraw = t;
      if (state.done) output.status("");
      else show(stage4Line(state));
    },
  };
}

/**
 * The Stage 4 progress line.
 *
 * @example
 * ```ts
 * import { stage4Line } from "./progress.ts";
 * const line = stage4Line({
 *   prompts: 120, promptsTotal: 460, batchesDone: 3, batchesTotal: 9, calls: 4, cacheHits: 40,
 *   rateLimited: 1, pausedMs: 12_000, etaMs: 65_000, done: false,
 * });
 * if (line !== "correcting 120/460 prompts · 3/9 batches · 4 calls · 40 cached · 1 × 429, waiting 12 s · ETA 1 min 05 s") {
 *   throw new Error(line);
 * }
 * ```
 *
 * @param state Where Stage 4 stands.
 * @returns One line.
 */
export function stage4Line(state: Stage4ProgressState): string {
  const parts = [
    `correcting ${formatNumber(state.prompts)}/${count(state.promptsTotal, "prompt")}`,
    `${formatNumber(state.batchesDone)}/${count(state.batchesTotal, "batch", "batches")}`,
    count(state.calls, "call"),
    `${formatNumber(state.cacheHits)} cached`,
  ];
  if (state.rateLimited > 0) {
    const waiting = state.pausedMs > 0 ? `, waiting ${formatDuration(state.pausedMs)}` : "";
    parts.push(`${formatNumber(state.rateLimited)} × 429${waiting}`);
  }
  if (state.etaMs !== null) parts.push(`ETA ${formatDuration(state.etaMs)}`);
  return parts.join(" · ");
}

/**
 * Wraps a sink so each table's load is reported to `progress` (the line per table while loading).
 *
 * @param sink The sink.
 * @param progress Where to report.
 * @returns A sink that loads through `sink`.
 */
export function withLoadProgress(sink: Sink, progress: Progress): Sink {
  if (!progress.tableLoading && !progress.tableLoaded) return sink;
  return {
    get name() {
      return sink.name;
    },
    get location() {
      return sink.location;
    },
    prepare: () => sink.prepare(),
    counts: () => sink.counts(),
    readMessages: (refs) => sink.readMessages(refs),
    // Without it the pipeline could not tell that the warehouse is behind its state.
    ...(sink.holdsRun ? { holdsRun: (runId: string | null) => sink.holdsRun!(runId) } : {}),
    async load(staged) {
      progress.tableLoading?.(staged.table, staged.rows);
      try {
        return await sink.load(staged);
      } finally {
        progress.tableLoaded?.(staged.table, staged.rows);
      }
    },
    [Symbol.asyncDispose]: () => sink[Symbol.asyncDispose](),
  };
}
