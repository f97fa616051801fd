/**
 * `deno task mutation [module...]`: mutation testing of the modules that decide what lands in the tables.
 * Each module is mutated by StrykerJS (run through npx, so no node_modules in the repository) and
 * judged by its own tests only, one module at a time, then the scores are printed as one table.
 *
 * @module
 */

/** Each module and the tests that guard it (its `_test.ts`, plus the closest ones for shared helpers). */
const MODULES: Record<string, string[]> = {
  "src/stages/_identity.ts": ["src/stages/_identity_test.ts"],
  "src/stages/classify.ts": ["src/stages/classify_test.ts"],
  "src/stages/clean.ts": ["src/stages/clean_test.ts"],
  "src/stages/discover.ts": ["src/stages/discover_test.ts"],
  "src/stages/extract.ts": ["src/stages/extract_test.ts"],
  "src/stages/identify.ts": ["src/stages/identify_test.ts"],
  "src/stages/inventory.ts": ["src/stages/inventory_test.ts"],
  "src/stages/normalize_text.ts": ["src/stages/normalize_text_test.ts"],
  "src/stages/usage.ts": ["src/stages/usage_test.ts"],
  "src/state/fingerprint_set.ts": ["src/state/fingerprint_set_test.ts"],
  "src/state/pending_queue.ts": ["src/state/pending_queue_test.ts"],
  "src/state/state_store.ts": ["src/state/state_store_test.ts"],
  "src/state/watermarks.ts": ["src/state/watermarks_test.ts"],
  "src/pipeline/reconcile.ts": ["src/pipeline/reconcile_test.ts"],
  "src/llm/guards.ts": ["src/llm/guards_test.ts"],
  "src/llm/disk_cache.ts": ["src/llm/disk_cache_test.ts"],
  "src/sinks/_merge_sql.ts": ["src/sinks/bigquery_sql_test.ts", "src/sinks/duckdb_test.ts"],
  // Stage 4 is slow to mutate (its tests drive the mocked Gemini service): opt in by naming it.
  "src/stages/correct.ts": ["src/stages/correct_test.ts", "src/pipeline/stage4_pipeline_test.ts"],
};
const OPT_IN = new Set(["src/stages/correct.ts"]);

const STRYKER = "@stryker-mutator/core@9.6.1";

interface Tally {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  errors: number;
}

async function runModule(module: string, tests: string[]): Promise<Tally> {
  const missing: string[] = [];
  for (const test of tests) await Deno.stat(test).catch(() => missing.push(test));
  if (missing.length) {
    throw new Error(`Cannot mutate ${module} as its tests are missing: ${missing.join(", ")}`);
  }
  const { code } = await new Deno.Command("npx", {
    args: ["-y", "-p", STRYKER, "stryker", "run", "mutation/stryker.config.mjs"],
    env: { MUTATE: module, MUTATION_TESTS: tests.join(" ") },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`Stryker failed on ${module}: exit code ${code}`);
  const name = module.replace(/^src\//, "").replace(/\.ts$/, "").replaceAll("/", "_");
  const report = JSON.parse(await Deno.readTextFile(`mutation/reports/${name}.json`));
  const tally: Tally = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0 };
  for (const file of Object.values(report.files) as { mutants: { status: string }[] }[]) {
    for (const { status } of file.mutants) {
      if (status === "Killed") tally.killed++;
      else if (status === "Survived") tally.survived++;
      else if (status === "NoCoverage") tally.noCoverage++;
      else if (status === "Timeout") tally.timeout++;
      else tally.errors++;
    }
  }
  return tally;
}

// Stryker's score: detected (killed + timed out) over valid mutants (errors excluded).
function score(t: Tally): number {
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  return valid === 0 ? 100 : (100 * (t.killed + t.timeout)) / valid;
}

const chosen = Deno.args.length ? Deno.args : Object.keys(MODULES).filter((m) => !OPT_IN.has(m));
for (const module of chosen) {
  if (!MODULES[module]) {
    console.error(`Unknown module: ${module} (known: ${Object.keys(MODULES).join(", ")})`);
    Deno.exit(2);
  }
}
const results: [string, Tally][] = [];
const failed: string[] = [];
for (const module of chosen) {
  try {
    results.push([module, await runModule(module, MODULES[module])]);
  } catch (error) {
    // One module's failure (its tests fail unmutated, say) must not lose the others' scores.
    console.error((error as Error).message);
    failed.push(module);
  }
}
const total: Tally = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0 };
console.log("\n| module | mutants | killed | timeout | survived | no coverage | score |");
console.log("|---|---|---|---|---|---|---|");
for (const [module, t] of results) {
  for (const key of Object.keys(total) as (keyof Tally)[]) total[key] += t[key];
  const n = t.killed + t.timeout + t.survived + t.noCoverage;
  console.log(
    `| ${module} | ${n} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${
      score(t).toFixed(1)
    }% |`,
  );
}
const n = total.killed + total.timeout + total.survived + total.noCoverage;
console.log(
  `| all | ${n} | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCoverage} | ${
    score(total).toFixed(1)
  }% |`,
);
if (failed.length) {
  console.error(`Not measured: ${failed.join(", ")}`);
  Deno.exit(1);
}
