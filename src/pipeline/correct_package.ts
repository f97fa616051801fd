/**
 * The correct phase: Stage 4 over a staged package's prompts, merged back into its `messages` file.
 *
 * @module
 */
import type { MessageRow } from "../schema/mod.ts";
import type { StagedTable } from "../sinks/sink.ts";
import type { PromptToCorrect } from "../stages/correct.ts";
import type { Stage4Runner } from "./run_pipeline.ts";
import type { LoadPackage } from "./stage_package.ts";
import { NdjsonWriter, readNdjson } from "./staging.ts";

/** What the correct phase returns. */
export interface CorrectedPackage {
  /** The package, its `messages` file now carrying the corrections. */
  pkg: LoadPackage;
  /** Prompts still waiting (`pending` or `failed_*`), as `messages` rows, or null when Stage 4 had nothing to do. */
  pending: StagedTable | null;
}

/**
 * Runs Stage 4 over `pkg.prompts` and rewrites `pkg.tables.messages` with each prompt's outcome.
 *
 * @param pkg A package staged with `prompts: "stage4"`.
 * @param stage4 The Stage 4 runner.
 * @returns The updated package and the prompts still pending.
 * @throws {Error} When Stage 4 returns results out of prompt order (a bug, never input-driven).
 */
export async function correctPackage(pkg: LoadPackage, stage4: Stage4Runner): Promise<CorrectedPackage> {
  const prompts = pkg.prompts;
  if (prompts === null || prompts.rows === 0) return { pkg, pending: null };
  const messages = pkg.tables.messages;
  const results = stage4.correct(readNdjson<PromptToCorrect>(prompts.path))[Symbol.asyncIterator]();
  await using corrected = await NdjsonWriter.create(`${pkg.runDir}/messages.corrected.ndjson`);
  await using stillPending = await NdjsonWriter.create(`${pkg.runDir}/pending_prompts.ndjson`);
  // Merge-join by order: Stage 4 yields one result per prompt, in prompt order.
  for await (const row of readNdjson<MessageRow>(messages.path)) {
    if (row.kind === "human_prompt") {
      const next = await results.next();
      if (next.done || next.value.uuid !== row.uuid) {
        throw new Error(`Stage 4 returned results out of order at prompt ${row.uuid}`);
      }
      row.corrected_text = next.value.corrected_text;
      row.correction_status = next.value.correction_status;
      row.correction_model = next.value.correction_model;
      if (row.correction_status === "pending" || row.correction_status.startsWith("failed_")) {
        await stillPending.write(row);
      }
    }
    await corrected.write(row);
  }
  // Let Stage 4 finish (its accounting is completed when its generator ends).
  const end = await results.next();
  if (!end.done) throw new Error("Stage 4 returned more results than prompts");
  const pending = await stillPending.close("messages");
  const staged = await corrected.close("messages");
  await Deno.rename(staged.path, messages.path);
  await Deno.remove(prompts.path).catch(() => {});
  return {
    pkg: { ...pkg, tables: { ...pkg.tables, messages: { ...staged, path: messages.path } }, prompts: null },
    pending,
  };
}
