import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { LoadResult, Sink, StagedTable } from "../sinks/sink.ts";
import type { Output } from "./logger.ts";
import { terminalProgress, withLoadProgress } from "./progress.ts";
import { messageRow } from "../testing/rows.ts";

function output(isTerminal: boolean, columns = 80): Output & { statuses: string[] } {
  const statuses: string[] = [];
  return {
    statuses,
    out() {},
    err() {},
    errIsTerminal: isTerminal,
    status: (line) => void statuses.push(line),
    columns: () => columns,
  };
}

const MB = 1048576;

Deno.test("terminalProgress() draws files and MB of the total with rate and ETA, at most every 100 ms", () => {
  const tty = output(true);
  let now = 0;
  const progress = terminalProgress(tty, () => now);
  progress.readPlanned!(3, 4 * MB);
  progress.fileStarted("/p/a.jsonl", 2 * MB);
  now = 1000;
  progress.bytesRead("/p/a.jsonl", MB);
  now = 1050; // within 100 ms of the last draw: not drawn
  progress.bytesRead("/p/a.jsonl", MB);
  progress.fileDone("/p/a.jsonl");
  now = 2000;
  progress.fileStarted("/p/b.jsonl", 2 * MB);
  progress.bytesRead("/p/b.jsonl", 2 * MB);
  progress.fileDone("/p/b.jsonl");
  progress.fileStarted("/p/c.jsonl", 0);
  progress.fileDone("/p/c.jsonl"); // the last planned file: the line is cleared
  assertEquals(tty.statuses, [
    "reading 0/3 files · 0.0/4.0 MB",
    "reading 0/3 files · 1.0/4.0 MB · 1.0 MB/s · ETA 3 s",
    "reading 1/3 files · 2.0/4.0 MB · 1.0 MB/s · ETA 2 s", // b has started; its bytes wait for the next draw
    "",
  ]);
});

Deno.test("terminalProgress() clamps its line to the terminal's width", () => {
  const narrow = output(true, 24);
  const progress = terminalProgress(narrow, () => 0);
  progress.readPlanned!(477, 48 * MB);
  assertEquals(narrow.statuses, ["reading 0/477 files · …"]);
  assertEquals(narrow.statuses[0].length, 23);
});

Deno.test("terminalProgress() stays silent when stderr is not a terminal", () => {
  const pipe = output(false);
  const progress = terminalProgress(pipe);
  progress.readPlanned?.(1, 10);
  progress.fileStarted("/p/s.jsonl", 10);
  progress.bytesRead("/p/s.jsonl", 10);
  progress.fileDone("/p/s.jsonl");
  progress.tableLoading?.("messages", 3);
  assertEquals(pipe.statuses, []);
});

Deno.test("withLoadProgress() shows a line per table while it loads", async () => {
  const tty = output(true);
  const loaded: string[] = [];
  const sink: Sink = {
    name: "test",
    location: "memory",
    prepare: () => Promise.resolve(),
    counts: () => Promise.resolve({ messages: 0, usage: 0, sessions: 0, rejects: 0, runs: 0 }),
    load(staged: StagedTable): Promise<LoadResult> {
      loaded.push(`${staged.table}:${tty.statuses.at(-1)}`);
      return Promise.resolve({
        table: staged.table,
        rowsStaged: staged.rows,
        rowsBefore: 0,
        rowsAfter: 1,
        bytes: 1,
      });
    },
    holdsRun: (runId) => Promise.resolve(runId === "r1"),
    readMessages: (refs) => Promise.resolve(refs.map((ref) => messageRow(0, "r1", ref))),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const wrapped = withLoadProgress(sink, terminalProgress(tty, () => 0));
  // The warehouse check still reaches the sink through the wrapper.
  assertEquals([await wrapped.holdsRun?.("r1"), await wrapped.holdsRun?.("r2")], [true, false]);
  // So does the read-back of waiting prompts.
  const [read] = await wrapped.readMessages([{ uuid: "u7", event_date: "2026-01-02" }]);
  assertEquals([read?.uuid, read?.event_date], ["u7", "2026-01-02"]);
  await wrapped.load({ table: "messages", path: "/x", rows: 1234, bytes: 1 });
  await wrapped.load({ table: "runs", path: "/y", rows: 1, bytes: 1 });
  assertEquals(loaded, ["messages:loading messages: 1,234 rows", "runs:loading runs: 1 row"]);
  assertEquals(tty.statuses.at(-1), "");
  assertEquals(wrapped.location, "memory");
});

Deno.test("terminalProgress() draws Stage 4 on one throttled line and clears it when done", () => {
  const tty = output(true, 200);
  let now = 0;
  const progress = terminalProgress(tty, () => now);
  const state = {
    prompts: 0,
    promptsTotal: 30,
    batchesDone: 0,
    batchesTotal: 2,
    calls: 0,
    cacheHits: 0,
    rateLimited: 0,
    pausedMs: 0,
    etaMs: null,
    done: false,
  };
  now = 200;
  progress.correcting!(state);
  now = 250; // within 100 ms of the last draw: not drawn
  progress.correcting!({ ...state, prompts: 5 });
  now = 400;
  progress.correcting!({
    ...state,
    prompts: 15,
    batchesDone: 1,
    calls: 2,
    rateLimited: 1,
    pausedMs: 1500,
    etaMs: 61_000,
  });
  now = 410; // the end is always drawn
  progress.correcting!({ ...state, prompts: 30, batchesDone: 2, calls: 3, etaMs: 0, done: true });
  assertEquals(tty.statuses, [
    "correcting 0/30 prompts · 0/2 batches · 0 calls · 0 cached",
    "correcting 15/30 prompts · 1/2 batches · 2 calls · 0 cached · 1 × 429, waiting 2 s · ETA 1 min 01 s",
    "",
  ]);
});

Deno.test("terminalProgress() draws no Stage 4 line when stderr is not a terminal", () => {
  const pipe = output(false);
  terminalProgress(pipe).correcting?.({
    prompts: 1,
    promptsTotal: 1,
    batchesDone: 1,
    batchesTotal: 1,
    calls: 1,
    cacheHits: 0,
    rateLimited: 0,
    pausedMs: 0,
    etaMs: 0,
    done: true,
  });
  assertEquals(pipe.statuses, []);
});
