// StrykerJS configuration for one module at a time: `deno task mutation` (mutation/run.ts) sets
// MUTATE (the module) and MUTATION_TESTS (its own test files) and runs Stryker once per module.
const mutate = process.env.MUTATE;
const tests = process.env.MUTATION_TESTS;
if (!mutate || !tests) {
  throw new Error("Run this through `deno task mutation`: MUTATE and MUTATION_TESTS are unset");
}
const name = mutate.replace(/^src\//, "").replace(/\.ts$/, "").replaceAll("/", "_");

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "command",
  commandRunner: { command: `deno test --allow-all --quiet ${tests}` },
  mutate: [mutate],
  // The Deno project has no node_modules and no package.json: copy only what the tests read.
  ignorePatterns: ["/*", "!/src", "!/fixtures", "!/tests", "!/mocks", "!/deno.json", "!/deno.lock"],
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  tempDirName: "mutation/.stryker-tmp",
  cleanTempDir: true,
  reporters: ["clear-text", "json"],
  jsonReporter: { fileName: `mutation/reports/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Added to the measured test time: a mutant that loops forever costs this long, so keep it short.
  timeoutMS: 5000,
  disableTypeChecks: true,
  plugins: ["@stryker-mutator/*"],
};
