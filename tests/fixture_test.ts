// The whole pipeline over fixtures/claude_code_100 against the ground truth written by hand in
// expected.json: every number in that file is checked here.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { denoFileSystem } from "../src/io/file_system.ts";
import { runPipeline } from "../src/pipeline/run_pipeline.ts";
import { DuckDbSink, openDuckDbSink } from "../src/sinks/duckdb.ts";

const fixture = new URL("../fixtures/claude_code_100/", import.meta.url).pathname;
const expected = JSON.parse(await Deno.readTextFile(`${fixture}expected.json`));

interface TokenTotals {
  responses?: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd?: number;
}

Deno.test("the pipeline over claude_code_100 matches expected.json", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "ccpipe-fixture-" });
  try {
    const dbPath = `${dataDir}/ccpipe.duckdb`;
    const summary = await runPipeline({
      sources: [`${fixture}projects`],
      dataDir,
      fs: denoFileSystem(),
      openSink: () => openDuckDbSink(dbPath),
    });
    const r = summary.reconciliation;
    const manifest = JSON.parse(await Deno.readTextFile(summary.manifest.path));
    await using db = await DuckDbSink.open({ path: dbPath });
    const one = async (sql: string) => Number(Object.values((await db.query(sql))[0])[0]);

    await t.step("Stage 0–1 counts", () => {
      assertEquals(summary.files, expected.files);
      assertEquals(r.lines.read, expected.lines_read);
      assertEquals(r.lines.blank, expected.blank_lines);
      assertEquals(r.lines.records, expected.records_parsed);
      assertEquals(r.lines.rejects, expected.rejects);
      assertEquals(r.lines.glued, expected.glued_recoveries);
      assertEquals(r.lines.balanced, true);
      const byType = manifest.totals.recordTypes as Record<string, number>;
      for (const [type, count] of Object.entries(expected.records_by_type)) {
        assertEquals(byType[type] ?? 0, count, type);
      }
      assertEquals((byType.user ?? 0) + (byType.assistant ?? 0), expected.message_records);
    });

    await t.step("Stage 2 dedupe and kinds", async () => {
      assertEquals(r.records.unique + r.records.duplicates + r.records.invalid, expected.uuid_records);
      assertEquals(r.records.unique, expected.unique_records);
      assertEquals(r.records.duplicates, expected.duplicates);
      assertEquals(r.records.balanced, true);
      for (const [kind, count] of Object.entries(expected.kinds)) {
        assertEquals(await one(`SELECT COUNT(*) FROM messages WHERE kind = '${kind}'`), count, kind);
      }
      assertEquals(await one("SELECT COUNT(*) FROM messages"), expected.unique_records);
      assertEquals(await one("SELECT COUNT(*) FROM rejects"), expected.rejects);
    });

    await t.step("typed prompts", async () => {
      const prompts = await db.query("SELECT text FROM messages WHERE kind = 'human_prompt'");
      assertEquals(prompts.length, expected.typed_prompts);
      assertEquals(r.prompts.total, expected.typed_prompts);
      // Stage 2 stores prompts normalised: "yes " and "commit this\r\n" equal their twins.
      assertEquals(
        await one("SELECT COUNT(DISTINCT text) FROM messages WHERE kind = 'human_prompt'"),
        expected.distinct_prompt_texts,
      );
      assertEquals(
        await one("SELECT COUNT(*) FROM messages WHERE kind = 'slash_command'"),
        expected.slash_commands,
      );
    });

    await t.step("usage: one row per API response", async () => {
      assertEquals(await one("SELECT COUNT(*) FROM usage"), expected.usage.responses);
      const rows = await db.query(
        `SELECT model, COUNT(*) AS responses, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
           SUM(cache_creation_input_tokens) AS cache_creation_input_tokens,
           SUM(cache_read_input_tokens) AS cache_read_input_tokens, ROUND(SUM(c.cost_usd), 10) AS cost_usd
         FROM usage LEFT JOIN usage_costs c USING (usage_key) GROUP BY model ORDER BY model`,
      );
      const got: Record<string, TokenTotals> = {};
      for (const row of rows) {
        got[String(row.model)] = {
          responses: Number(row.responses),
          input_tokens: Number(row.input_tokens),
          output_tokens: Number(row.output_tokens),
          cache_creation_input_tokens: Number(row.cache_creation_input_tokens),
          cache_read_input_tokens: Number(row.cache_read_input_tokens),
          cost_usd: Number(row.cost_usd),
        };
      }
      assertEquals(got, expected.usage.by_model);
      // The naive per-line sum (no dedupe) is larger: the per-response count is the right one.
      const naive = expected.naive_usage_by_model as Record<string, TokenTotals>;
      const naiveOut = Object.values(naive).reduce((a, m) => a + m.output_tokens, 0);
      const ours = Object.values(got).reduce((a, m) => a + m.output_tokens, 0);
      if (!(naiveOut > ours)) throw new Error(`naive ${naiveOut} should exceed deduped ${ours}`);
    });

    await t.step("turns: a new one at each typed prompt only", async () => {
      const rows = await db.query(
        "SELECT source_file, source_line, turn FROM messages ORDER BY source_file, source_line",
      );
      const got: Record<string, string[]> = {};
      for (const row of rows) {
        const file = String(row.source_file).split("/").at(-1)!.replace(/\.jsonl$/, "");
        (got[file] ??= []).push(`${row.source_line}:${row.turn ?? "-"}`);
      }
      assertEquals(
        Object.fromEntries(Object.entries(got).map(([f, turns]) => [f, turns.join(" ")])),
        expected.turns_by_file,
      );
    });

    await t.step("usage event dates in UTC and in another time zone", async () => {
      const byDate = async (sink: DuckDbSink) =>
        Object.fromEntries(
          (await sink.query(
            "SELECT event_date::VARCHAR AS d, COUNT(*) AS n FROM usage GROUP BY 1 ORDER BY 1",
          ))
            .map((row) => [row.d, Number(row.n)]),
        );
      assertEquals(await byDate(db), expected.usage_responses_by_date.UTC);
      const zoned = await Deno.makeTempDir({ prefix: "ccpipe-fixture-zone-" });
      try {
        await runPipeline({
          sources: [`${fixture}projects`],
          dataDir: zoned,
          fs: denoFileSystem(),
          openSink: () => openDuckDbSink(`${zoned}/ccpipe.duckdb`),
          timeZone: "Pacific/Auckland",
        });
        await using auckland = await DuckDbSink.open({ path: `${zoned}/ccpipe.duckdb` });
        assertEquals(await byDate(auckland), expected.usage_responses_by_date["Pacific/Auckland"]);
      } finally {
        await Deno.remove(zoned, { recursive: true }).catch(() => {});
      }
    });

    await t.step("sessions and projects", async () => {
      assertEquals(await one("SELECT COUNT(*) FROM sessions"), expected.sessions);
      assertEquals(await one("SELECT COUNT(DISTINCT project) FROM messages"), expected.projects);
    });

    await t.step("a second run adds no row to any table", async () => {
      const before = await db.counts();
      db.close();
      await runPipeline({
        sources: [`${fixture}projects`],
        dataDir,
        fs: denoFileSystem(),
        openSink: () => openDuckDbSink(dbPath),
      });
      await using again = await DuckDbSink.open({ path: dbPath });
      const after = await again.counts();
      assertEquals(after, before);
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
