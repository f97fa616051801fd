/**
 * Case 1: Stage 4 speedup of a worker pool over one worker, on the same 60 batches, with the mock's
 * latency fixed and no rate limit binding (limiter and mock quotas unlimited). Each pool size is a
 * tinybench task; the speedup is the ratio of the medians.
 *
 * @module
 */
import { Bench } from "tinybench";
import type { CaseResult } from "./_report.ts";
import { round } from "./_report.ts";
import type { ServedMocks } from "./_mock_server.ts";
import { runCorrection, typoPrompts } from "./_stage4.ts";

/** Options of {@linkcode speedupCase}. */
export interface SpeedupOptions {
  /** Fixed mock latency per call, in ms. @default 100 */
  latencyMs?: number;
  /** Measured iterations per pool size (one warm-up iteration comes first). @default 4 */
  iterations?: number;
  /** Batches per iteration. @default 60 */
  batches?: number;
  /** Pool sizes; the first is the baseline. @default [1, 5, 10, 20] */
  workers?: number[];
  /** Whether the 5-worker row carries the target (false: every row informs). @default true */
  withTarget?: boolean;
}

/** Target of the 5-worker speedup (ideal 5.0). */
export const SPEEDUP_TARGET = 4.75;

/**
 * Measures the speedup of 5, 10 and 20 workers over 1.
 *
 * @param mocks The served mocks (the Gemini mock is reconfigured here).
 * @param options Latency, iterations, batches, pool sizes.
 * @returns One row per pool size above the baseline, the 5-worker row carrying the target.
 */
export async function speedupCase(mocks: ServedMocks, options: SpeedupOptions = {}): Promise<CaseResult[]> {
  const { latencyMs = 100, iterations = 4, batches = 60, workers = [1, 5, 10, 20], withTarget = true } =
    options;
  const prompts = typoPrompts(batches * 15, "speedup");
  // Warm up once at zero latency (JIT, connections), so no task needs a slow warm-up iteration.
  await mocks.configureGemini({ latency: { kind: "fixed", ms: 0 } });
  await runCorrection(prompts, { endpoint: mocks.url, workers: 5 });
  const maxConcurrent: Record<number, number> = {};
  const calls: Record<number, number> = {};
  const bench = new Bench({ iterations, time: 0, warmup: false });
  for (const w of workers) {
    bench.add(`${w} workers`, async () => {
      const run = await runCorrection(prompts, { endpoint: mocks.url, workers: w });
      if (run.results !== prompts.length || run.statuses.corrected !== prompts.length) {
        throw new Error(`Stage 4 with ${w} workers returned ${JSON.stringify(run.statuses)}`);
      }
      if (run.stats.calls !== batches) {
        throw new Error(`Stage 4 made ${run.stats.calls} calls, not ${batches}`);
      }
    }, {
      async beforeAll() {
        await mocks.configureGemini({ latency: { kind: "fixed", ms: latencyMs } });
      },
      async afterAll() {
        const stats = await mocks.stats();
        maxConcurrent[w] = stats.gemini.maxConcurrent;
        calls[w] = stats.gemini.requests;
      },
    });
  }
  await bench.run();
  const medians: Record<number, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== "completed") {
      throw new Error(
        `Speedup task '${task.name}' ended ${result.state}: ${"error" in result ? result.error : ""}`,
      );
    }
    medians[Number.parseInt(task.name)] = result.latency.p50!;
  }
  const base = workers[0]!;
  const how =
    `${batches} batches × 15 prompts, mock latency fixed ${latencyMs} ms, limiter/quotas unlimited; ` +
    `tinybench, ${iterations} iterations per size after one warm-up run; median(${base} worker) / median(N)`;
  return workers.slice(1).map((w) => {
    const ratio = medians[base]! / medians[w]!;
    const isTarget = withTarget && w === 5;
    return {
      name: `1 speedup ${w} vs ${base} workers @${latencyMs} ms`,
      measured: `${ratio.toFixed(2)}× (${(medians[base]! / 1000).toFixed(2)} s → ${
        (medians[w]! / 1000).toFixed(2)
      } s)`,
      target: isTarget ? `≥ ${SPEEDUP_TARGET}` : `info (ideal ${w / base})`,
      pass: isTarget ? ratio >= SPEEDUP_TARGET : null,
      how: isTarget || !withTarget ? how : `as above; max in flight at the mock ${maxConcurrent[w]}`,
      details: {
        workers: w,
        baselineWorkers: base,
        ratio: round(ratio, 3),
        medianMs: round(medians[w]!),
        baselineMedianMs: round(medians[base]!),
        latencyMs,
        batches,
        iterations,
        maxConcurrentAtMock: maxConcurrent[w],
        mockCallsLastPhase: calls[w],
      },
    };
  });
}
