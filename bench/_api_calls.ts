/**
 * Case 3: Gemini calls made by Stage 4 against the naive baseline (every typed prompt sent, 15 per
 * call, no cache): `ceil(typed prompts / 15)`. Then a second run over the same input, in a fresh data
 * dir (so every line is read again) but with the same disk cache: it must make no call.
 *
 * @module
 */
import type { CaseResult } from "./_report.ts";
import { round } from "./_report.ts";
import type { ServedMocks } from "./_mock_server.ts";
import { runBenchPipeline } from "./_pipeline.ts";

/** Target: fewer calls than the naive baseline by at least this share. */
export const REDUCTION_TARGET = 0.30;

/**
 * Measures the calls on one corpus.
 *
 * @param mocks The served mocks (the Gemini mock is reconfigured here).
 * @param label Corpus label for the table.
 * @param projects The corpus's projects folder.
 * @param workDir A scratch folder (data dirs and cache go there).
 * @returns Two rows: the reduction and the second run's calls.
 */
export async function apiCallsCase(
  mocks: ServedMocks,
  label: string,
  projects: string,
  workDir: string,
): Promise<CaseResult[]> {
  await mocks.configureGemini({ latency: { kind: "fixed", ms: 0 } });
  const cacheDir = `${workDir}/cache`;
  const first = await runBenchPipeline({
    sources: [projects],
    dataDir: `${workDir}/run1`,
    cacheDir,
    endpoint: mocks.url,
    openSink: null,
  });
  const afterFirst = (await mocks.stats()).gemini.requests;
  const second = await runBenchPipeline({
    sources: [projects],
    dataDir: `${workDir}/run2`,
    cacheDir,
    endpoint: mocks.url,
    openSink: null,
  });
  const secondCalls = (await mocks.stats()).gemini.requests - afterFirst;
  const prompts = first.reconciliation.prompts;
  const typed = prompts.total;
  const naive = Math.ceil(typed / 15);
  const calls = first.stage4?.calls ?? 0;
  const reduction = naive === 0 ? 0 : 1 - calls / naive;
  const skipped = first.stage4?.details.skipped as Record<string, number> | undefined;
  return [{
    name: `3 API calls, ${label}`,
    measured: `${calls} vs ${naive} naive: −${(reduction * 100).toFixed(1)}%`,
    target: `≥ ${REDUCTION_TARGET * 100}% fewer`,
    // Stage 4 must really have run: a prompt skipped for want of a client would fake a reduction.
    pass: reduction >= REDUCTION_TARGET && prompts.balanced && !skipped?.no_llm,
    how: `${typed} typed prompts: ${prompts.sent} sent, ${prompts.dedupedInRun} in-run duplicates, ` +
      `${prompts.skipped} skipped by rule; naive = ceil(${typed}/15); mock calls ${afterFirst}`,
    details: {
      corpus: label,
      typedPrompts: typed,
      naiveCalls: naive,
      calls,
      mockCalls: afterFirst,
      reduction: round(reduction, 4),
      sent: prompts.sent,
      dedupedInRun: prompts.dedupedInRun,
      skipped,
      cacheHits: prompts.cacheHits,
      balanced: prompts.balanced,
    },
  }, {
    name: `3 second run, ${label}`,
    measured: `${secondCalls} calls, ${second.reconciliation.prompts.cacheHits} cache hits`,
    target: "0 calls",
    pass: secondCalls === 0 && (second.stage4?.calls ?? 0) === 0,
    how: "same input, fresh data dir (every line read again), same disk cache",
    details: {
      corpus: label,
      calls: secondCalls,
      cacheHits: second.reconciliation.prompts.cacheHits,
      typedPrompts: second.reconciliation.prompts.total,
    },
  }];
}
