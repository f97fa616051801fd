/**
 * Case 3: Gemini calls made by Stage 4 against the naive baseline (every typed prompt sent, 15 per
 * call, no cache): `ceil(typed prompts / 15)`. The local spell prefilter keeps clean prompts from the
 * model, so the case also checks that prompts with a misspelling still reach it (recall against the
 * corpus's ground truth) and measures what the prefilter costs. Then a second run over the same input,
 * in a fresh data dir (so every line is read again) but with the same disk cache: it must make no call.
 *
 * @module
 */
import { redact } from "../src/llm/redact.ts";
import { loadCspellWords, SpellPrefilter, Vocabulary } from "../src/llm/spell_prefilter.ts";
import type { RunSummary } from "../src/pipeline/run_pipeline.ts";
import { readNdjson } from "../src/pipeline/staging.ts";
import type { MessageRow } from "../src/schema/mod.ts";
import type { CaseResult } from "./_report.ts";
import { round } from "./_report.ts";
import type { ServedMocks } from "./_mock_server.ts";
import { runBenchPipeline } from "./_pipeline.ts";

/** Target: fewer calls than the naive baseline by at least this share. */
export const REDUCTION_TARGET = 0.50;
/** Target: share of the prompts with a non-word misspelling that still reach the model. */
export const NON_WORD_RECALL_TARGET = 0.98;

/** Which typed prompts carry a misspelling, by uuid. */
export interface MisspellingTruth {
  nonWord: Set<string>;
  /** Prompts whose only error is a real word in the wrong place. */
  realWord: Set<string>;
}

/** Statuses of prompts that did not reach the model (nor its cached answer). */
function keptLocally(status: string | null): boolean {
  return status === "unchanged_local" || (status ?? "").startsWith("skipped_");
}

function recallOf(truth: Set<string>, statuses: Map<string, string | null>): { hit: number; of: number } {
  let hit = 0, of = 0;
  for (const uuid of truth) {
    if (!statuses.has(uuid)) continue;
    of++;
    if (!keptLocally(statuses.get(uuid)!)) hit++;
  }
  return { hit, of };
}

/** Times the prefilter alone over the run's typed prompts, in ms per 1,000 prompts. */
async function prefilterCost(rows: MessageRow[]): Promise<{ msPer1000: number }> {
  const vocabulary = new Vocabulary();
  for (const row of rows) vocabulary.learnFromMessage(row);
  const prompts = rows.filter((row) => row.kind === "human_prompt").map((row) => row.text ?? "");
  const prefilter = new SpellPrefilter(await loadCspellWords(), vocabulary);
  const started = performance.now();
  for (const text of prompts) prefilter.needsModel(redact(text).text);
  const ms = performance.now() - started;
  return { msPer1000: round((ms / Math.max(1, prompts.length)) * 1000, 1) };
}

/**
 * Measures the calls on one corpus.
 *
 * @param mocks The served mocks (the Gemini mock is reconfigured here).
 * @param label Corpus label for the table.
 * @param projects The corpus's projects folder.
 * @param workDir A scratch folder (data dirs and cache go there).
 * @param truth Which prompts carry a misspelling.
 * @returns Rows: the reduction, recall, the prefilter's cost, the calls without it, the second run's calls.
 */
