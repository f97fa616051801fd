/**
 * Stage 1 progress on stderr: bytes read per file, redrawn at most ten times a second, and only when
 * stderr is a terminal.
 *
 * @module
 */
import type { Progress } from "../ports.ts";
import { silentProgress } from "../ports.ts";
import type { Output } from "./logger.ts";

/** Returns a progress reporter drawing on `output`'s status line, or a silent one off-terminal. */
export function terminalProgress(output: Output, now: () => number = Date.now): Progress {
  if (!output.errIsTerminal) return silentProgress;
  let file = "";
  let total = 0;
  let read = 0;
  let files = 0;
  let lastDraw = 0;
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const pct = total > 0 ? Math.floor((read / total) * 100) : 100;
    const name = file.length > 60 ? `…${file.slice(-59)}` : file;
    output.status(
      `extract [${files}] ${name} ${(read / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MB ${pct}%`,
    );
  };
  return {
    fileStarted(path, bytes) {
      file = path;
      total = bytes;
      read = 0;
      files++;
      draw(true);
    },
    bytesRead(_path, bytes) {
      read += bytes;
      draw();
    },
    fileDone() {
      read = total;
      draw(true);
      output.status("");
    },
  };
}
