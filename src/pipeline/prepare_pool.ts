/**
 * Prepares a run's files (src/pipeline/prepare.ts) on this thread or on a pool of workers, and hands
 * the chunks back in file order. Each worker reads and prepares whole files; this thread prepares files
 * too whenever it would otherwise wait. The chunks of a file that is not next wait here, and files are
 * handed out only while what waits stays under a budget, so memory does not grow with the input.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { CcpipeError, InputError } from "../errors.ts";
import type { FileSystem } from "../io/file_system.ts";
import type { Progress } from "../ports.ts";
import type { SourceFile, Watermark } from "../schema/mod.ts";
import type { Inventory, InventorySnapshot } from "../stages/inventory.ts";
import { type PreparedChunk, prepareFile, type PrepareOptions } from "./prepare.ts";

/** Options of {@linkcode preparedChunks}. */
export interface PrepareSource {
  files: readonly SourceFile[];
  watermarks: ReadonlyMap<string, Watermark>;
  /** Where files are read on this thread (workers read the local disk). */
  fs: FileSystem;
  options: PrepareOptions;
  /** Told about every Stage 1 event (the workers' own inventories are merged in at the end). */
  inventory: Inventory;
  progress: Progress;
  signal?: AbortSignal;
  /** Worker threads; 0 prepares on this thread. */
  threads: number;
}

/** Messages a worker receives. */
export type ToWorker =
  | { type: "init"; options: PrepareOptions }
  | { type: "file"; fileIndex: number; file: SourceFile; watermark: Watermark | undefined }
  | { type: "finish" };

/** Messages a worker sends. */
export type FromWorker =
  | { type: "chunk"; chunk: PreparedChunk }
  | { type: "inventory"; snapshot: InventorySnapshot }
  | { type: "error"; name: string; message: string; exitCode: number | null };

/**
 * Input bytes handed to a worker and not finished, beyond which it gets no more. This thread prepares a
 * file itself only when every worker's queue is full, so this sets the split: with 1 MiB this thread took
 * ~60 % of a 106 MB corpus on top of merging all of it, and the worker sat idle 40 % of the time; with
 * 4 MiB it takes ~37 %, both threads stay busy, and `--sink none` went ~2.15 -> ~1.9 s (two cores).
 */
const WORKER_QUEUE_BYTES = 4 << 20;

/** Input bytes handed to workers and not merged yet, beyond which no more files are handed out. */
const AHEAD_BYTES = 16 << 20;

/**
 * The run's files, prepared, in file order (each file's chunks in order), with the progress told.
 *
 * @param source Files, watermarks, options and where to prepare them.
 * @returns The chunks.
 */
export async function* preparedChunks(source: PrepareSource): AsyncGenerator<PreparedChunk> {
  const { files, watermarks, progress } = source;
  const unread = (file: SourceFile) => Math.max(0, file.size - (watermarks.get(file.path)?.offset ?? 0));
  progress.readPlanned?.(files.length, files.reduce((sum, file) => sum + unread(file), 0));
  const chunks = source.threads > 0 && files.length > 1 ? fromWorkers(source) : onThisThread(source);
  let current = -1;
  for await (const chunk of chunks) {
    if (chunk.fileIndex !== current) {
      current = chunk.fileIndex;
      progress.fileStarted(chunk.path, unread(files[current]!));
    }
    if (chunk.bytesRead > 0) progress.bytesRead(chunk.path, chunk.bytesRead);
    yield chunk;
    if (chunk.last) progress.fileDone(chunk.path);
  }
}

/** File `index` prepared on this thread. */
function prepareHere(
  source: PrepareSource,
  index: number,
  options = source.options,
): AsyncGenerator<PreparedChunk> {
  const file = source.files[index]!;
  const { watermarks, fs, inventory, signal } = source;
  return prepareFile(file, index, watermarks.get(file.path), fs, options, inventory, signal);
}

async function* onThisThread(source: PrepareSource): AsyncGenerator<PreparedChunk> {
  for (let index = 0; index < source.files.length; index++) {
    source.signal?.throwIfAborted();
    yield* prepareHere(source, index);
  }
}