export async function apiCallsCase(
  mocks: ServedMocks,
  label: string,
  projects: string,
  workDir: string,
  truth: MisspellingTruth,
): Promise<CaseResult[]> {
  await mocks.configureGemini({ latency: { kind: "fixed", ms: 0 } });
  const run = (dir: string, cacheDir: string, prefilter: "spell" | "none" = "spell") =>
    runBenchPipeline({
      sources: [projects],
      dataDir: `${workDir}/${dir}`,
      cacheDir: `${workDir}/${cacheDir}`,
      endpoint: mocks.url,
      openSink: null,
      prefilter,
    });
  const mockCalls = async () => (await mocks.stats()).gemini.requests;
  const before = await mockCalls();
  const baseline = await run("none", "cache-none", "none");
  const afterBaseline = await mockCalls();
  const first = await run("run1", "cache");
  const afterFirst = await mockCalls();
  const second = await run("run2", "cache");
  const secondCalls = (await mockCalls()) - afterFirst;

  const rows: MessageRow[] = [];
  for await (const row of readNdjson<MessageRow>(stagedMessages(first))) rows.push(row);
  const statuses = new Map(
    rows.filter((row) => row.kind === "human_prompt").map((row) => [row.uuid, row.correction_status]),
  );
  const nonWord = recallOf(truth.nonWord, statuses);
  const realWord = recallOf(truth.realWord, statuses);
  const nonWordRecall = nonWord.of === 0 ? 1 : nonWord.hit / nonWord.of;
  const realWordRecall = realWord.of === 0 ? null : realWord.hit / realWord.of;
  const cost = await prefilterCost(rows);
  const loadMs = first.stage4?.details.prefilterLoadMs as number;

  const prompts = first.reconciliation.prompts;
  const typed = prompts.total;
  const naive = Math.ceil(typed / 15);
  const calls = first.stage4?.calls ?? 0;
  const reduction = naive === 0 ? 0 : 1 - calls / naive;
  const baselineCalls = baseline.stage4?.calls ?? 0;
  const skipped = first.stage4?.details.skipped as Record<string, number> | undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [{
    name: `3 API calls, ${label}`,
    measured: `${calls} vs ${naive} naive: −${pct(reduction)}`,
    target: `≥ ${REDUCTION_TARGET * 100}% fewer`,
    // Stage 4 must really have run: a prompt skipped for want of a client would fake a reduction.
    pass: reduction >= REDUCTION_TARGET && prompts.balanced && !skipped?.no_llm,
    how: `${typed} typed prompts: ${prompts.sent} sent, ${prompts.cleanLocal} clean by the spell check, ` +
      `${prompts.dedupedInRun} in-run duplicates, ${prompts.skipped} skipped by rule; naive = ceil(${typed}/15); ` +
      `mock calls ${afterFirst - afterBaseline}`,
    details: {
      corpus: label,
      typedPrompts: typed,
      naiveCalls: naive,
      calls,
      mockCalls: afterFirst - afterBaseline,
      reduction: round(reduction, 4),
      sent: prompts.sent,
      cleanLocal: prompts.cleanLocal,
      dedupedInRun: prompts.dedupedInRun,
      skipped,
      cacheHits: prompts.cacheHits,
      balanced: prompts.balanced,
      vocabulary: first.stage4?.details.vocabulary,
    },
  }, {
    name: `3 calls without prefilter, ${label}`,
    measured: `${baselineCalls} calls (−${pct(naive === 0 ? 0 : 1 - baselineCalls / naive)})`,
    target: "info",
    pass: null,
    how: "same corpus with --prefilter none, fresh cache: in-run dedupe and skip rules only",
    details: { corpus: label, calls: baselineCalls, mockCalls: afterBaseline - before },
  }, {
    name: `3 non-word recall, ${label}`,
    measured: `${nonWord.hit}/${nonWord.of} = ${pct(nonWordRecall)}`,
    target: `≥ ${NON_WORD_RECALL_TARGET * 100}%`,
    pass: nonWord.of > 0 && nonWordRecall >= NON_WORD_RECALL_TARGET,
    how:
      "prompts with a non-word misspelling (ground truth) whose status is not unchanged_local or skipped_*",
    details: { corpus: label, hit: nonWord.hit, of: nonWord.of, recall: round(nonWordRecall, 4) },
  }, {
    name: `3 real-word recall, ${label}`,
    measured: realWordRecall === null
      ? "none in corpus"
      : `${realWord.hit}/${realWord.of} = ${pct(realWordRecall)}`,
    target: "info",
    pass: null,
    how: "prompts whose only error is a real word (sever, its) that still reach the model",
    details: { corpus: label, hit: realWord.hit, of: realWord.of },
  }, {
    name: `3 prefilter cost, ${label}`,
    measured: `${cost.msPer1000} ms per 1,000 prompts (+ ${loadMs} ms dictionary load)`,
    target: "info",
    pass: null,
    how:
      "SpellPrefilter.needsModel over the typed prompts, cold verdict cache, vocabulary learned; dictionary " +
      "load as timed by the run (cspell keeps loaded dictionaries for the process)",
    details: { corpus: label, msPer1000: cost.msPer1000, loadMsInRun: loadMs },
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

function stagedMessages(summary: RunSummary): string {
  const messages = summary.staged.find((table) => table.table === "messages");
  if (!messages) throw new Error("Cannot measure recall as the run staged no messages table");
  return messages.path;
}

/**
 * Reads the fixture's hand-written ground truth (`expected.json`'s `misspelled_prompts`).
 *
 * @param expectedJson Path of `expected.json`.
 * @returns The prompts with a non-word misspelling, and those with only a real-word error.
 */
export async function fixtureTruth(expectedJson: string): Promise<MisspellingTruth> {
  const expected = JSON.parse(await Deno.readTextFile(expectedJson)) as {
    misspelled_prompts: Record<string, { non_word: string[]; real_word: string[] }>;
  };
  const truth: MisspellingTruth = { nonWord: new Set(), realWord: new Set() };
  for (const [uuid, words] of Object.entries(expected.misspelled_prompts)) {
    if (words.non_word.length > 0) truth.nonWord.add(uuid);
    else if (words.real_word.length > 0) truth.realWord.add(uuid);
  }
  return truth;
}

/**
 * Reads a generated corpus's ground truth (`misspellings.ndjson`, see `fixtures/generate.ts`).
 *
 * @param path The file.
 * @returns The prompts with a non-word misspelling, and those with only a real-word error.
 */
export async function generatedTruth(path: string): Promise<MisspellingTruth> {
  const truth: MisspellingTruth = { nonWord: new Set(), realWord: new Set() };
  for await (const line of readNdjson<{ uuid: string; kind: string }>(path)) {
    (line.kind === "non_word" ? truth.nonWord : truth.realWord).add(line.uuid);
  }
  return truth;
}
