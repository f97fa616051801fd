/**
 * The pipeline as the harness runs it: Stages 0–4 with the Gemini client pointed at the served mock,
 * a disk cache, and any sink.
 *
 * @module
 */
import { denoFileSystem } from "../src/io/file_system.ts";
import { parseCorrectionConfig, type Prefilter } from "../src/llm/config.ts";
import { createGeminiClient } from "../src/llm/gemini_client.ts";
import { runPipeline, type RunSummary } from "../src/pipeline/run_pipeline.ts";
import { createStage4 } from "../src/pipeline/stage4.ts";
import type { Sink } from "../src/sinks/sink.ts";
import { MODEL } from "./_stage4.ts";

/** Options of {@linkcode runBenchPipeline}. */
export interface BenchPipelineOptions {
  sources: string[];
  dataDir: string;
  /** Opens the sink, or null to stage only. */
  openSink: ((runId: string) => Promise<Sink>) | null;
  /** Gemini endpoint (the served mock); omit to run without Stage 4. */
  endpoint?: string;
  /** The correction cache's folder. @default `${dataDir}/cache/gemini` */
  cacheDir?: string;
  /** Last stage. @default 4 */
  untilStage?: number;
  /** Stage 4 workers. @default 5 */
  workers?: number;
  /** The local prefilter. @default {"spell"} */
  prefilter?: Prefilter;
  /** Worker threads preparing files. @default {0} */
  prepareThreads?: number;
}

/**
 * Runs the pipeline once.
 *
 * @param options Sources, data dir, sink, Gemini endpoint, cache dir, last stage, workers.
 * @returns The run's summary.
 */
export async function runBenchPipeline(options: BenchPipelineOptions): Promise<RunSummary> {
  const { endpoint, dataDir, untilStage = 4, workers = 5, prefilter = "spell" } = options;
  const config = parseCorrectionConfig({ model: MODEL, workers, rpm: 1e9, tpm: 1e12, prefilter });
  const stage4 = endpoint
    ? createStage4({
      client: createGeminiClient({ apiKey: "bench-key", model: MODEL, endpoint, timeoutMs: 30_000 }),
      cacheDir: options.cacheDir ?? `${dataDir}/cache/gemini`,
      config,
    })
    : null;
  return await runPipeline({
    sources: options.sources,
    dataDir,
    fs: denoFileSystem(),
    openSink: options.openSink,
    untilStage,
    stage4,
    prepareThreads: options.prepareThreads,
  });
}
