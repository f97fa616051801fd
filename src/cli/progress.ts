/**
 * Progress on stderr, on one line: files and MB read of the total with rate and ETA while reading,
 * then the table being loaded. Redrawn at most ten times a second, clamped to the terminal's width,
 * and drawn only when stderr is a terminal (commands pass {@linkcode silentProgress} for `--json`).
 *
 * @module
 */
import type { Progress } from "../ports.ts";
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
  };
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
