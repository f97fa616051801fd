/**
 * A worker of src/pipeline/prepare_pool.ts: prepares the files it is handed, one after the other, and
 * posts their chunks (their bytes transferred, not copied); on `finish`, its inventory.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { CcpipeError } from "../errors.ts";
import { denoFileSystem } from "../io/file_system.ts";
import { Inventory } from "../stages/inventory.ts";
import { prepareFile, type PrepareOptions } from "./prepare.ts";
import type { FromWorker, ToWorker } from "./prepare_pool.ts";

const fs = denoFileSystem();
// Files are listed by the main thread's inventory: this one only counts what the events say.
const inventory = new Inventory([], []);
let options: PrepareOptions | null = null;
const queue: ToWorker[] = [];
let busy = false;

const post = (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, transfer);

self.onmessage = (event: MessageEvent<ToWorker>) => {
  queue.push(event.data);
  if (!busy) void drain();
};

async function drain(): Promise<void> {
  busy = true;
  try {
    for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
      // Chunks are transferred to the main thread: each needs bytes of its own.
      if (message.type === "init") options = { ...message.options, ownBytes: true };
      else if (message.type === "finish") {
        post({ type: "inventory", snapshot: inventory.snapshot() });
      } else {
        for await (
          const chunk of prepareFile(
            message.file,
            message.fileIndex,
            message.watermark,
            fs,
            options!,
            inventory,
          )
        ) {
          post({ type: "chunk", chunk }, [chunk.bytes.buffer as ArrayBuffer]);
        }
      }
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({
      type: "error",
      name: e.name,
      message: e.message,
      exitCode: e instanceof CcpipeError ? e.exitCode : null,
    });
  } finally {
    busy = false;
  }
}
