/**
 * `ccpipe demo`: the whole pipeline over the bundled 100-message fixture into a fresh temporary data
 * dir, with no account or key, then a few example rows so a newcomer sees what they get.
 *
 * @module
 */
import { dataDirLayout } from "../../state/data_dir.ts";
import { startMocks } from "../../../mocks/mod.ts";
import { createGeminiClient } from "../../llm/gemini_client.ts";
import { runPipeline } from "../../pipeline/run_pipeline.ts";
import { openDuckDbSink } from "../../sinks/duckdb.ts";
import type { FlagSpecs, ParsedFlags } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { jsonFlag } from "../shared_args.ts";
import { type CommandContext, defaultPrepareThreads } from "../context.ts";
import { renderTable, truncate } from "../table.ts";
import { stage4From } from "../llm_args.ts";
import { printSummary } from "./run.ts";
import { count } from "../../format.ts";

/** Flags of `ccpipe demo`. */
export const demoFlags: FlagSpecs = {
  ...jsonFlag("Print the run summary as one JSON object"),
  keep: { type: "boolean", group: "output", help: "Keep the temporary data dir (its path is printed)" },
};

/** Path of the bundled fixture's projects tree. */
export function fixtureProjectsDir(): string {
  return new URL("../../../fixtures/claude_code_100/projects", import.meta.url).pathname;
}

function table(rows: Record<string, unknown>[], columns: string[], width = 60): string[] {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v);
    return truncate(s.replace(/\s+/g, " "), width);
  };
  return renderTable(
    columns.map((header) => ({ header })),
    rows.map((r) => columns.map((c) => cell(r[c]))),
    { indent: "  " },
  );
}

/** `ccpipe demo`. */
export const demoCommand: Command = defineCommand({
  name: "demo",
  description: `Runs every stage over fixtures/claude_code_100 (a small, realistic Claude Code projects tree)
into a temporary DuckDB file and shows example rows. Needs no account, key or network: Stage 4 talks to a
simulated Gemini (the project's mock, which fixes a fixed list of common typos).`,
  flags: demoFlags,
  run: ({ flags }, ctx) => demo(flags, ctx),
});

async function demo(flags: ParsedFlags, ctx: CommandContext): Promise<number> {
  const prepareThreads = ctx.prepareThreads ?? defaultPrepareThreads(ctx.env);
  const dataDir = await Deno.makeTempDir({ prefix: "ccpipe-demo-" });
  // Stage 4 goes to a simulated Gemini served in-process, so the demo needs no key and no network.
  using mocks = startMocks({
    gemini: { latency: { kind: "lognormal", medianMs: 40, sigma: 0.3, maxMs: 200 } },
  });
  const gemini = mocks.gemini;
  try {
    const dbPath = dataDirLayout(dataDir).database;
    const { runner: stage4 } = await stage4From(flags, {}, dataDir, ctx, {
      client: ({ model, timeoutMs }) => createGeminiClient({ apiKey: "simulated", model, timeoutMs }),
      label: "simulated",
    });
    const summary = await runPipeline({
      sources: [fixtureProjectsDir()],
      dataDir,
      fs: ctx.fs,
      prepareThreads,
      openSink: () => openDuckDbSink(dbPath),
      clock: ctx.clock,
      signal: ctx.signal,
      stage4,
    });
    printSummary(summary, flags, ctx);
    if (flags.json) return 0;
    ctx.output.out(
      `  note      Stage 4 corrections are SIMULATED by a local Gemini mock (${
        count(gemini.calls.length, "call")
      })`,
    );
    await using db = await openDuckDbSink(dbPath);
    const out = ctx.output.out;
    out("");
    const section = async (title: string, sql: string, columns: string[], width?: number) => {
      out(title);
      for (const line of table(await db.query(sql), columns, width)) out(line);
      out("");
    };
    await section(
      "Corrected prompts (messages where correction_status = 'corrected'):",
      `SELECT text, corrected_text FROM messages WHERE correction_status = 'corrected' ORDER BY timestamp LIMIT 6`,
      ["text", "corrected_text"],
      50,
    );
    await section(
      "Prompt outcomes:",
      `SELECT correction_status, COUNT(*) AS prompts FROM messages WHERE kind = 'human_prompt'
       GROUP BY correction_status ORDER BY prompts DESC`,
      ["correction_status", "prompts"],
    );
    await section(
      "Tokens by model (usage, one row per API response):",
      `SELECT model, COUNT(*) AS responses, SUM(input_tokens) AS input, SUM(output_tokens) AS output,
         SUM(cache_read_input_tokens) AS cache_read FROM usage GROUP BY model ORDER BY model`,
      ["model", "responses", "input", "output", "cache_read"],
    );
    await section(
      "Sessions:",
      `SELECT session_id, project, message_count, human_prompt_count, title FROM sessions ORDER BY first_timestamp`,
      ["session_id", "project", "message_count", "human_prompt_count", "title"],
      40,
    );
    out(
      flags.keep
        ? `Data kept in ${dataDir} (open ${dbPath} with duckdb).`
        : "The temporary data dir was removed; pass --keep to keep it.",
    );
    return 0;
  } finally {
    if (!flags.keep) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
