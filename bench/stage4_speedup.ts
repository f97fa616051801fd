/**
 * Measures Stage 4 on the Gemini mock at a fixed 100 ms latency: 60 batches (900 distinct prompts) at
 * 1 worker and at 5 workers, and prints the times and their ratio. Prints, never asserts.
 * Run: `deno run --allow-read --allow-env --allow-sys --allow-net=127.0.0.1,localhost bench/stage4_speedup.ts`.
 *
 * @module
 */
import { setupServer } from "msw/node";
import { createGeminiMock } from "../mocks/gemini.ts";
import { correct, createCorrectionStats, type PromptToCorrect } from "../src/stages/correct.ts";
import { createGeminiClient } from "../src/llm/gemini_client.ts";
import { createMemoryCache } from "../src/llm/disk_cache.ts";
import { parseCorrectionConfig } from "../src/llm/config.ts";

const BATCHES = 60;
const BATCH_SIZE = 15;

async function* prompts(): AsyncGenerator<PromptToCorrect> {
  for (let i = 0; i < BATCHES * BATCH_SIZE; i++) {
    yield { uuid: `u${i}`, text: `pls check teh item number ${i} adn tell me waht is wrong` };
  }
}

async function measure(workers: number): Promise<{ ms: number; calls: number; maxConcurrent: number }> {
  const mock = createGeminiMock({ latency: { kind: "fixed", ms: 100 } });
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: "error" });
  try {
    const client = createGeminiClient({
      apiKey: "bench-key",
      model: "gemini-2.5-flash-lite",
      timeoutMs: 30_000,
    });
    const config = parseCorrectionConfig({ workers, batchSize: BATCH_SIZE });
    const stats = createCorrectionStats();
    const started = performance.now();
    let n = 0;
    for await (const _ of correct(prompts(), { client, cache: createMemoryCache(), config, stats })) n++;
    const ms = performance.now() - started;
    if (n !== BATCHES * BATCH_SIZE) throw new Error(`expected ${BATCHES * BATCH_SIZE} results, got ${n}`);
    return { ms, calls: mock.counters().requests, maxConcurrent: mock.counters().maxConcurrent };
  } finally {
    server.close();
  }
}

const one = await measure(1);
const five = await measure(5);
console.log(`stage4 speedup: ${BATCHES} batches x ${BATCH_SIZE} prompts, mock latency fixed 100 ms`);
console.log(`  1 worker : ${one.ms.toFixed(0)} ms, ${one.calls} calls, max in flight ${one.maxConcurrent}`);
console.log(
  `  5 workers: ${five.ms.toFixed(0)} ms, ${five.calls} calls, max in flight ${five.maxConcurrent}`,
);
console.log(`  ratio    : ${(one.ms / five.ms).toFixed(2)}x`);
// An MSW server can keep the process alive after close(): end explicitly.
Deno.exit(0);
