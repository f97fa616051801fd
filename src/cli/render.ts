/**
 * Human-readable rendering of a run summary and of a manifest.
 *
 * @module
 */
import type { RunSummary } from "../pipeline/run_pipeline.ts";
import type { DryRunEstimate } from "../llm/accounting.ts";
import type { BigQueryPlan } from "../sinks/bigquery.ts";
import type { Manifest } from "../stages/inventory.ts";
import { count, formatMegabytes, formatNumber, formatTime } from "../format.ts";

const n = formatNumber;
const mb = formatMegabytes;

function mark(ok: boolean): string {
  return ok ? "ok" : "MISMATCH";
}

/** What a run summary is read against. */
export interface RunSummaryContext {
  /** When the previous run of the data dir finished (ISO 8601), for "nothing new since …". */
  previousRunAt?: string;
}

/** Renders the short summary `ccpipe run` prints. */
export function renderRunSummary(summary: RunSummary, context: RunSummaryContext = {}): string[] {
  const r = summary.reconciliation;
  const took = `  took      ${(summary.durationMs / 1000).toFixed(2)} s`;
  if (summary.status === "nothing_new") {
    const since = context.previousRunAt ? formatTime(Date.parse(context.previousRunAt)) : "the last run";
    return [
      `ccpipe run ${summary.runId}: nothing new since ${since}`,
      `  read      ${count(summary.files, "file")}, no new line; no table changed`,
      took,
    ];
  }
  const out = [
    `ccpipe run ${summary.runId}: ${summary.status.replaceAll("_", " ")}`,
    `  discover  ${count(summary.files, "file")}, ${
      mb(summary.bytesRead)
    } read, verdict ${summary.manifest.verdict}${
      summary.manifest.reasons.length ? ` (${summary.manifest.reasons.join("; ")})` : ""
    }`,
    `  extract   ${count(r.lines.read, "line")} = ${count(r.lines.records, "record")} + ${
      count(r.lines.rejects, "reject")
    } + ${n(r.lines.blank)} blank − ${n(r.lines.glued)} glued  [${mark(r.lines.balanced)}]`,
    r.records.ran
      ? `  clean     ${count(r.records.parsed, "record")} = ${n(r.records.unique)} unique + ${
        count(r.records.duplicates, "duplicate")
      } + ${n(r.records.withoutUuid)} without uuid + ${n(r.records.invalid)} invalid  [${
        mark(r.records.balanced)
      }]`
      : "  clean     not run (--until-stage stopped before Stage 2)",
    ...(r.records.ran ? [`            ${count(summary.usageResponses, "API response")} with usage`] : []),
    `  identify  ${count(summary.sessionsTouched, "session")}; kinds: ${
      Object.entries(summary.kinds).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(", ") ||
      "none"
    }`,
    `  correct   ${count(r.prompts.total, "prompt")} = ${n(r.prompts.sent)} sent + ${
      n(r.prompts.cacheHits)
    } cached + ${n(r.prompts.skipped)} skipped + ${n(r.prompts.dedupedInRun)} repeated + ${
      n(r.prompts.pending)
    } pending + ${n(r.prompts.cleanLocal)} clean by the spell check  [${mark(r.prompts.balanced)}]${
      r.prompts.carriedOver > 0 ? ` (${n(r.prompts.carriedOver)} carried over from an earlier run)` : ""
    }`,
  ];
  const estimate = summary.stage4?.details.dryRun as DryRunEstimate | null | undefined;
  if (estimate) {
    out.push(
      `  dry run   would send ${count(estimate.promptsSelected, "prompt")} in ${
        count(estimate.batches, "request")
      }: ~${n(estimate.estTokensIn)} tokens in, ~${n(estimate.estTokensOut)} out, ~$${
        estimate.estCostUsd.toFixed(4)
      }, ≥ ${estimate.estSeconds.toFixed(1)} s at the configured quota; ${
        estimate.fitsDailyQuota ? "fits" : "does NOT fit"
      } the per-day quota`,
    );
  } else if (summary.stage4) {
    const s = summary.stage4;
    out.push(
      `            ${count(s.calls, "Gemini call")}, ${n(s.tokensIn)} tokens in, ${n(s.tokensOut)} out, ~$${
        s.costUsd.toFixed(4)
      }${s.stopped ? `; stopped: ${s.stopped}` : ""}`,
    );
  }
  if (summary.tableCounts && summary.sink) {
    const loads = summary.loads.map((l) =>
      `${l.table} +${n(l.rowsAfter - l.rowsBefore)} (${n(l.rowsAfter)})`
    );
    out.push(`  load      ${summary.sink.name}: ${loads.join(", ")}`);
    out.push(`  data      ${summary.sink.location}`);
  } else if (summary.status === "dry_run") {
    out.push(
      `  load      nothing loaded (dry run): ${
        summary.staged.map((s) => `${s.table} ${count(s.rows, "row")}`).join(", ")
      }`,
    );
  } else if (summary.status === "staged") {
    out.push(
      `  staged    ${
        summary.staged.map((s) => `${s.table} ${count(s.rows, "row")}`).join(", ")
      } in ${summary.runDir}`,
    );
  }
  out.push(`  manifest  ${summary.manifest.path}`);
  out.push(took);
  return out;
}

/** Renders the manifest summary `ccpipe discover` prints. */
export function renderManifest(manifest: Manifest, path: string | null): string[] {
  const t = manifest.totals;
  const top = (map: Record<string, number>, k = 8) =>
    Object.entries(map).sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, c]) => `${name} ${n(c)}`).join(
      ", ",
    );
  return [
    `verdict: ${manifest.verdict}${manifest.reasons.length ? ` (${manifest.reasons.join("; ")})` : ""}`,
    `files: ${n(t.files)} (${mb(t.bytes)}), ${n(t.filesWithRejects)} with malformed lines`,
    `lines: ${n(t.lines)}: ${count(t.records, "record")}, ${count(t.rejects, "reject")}, ${
      n(t.blankLines)
    } blank`,
    `dates: ${t.firstTimestamp ?? "-"} … ${t.lastTimestamp ?? "-"}`,
    `record types: ${top(t.recordTypes, 20) || "none"}`,
    `content blocks: ${top(t.contentBlockTypes) || "none"}`,
    `tools: ${top(t.toolNames) || "none"}`,
    `fields: ${n(Object.keys(t.fields).length)} distinct key paths`,
    ...(path ? [`manifest: ${path}`] : []),
  ];
}

/** Renders what a BigQuery dry run would create, alter and load. */
export function renderBigQueryPlan(plan: BigQueryPlan): string[] {
  const out = [
    `bigquery dry run (${plan.location}): ${
      plan.inspected
        ? "read the dataset's current state"
        : `could not read the dataset (${plan.inspectError}); assuming nothing exists`
    }`,
  ];
  if (plan.createDataset) out.push("  would create the dataset");
  for (const t of plan.tables) {
    const changes = [
      t.action,
      t.add.length ? `add columns ${t.add.join(", ")}` : "",
      t.conflicts.length
        ? `CONFLICTS: ${t.conflicts.map((c) => `${c.column} is ${c.existing}, needs ${c.wanted}`).join("; ")}`
        : "",
    ].filter((x) => x !== "").join(", ");
    out.push(
      `  ${t.table.padEnd(9)} ${changes}; load ${count(t.rows, "row")} (${(t.bytes / 1024).toFixed(1)} KiB)`,
    );
  }
  out.push(`  jobs: ${n(plan.loadJobs)} load, ${n(plan.queryJobs)} query; nothing was started`);
  return out;
}
