import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";
import { detectScheduler, schedulePlan } from "./schedule.ts";

async function schedule(args: string[]) {
  const output = recordingOutput();
  const env: Record<string, string> = { HOME: "/home/dana", PATH: "/home/dana/.deno/bin:/usr/bin" };
  const code = await main(["schedule", ...args], { output, env: (name) => env[name] });
  return { code, stdout: output.stdout.join("\n"), stderr: output.stderr.join("\n") };
}

Deno.test("detectScheduler() picks systemd on Linux with systemd, launchd on macOS, else cron", () => {
  assertEquals(detectScheduler("linux", true), "systemd");
  assertEquals(detectScheduler("linux", false), "cron");
  assertEquals(detectScheduler("darwin", false), "launchd");
  assertEquals(detectScheduler("freebsd", false), "cron");
});

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

Deno.test("schedulePlan() writes a tagged crontab line and a launchd agent", () => {
  const base = { every: "daily" as const, home: "/Users/dana", path: "/usr/bin", log: "/d/schedule.log" };
  const cron = schedulePlan({ ...base, scheduler: "cron", argv: ["/opt/cc pipe", "run"] });
  assertEquals(
    cron.cronLine,
    "17 3 * * * PATH=/usr/bin '/opt/cc pipe' run >> /d/schedule.log 2>&1 # ccpipe schedule",
  );
  const launchd = schedulePlan({ ...base, scheduler: "launchd", argv: ["/opt/ccpipe", "run"] });
  assertEquals(launchd.files[0].path, "/Users/dana/Library/LaunchAgents/dev.ccpipe.run.plist");
  assert(launchd.files[0].content.includes("<string>/opt/ccpipe</string>\n    <string>run</string>"));
  assert(launchd.files[0].content.includes("<key>StartInterval</key><integer>86400</integer>"));
  assertEquals(launchd.activate, [["launchctl", "load", "-w", launchd.files[0].path]]);
});

Deno.test("schedule refuses an unknown action with a suggestion", async () => {
  const result = await schedule(["instal"]);
  assertEquals(result.code, 2);
  assertEquals(
    result.stderr,
    "ccpipe: Unknown schedule action 'instal': did you mean 'install'? (expected install, status or remove)",
  );
});