async function* fromWorkers(source: PrepareSource): AsyncGenerator<PreparedChunk> {
  const { files, watermarks, signal } = source;
  const count = Math.min(source.threads, files.length);
  const url = new URL("./prepare_worker.ts", import.meta.url);
  const workers = Array.from({ length: count }, () => new Worker(url.href, { type: "module" }));
  // Chunks per file not merged yet, and the input bytes each worker was handed and has not finished.
  const waiting = new Map<number, PreparedChunk[]>();
  const handedOut = new Array<number>(count).fill(0);
  const snapshots: InventorySnapshot[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  // Files are taken in order: `next` is the first nobody took, `current` the one being merged.
  let next = 0, ahead = 0, current = 0;
  // Whether the event loop turned since this thread last found the next chunk missing.
  let turned = false;
  const handOut = () => {
    // Each worker gets up to its queue's worth; what waits here stays in the budget (when it is spent and
    // the next file to merge is nobody's, this thread prepares that file itself).
    while (next < files.length && ahead < AHEAD_BYTES) {
      const i = handedOut.indexOf(Math.min(...handedOut));
      if (handedOut[i]! >= WORKER_QUEUE_BYTES) return;
      const file = files[next]!;
      handedOut[i]! += Math.max(1, file.size);
      ahead += file.size;
      workers[i]!.postMessage(
        { type: "file", fileIndex: next, file, watermark: watermarks.get(file.path) } satisfies ToWorker,
      );
      next++;
    }
  };
  for (const [i, worker] of workers.entries()) {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === "chunk") {
        const list = waiting.get(message.chunk.fileIndex) ?? [];
        list.push(message.chunk);
        waiting.set(message.chunk.fileIndex, list);
        if (message.chunk.last) {
          handedOut[i]! -= Math.max(1, files[message.chunk.fileIndex]!.size);
          handOut();
        }
      } else if (message.type === "inventory") snapshots.push(message.snapshot);
      else failure ??= workerError(message);
      notify();
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      failure ??= new Error(`A parsing worker failed: ${event.message}`);
      notify();
    };
    worker.postMessage({ type: "init", options: source.options } satisfies ToWorker);
  }
  /** Prepares a later file on this thread, keeping its chunks (bytes of their own) for their turn. */
  const prepareAhead = async (index: number) => {
    const list: PreparedChunk[] = [];
    waiting.set(index, list);
    ahead += files[index]!.size;
    for await (const chunk of prepareHere(source, index, { ...source.options, ownBytes: true })) {
      list.push(chunk);
    }
  };
  const onAbort = () => notify();
  signal?.addEventListener("abort", onAbort);
  try {
    handOut();
    while (current < files.length) {
      signal?.throwIfAborted();
      if (current === next) {
        // This thread caught up with the workers: it prepares the next file itself, merging as it goes.
        yield* prepareHere(source, next++);
        current++;
        handOut();
        continue;
      }
      const chunk = waiting.get(current)?.shift();
      if (chunk === undefined) {
        if (failure) throw failure;
        if (!turned) {
          // Preparing runs on promises alone, which hold workers' messages back: let them in first.
          await new Promise((resolve) => setImmediate(resolve));
          turned = true;
          continue;
        }
        turned = false;
        handOut();
        if (next < files.length && ahead < AHEAD_BYTES) {
          // The workers' queues are full and the next file to merge is not ready: rather than wait,
          // prepare the first file nobody took, keeping its chunks for their turn.
          await prepareAhead(next++);
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      turned = false;
      if (chunk.last) {
        waiting.delete(current);
        ahead -= files[current]!.size;
        current++;
      }
      yield chunk;
    }
    for (const worker of workers) worker.postMessage({ type: "finish" } satisfies ToWorker);
    while (snapshots.length < count) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    for (const snapshot of snapshots) source.inventory.merge(snapshot);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    for (const worker of workers) worker.terminate();
  }
}

/** The worker's error, as this thread's class where it matters to the exit code. */
function workerError(message: Extract<FromWorker, { type: "error" }>): Error {
  if (message.name === "InputError") return new InputError(message.message);
  if (message.exitCode !== null) return new CcpipeError(message.message, { exitCode: message.exitCode });
  return new Error(message.message);
}
