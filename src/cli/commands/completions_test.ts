import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

async function script(shell: string): Promise<string> {
  const output = recordingOutput();
  assertEquals(await main(["completions", shell], { output, env: () => undefined }), 0);
  return output.stdout.join("\n");
}

/** Asks bash's real completion machinery what `words` complete to. */
async function bashComplete(words: string[]): Promise<string[]> {
  const source = await script("bash");
  const program = `${source}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ccpipe; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await new Deno.Command("bash", { args: ["-c", program], stdout: "piped", stderr: "piped" })
    .output();
  assert(result.success, new TextDecoder().decode(result.stderr));
  return new TextDecoder().decode(result.stdout).split("\n").filter((l) => l !== "");
}

Deno.test("completions bash completes commands, each command's own flags and flag values", async () => {
  assertEquals(await bashComplete(["ccpipe", "di"]), ["discover"]);
  assertEquals(await bashComplete(["ccpipe", "run", "--so"]), ["--source"]);
  assertEquals(await bashComplete(["ccpipe", "run", "--sink", ""]), ["duckdb", "bigquery", "none"]);
  assertEquals(await bashComplete(["ccpipe", "doctor", "--ba"]), [], "doctor has no --batch-size");
  assertEquals(await bashComplete(["ccpipe", "cache", "pr"]), ["prune"]);
  assertEquals(await bashComplete(["ccpipe", "completions", "f"]), ["fish"]);
});

Deno.test("completions zsh and fish list every command and flag from the registry", async () => {
  const zsh = await script("zsh");
  assert(zsh.startsWith("#compdef ccpipe"));
  assert(zsh.includes("'schedule:Run ccpipe regularly (systemd timer, launchd agent or cron)'"), zsh);
  assert(zsh.includes("'*--source[Claude Code projects dir to read]:dir:_files -/'"), zsh);
  assert(zsh.includes("--sink[Where the tables go]:sink:(duckdb bigquery none)'"), zsh);
  const fish = await script("fish");
  assert(fish.includes("complete -c ccpipe -n __fish_use_subcommand -a doctor -d"), fish);
  assert(
    fish.includes(
      "complete -c ccpipe -n '__fish_seen_subcommand_from run' -l sink -x -a 'duckdb bigquery none'",
    ),
    fish,
  );
  assert(fish.includes("-l help -s h -d 'Show this help'"), fish);
});

Deno.test("completions refuses an unknown shell with a suggestion", async () => {
  const output = recordingOutput();
  assertEquals(await main(["completions", "zhs"], { output, env: () => undefined }), 2);
  assertEquals(output.stderr, [
    "ccpipe: Unknown shell 'zhs': did you mean 'zsh'? (expected bash, zsh or fish)",
  ]);
});
