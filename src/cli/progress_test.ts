import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Output } from "./logger.ts";
import { terminalProgress } from "./progress.ts";

function output(isTerminal: boolean): Output & { statuses: string[] } {
  const statuses: string[] = [];
  return {
    statuses,
    out() {},
    err() {},
    errIsTerminal: isTerminal,
    status: (line) => void statuses.push(line),
  };
}

Deno.test("terminalProgress() draws bytes read per file on a terminal, at most every 100 ms", () => {
  const tty = output(true);
  let now = 0;
  const progress = terminalProgress(tty, () => now);
  progress.fileStarted("/p/s.jsonl", 2 * 1048576);
  now = 150;
  progress.bytesRead("/p/s.jsonl", 1048576);
  now = 160; // within 100 ms of the last draw: not drawn
  progress.bytesRead("/p/s.jsonl", 1048576);
  progress.fileDone("/p/s.jsonl");
  assertEquals(tty.statuses, [
    "extract [1] /p/s.jsonl 0.0/2.0 MB 0%",
    "extract [1] /p/s.jsonl 1.0/2.0 MB 50%",
    "extract [1] /p/s.jsonl 2.0/2.0 MB 100%",
    "",
  ]);
});

Deno.test("terminalProgress() stays silent when stderr is not a terminal", () => {
  const pipe = output(false);
  const progress = terminalProgress(pipe);
  progress.fileStarted("/p/s.jsonl", 10);
  progress.bytesRead("/p/s.jsonl", 10);
  progress.fileDone("/p/s.jsonl");
  assertEquals(pipe.statuses, []);
});
