// Builds the single binary with the same flags as `deno task compile` and runs it on the fixture.
// `deno compile` needs Deno's runtime stub (denort): it downloads it on first use, or takes DENORT_BIN.
// Where neither works (no network, no stub), the test is skipped and says why in the output.
import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import denoConfig from "../deno.json" with { type: "json" };

const root = new URL("..", import.meta.url).pathname;
// The build goes where `deno task compile` puts it, the one path the test task may run besides `deno`.
const binary = `${root}dist/ccpipe`;
const outDir = await Deno.makeTempDir({ prefix: "ccpipe-compile-" });

async function build(): Promise<string | null> {
  const args = denoConfig.tasks.compile.split(/\s+/).slice(1);
  const result = await new Deno.Command("deno", { args, cwd: root, stdout: "piped", stderr: "piped" })
    .output();
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr);
    const reason = /dns error|failed to lookup|error sending request|download/i.test(stderr)
      ? "the runtime stub (denort) cannot be downloaded from this machine; set DENORT_BIN to a local denort 2.9.6"
      : stderr.split("\n").find((l) => l.trim() !== "") ?? "deno compile failed";
    return reason;
  }
  const version = await new Deno.Command(binary, { args: ["--version"], stdout: "piped", stderr: "null" })
    .output();
  const printed = new TextDecoder().decode(version.stdout).trim();
  if (!printed.startsWith("ccpipe ")) {
    return `DENORT_BIN does not point at a denort runtime stub (the built file printed '${
      printed.split("\n")[0]
    }')`;
  }
  return null;
}

const skipReason = await build();
if (skipReason) {
  console.log(`compiled binary test SKIPPED: ${skipReason}`);
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
}

Deno.test({
  name: "compiled ccpipe runs the fixture and reconciles every line",
  ignore: skipReason !== null,
  async fn() {
    try {
      const dataDir = `${outDir}/data`;
      const run = await new Deno.Command(binary, {
        args: [
          "run",
          "--source",
          `${root}fixtures/claude_code_100/projects`,
          "--data-dir",
          dataDir,
          "--json",
        ],
        stdout: "piped",
        stderr: "piped",
        env: { GEMINI_API_KEY: "", GOOGLE_API_KEY: "" },
      }).output();
      assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
      const summary = JSON.parse(new TextDecoder().decode(run.stdout));
      assertEquals(summary.reconciliation.lines.balanced, true);
      assertEquals(summary.reconciliation.records.balanced, true);
      const demo = await new Deno.Command(binary, { args: ["demo"], stdout: "piped", stderr: "piped" })
        .output();
      assertEquals(demo.code, 0, new TextDecoder().decode(demo.stderr));
      assertMatch(new TextDecoder().decode(demo.stdout), /Typed prompts/);
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});
