/**
 * What `ccpipe schedule` writes and runs for each scheduler — systemd user timer, launchd agent or
 * crontab line — built as plain data, so `--print`, the tests and `install` see exactly the same thing.
 *
 * @module
 */

/** The schedulers ccpipe can write for. */
export const Schedulers = ["systemd", "launchd", "cron"] as const;
/** How often the scheduled run happens. */
export const Intervals = ["hourly", "daily"] as const;

/** A scheduler's name. */
export type Scheduler = typeof Schedulers[number];
/** How often. */
export type Interval = typeof Intervals[number];

/** What a schedule consists of: files to write and commands that activate or deactivate it. */
export interface SchedulePlan {
  scheduler: Scheduler;
  files: { path: string; content: string }[];
  activate: string[][];
  deactivate: string[][];
  /** A command that succeeds when the scheduler has the schedule enabled. */
  probe?: string[];
  /** For cron: the crontab line (tagged, so it can be found again). */
  cronLine?: string;
}

/** Marks the crontab line ccpipe owns. */
export const CRON_TAG = "# ccpipe schedule";

/** Picks the scheduler for this platform. */
export function detectScheduler(os: typeof Deno.build.os, hasSystemd: boolean): Scheduler {
  if (os === "darwin") return "launchd";
  if (os === "linux" && hasSystemd) return "systemd";
  return "cron";
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Builds the schedule for `scheduler`: pure, so `--print` and the tests see exactly what install does.
 *
 * @param options The scheduler, interval, the command's words, HOME, PATH and the log file.
 * @returns The plan.
 */
export function schedulePlan(options: {
  scheduler: Scheduler;
  every: Interval;
  argv: string[];
  home: string;
  path: string;
  log: string;
}): SchedulePlan {
  const { scheduler, every, argv, home, path, log } = options;
  const line = argv.map(shellQuote).join(" ");
  if (scheduler === "systemd") {
    const dir = `${home}/.config/systemd/user`;
    return {
      scheduler,
      files: [
        {
          path: `${dir}/ccpipe.service`,
          content: `[Unit]
Description=ccpipe: load new Claude Code transcripts

[Service]
Type=oneshot
Environment=${shellQuote(`PATH=${path}`)}
# Put GEMINI_API_KEY=... here for Stage 4 (mode 600).
EnvironmentFile=-%h/.config/ccpipe/env
ExecStart=${line}
`,
        },
        {
          path: `${dir}/ccpipe.timer`,
          content: `[Unit]
Description=Run ccpipe ${every}

[Timer]
OnCalendar=${every}
Persistent=true
RandomizedDelaySec=10min

[Install]
WantedBy=timers.target
`,
        },
      ],
      activate: [["systemctl", "--user", "daemon-reload"], [
        "systemctl",
        "--user",
        "enable",
        "--now",
        "ccpipe.timer",
      ]],
      deactivate: [["systemctl", "--user", "disable", "--now", "ccpipe.timer"]],
      probe: ["systemctl", "--user", "is-enabled", "ccpipe.timer"],
    };
  }
  if (scheduler === "launchd") {
    const plist = `${home}/Library/LaunchAgents/dev.ccpipe.run.plist`;
    return {
      scheduler,
      files: [{
        path: plist,
        content: `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>dev.ccpipe.run</string>
  <key>ProgramArguments</key>
  <array>
${argv.map((a) => `    <string>${xmlEscape(a)}</string>`).join("\n")}
  </array>
  <key>EnvironmentVariables</key>
  <dict><key>PATH</key><string>${xmlEscape(path)}</string></dict>
  <key>StartInterval</key><integer>${every === "hourly" ? 3600 : 86400}</integer>
  <key>RunAtLoad</key><true/>
  <key>StandardOutPath</key><string>${xmlEscape(log)}</string>
  <key>StandardErrorPath</key><string>${xmlEscape(log)}</string>
</dict>
</plist>
`,
      }],
      activate: [["launchctl", "load", "-w", plist]],
      deactivate: [["launchctl", "unload", "-w", plist]],
      probe: ["launchctl", "list", "dev.ccpipe.run"],
    };
  }
  const when = every === "hourly" ? "17 * * * *" : "17 3 * * *";
  return {
    scheduler,
    files: [],
    activate: [],
    deactivate: [],
    cronLine: `${when} PATH=${shellQuote(path)} ${line} >> ${shellQuote(log)} 2>&1 ${CRON_TAG}`,
  };
}
