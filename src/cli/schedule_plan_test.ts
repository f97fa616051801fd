import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { detectScheduler, schedulePlan } from "./schedule_plan.ts";

Deno.test("detectScheduler() picks systemd on Linux with systemd, launchd on macOS, else cron", () => {
  assertEquals(detectScheduler("linux", true), "systemd");
  assertEquals(detectScheduler("linux", false), "cron");
  assertEquals(detectScheduler("darwin", false), "launchd");
  assertEquals(detectScheduler("freebsd", false), "cron");
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
