import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";

async function schedule(args: string[]) {
  const output = recordingOutput();
  const env: Record<string, string> = { HOME: "/home/dana", PATH: "/home/dana/.deno/bin:/usr/bin" };
  const code = await main(["schedule", ...args], { output, env: (name) => env[name] });
  return { code, stdout: output.stdout.join("\n"), stderr: output.stderr.join("\n") };
}

Deno.test("schedule install --print shows the systemd units and the commands, changing nothing", async () => {
  const result = await schedule([
    "install",
    "--print",
    "--via",
    "systemd",
    "--command",
    "/opt/ccpipe",
    "--source",
    "/backup/projects",
    "--data-dir",
    "/data/cc",
    "--every",
    "hourly",
  ]);
  assertEquals(result.code, 0, result.stderr);
  assert(result.stdout.includes("# /home/dana/.config/systemd/user/ccpipe.service\n[Unit]"), result.stdout);
  assert(
    result.stdout.includes("ExecStart=/opt/ccpipe run --source /backup/projects --data-dir /data/cc\n"),
    result.stdout,
  );
  assert(result.stdout.includes("Environment=PATH=/home/dana/.deno/bin:/usr/bin\n"), result.stdout);
  assert(result.stdout.includes("OnCalendar=hourly\nPersistent=true"), result.stdout);
  assert(
    result.stdout.endsWith("$ systemctl --user daemon-reload\n$ systemctl --user enable --now ccpipe.timer"),
  );
});

Deno.test("schedule refuses an unknown action with a suggestion", async () => {
  const result = await schedule(["instal"]);
  assertEquals(result.code, 2);
  assertEquals(
    result.stderr,
    "ccpipe: Unknown schedule action 'instal': did you mean 'install'? (expected install, status or remove)",
  );
});
