/**
 * `ccpipe schedule install|status|remove`: runs `ccpipe run` regularly, so history is loaded before
 * Claude Code deletes it — a systemd user timer on Linux, a launchd agent on macOS, a crontab line
 * elsewhere (or with `--via cron`); `--print` shows what would be written and run, changing nothing.
 *
 * @module
 */
import { dataDirLayout } from "../../state/data_dir.ts";
import { ConfigError, UsageError } from "../../errors.ts";
import { type FlagSpecs, unknownChoice } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { jsonLine } from "../json_output.ts";
import { readLastRun } from "../last_run.ts";
import { formatTime } from "../../format.ts";
import { dataDirFlags, jsonFlag, resolveDataDir } from "../shared_args.ts";
import {
  CRON_TAG,
  detectScheduler,
  type Interval,
  Intervals,
  type SchedulePlan,
  schedulePlan,
  type Scheduler,
  Schedulers,
} from "../schedule_plan.ts";

/** The actions of `ccpipe schedule`. */
export const ScheduleActions = ["install", "status", "remove"] as const;
/** Flags of `ccpipe schedule`. */
export const scheduleFlags: FlagSpecs = {
  source: {
    type: "string",
    multiple: true,
    value: "DIR",
    group: "input",
    help: "Projects dir the scheduled run reads (default: the run's own defaults)",
  },
  ...dataDirFlags,
  every: {
    type: "string",
    value: "WHEN",
    choices: Intervals,
    group: "general",
    help: "How often to run: hourly or daily (default daily)",
  },
  via: {
    type: "string",
    value: "NAME",
    choices: Schedulers,
    group: "general",
    help:
      "The scheduler: systemd, launchd or cron (default: systemd on Linux when it runs, launchd on macOS, else cron)",
  },
  command: {
    type: "string",
    value: "PATH",
    group: "general",
    help: "The ccpipe executable to schedule (default: this binary, else ccpipe on PATH)",
  },
  print: { type: "boolean", group: "output", help: "Print the files and commands instead of installing" },
  ...jsonFlag(),
};

function home(ctx: CommandContext): string {
  const dir = ctx.env("HOME");
  if (!dir) throw new ConfigError("Cannot place the schedule as HOME is not set");
  return dir;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The ccpipe executable to schedule when `--command` is not given: this compiled binary, else `ccpipe`
 * on PATH.
 *
 * @throws {ConfigError} When none is found.
 */
export function ccpipeExecutable(ctx: CommandContext): string {
  const self = Deno.execPath();
  if (!/(^|\/)deno(\.exe)?$/.test(self)) return self; // a compiled ccpipe
  for (const dir of (ctx.env("PATH") ?? "").split(":").filter((d) => d !== "")) {
    if (isFile(`${dir}/ccpipe`)) return `${dir}/ccpipe`;
  }
  throw new ConfigError(
    "Cannot find ccpipe on PATH: install it first (README, 'Install'), or pass --command PATH",
  );
}

async function exec(
  argv: string[],
  input?: string,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
    }
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return { ok: out.success, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } catch (error) {
    // The tasks allow only /usr/bin/systemctl, /bin/systemctl, /bin/launchctl and /usr/bin/crontab.
    const message = error instanceof Deno.errors.NotFound
      ? `${argv[0]} is not installed here (--via picks another scheduler, --print shows the steps)`
      : error instanceof Deno.errors.NotCapable
      ? `ccpipe may only start /usr/bin/systemctl, /bin/launchctl or /usr/bin/crontab; run it yourself ('ccpipe schedule install --print' lists the steps)`
      : (error as Error).message;
    return { ok: false, stdout: "", stderr: message };
  }
}

async function run(argv: string[], input?: string): Promise<string> {
  const result = await exec(argv, input);
  if (!result.ok) {
    throw new ConfigError(`'${argv.join(" ")}' failed: ${result.stderr.split("\n")[0] || "no message"}`);
  }
  return result.stdout;
}

async function crontabWithout(): Promise<string[]> {
  const current = await exec(["crontab", "-l"]);
  // `crontab -l` fails when the user has no crontab yet: that is an empty one.
  return (current.ok ? current.stdout.split("\n") : []).filter((l) => l !== "" && !l.endsWith(CRON_TAG));
}

/** `ccpipe schedule`. */
export const scheduleCommand: Command = defineCommand({
  name: "schedule",
  operands: "<install|status|remove>",
  actions: ScheduleActions,
  positionals: 1,
  description:
    `Runs 'ccpipe run' regularly so your history is loaded before Claude Code deletes old transcripts
(cleanupPeriodDays, 30 days by default): a systemd user timer on Linux, a launchd agent on macOS, else a
crontab line. --print shows the files and commands without changing anything.

Scheduled runs do not see your shell's environment: for Stage 4, put GEMINI_API_KEY=... in
~/.config/ccpipe/env (systemd), or prompts wait for a run that has a key.`,
  flags: scheduleFlags,
  async run({ flags, positionals }, ctx) {
    const action = positionals[0];
    if (action === undefined) throw new UsageError("schedule needs an action: install, status or remove");
    if (!(ScheduleActions as readonly string[]).includes(action)) {
      throw unknownChoice("schedule action", action, ScheduleActions);
    }
    const scheduler = (flags.via as Scheduler | undefined) ??
      detectScheduler(Deno.build.os, isDirectory("/run/systemd/system"));
    const dataDir = resolveDataDir(flags, ctx);
    // Only install needs the executable; status and remove find the schedule by its file names or tag.
    const executable = (flags.command as string | undefined)?.split(/\s+/).filter((w) => w !== "") ??
      [action === "install" ? ccpipeExecutable(ctx) : "ccpipe"];
    const argv = [
      ...executable,
      "run",
      ...((flags.source as string[] | undefined) ?? []).flatMap((s) => ["--source", s]),
      "--data-dir",
      dataDir,
    ];
    if (Deno.build.os === "windows" && flags.via === undefined) {
      throw new ConfigError(
        `On Windows, schedule it with Task Scheduler: schtasks /Create /SC ${
          flags.every === "hourly" ? "HOURLY" : "DAILY"
        } /TN ccpipe /TR "${argv.join(" ")}"`,
      );
    }
    const plan = schedulePlan({
      scheduler,
      every: (flags.every as Interval | undefined) ?? "daily",
      argv,
      home: home(ctx),
      path: ctx.env("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
      log: dataDirLayout(dataDir).scheduleLog,
    });
    if (action === "install") return await install(plan, flags.print === true, ctx);
    if (action === "remove") return await remove(plan, flags.print === true, ctx);
    return await status(plan, dataDir, flags.json === true, ctx);
  },
});

async function install(plan: SchedulePlan, print: boolean, ctx: CommandContext): Promise<number> {
  const out = ctx.output.out;
  if (print) {
    for (const f of plan.files) out(`# ${f.path}\n${f.content}`);
    for (const c of plan.activate) out(`$ ${c.join(" ")}`);
    if (plan.cronLine) out(`# crontab line (crontab -e):\n${plan.cronLine}`);
    return 0;
  }
  for (const f of plan.files) {
    await Deno.mkdir(f.path.slice(0, f.path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(f.path, f.content);
    out(`wrote ${f.path}`);
  }
  try {
    for (const c of plan.activate) await run(c);
  } catch (error) {
    throw new ConfigError(
      `${
        (error as Error).message
      }; the files are written: run 'ccpipe schedule install' again from your login session, or pass --via cron`,
      { cause: error },
    );
  }
  if (plan.cronLine) {
    await run(["crontab", "-"], [...await crontabWithout(), plan.cronLine].join("\n") + "\n");
    out(`added to your crontab: ${plan.cronLine}`);
  }
  out(`ccpipe is scheduled (${plan.scheduler}); 'ccpipe schedule status' shows it`);
  return 0;
}

async function remove(plan: SchedulePlan, print: boolean, ctx: CommandContext): Promise<number> {
  const out = ctx.output.out;
  if (print) {
    for (const c of plan.deactivate) out(`$ ${c.join(" ")}`);
    for (const f of plan.files) out(`$ rm ${f.path}`);
    if (plan.cronLine) out(`# remove the crontab line ending in '${CRON_TAG}' (crontab -e)`);
    return 0;
  }
  if (plan.files.some((f) => isFile(f.path))) { for (const c of plan.deactivate) await exec(c); }
  for (const f of plan.files) {
    if (!isFile(f.path)) continue;
    await Deno.remove(f.path);
    out(`removed ${f.path}`);
  }
  if (plan.scheduler === "systemd") await exec(["systemctl", "--user", "daemon-reload"]);
  if (plan.cronLine) {
    await run(["crontab", "-"], (await crontabWithout()).join("\n") + "\n");
    out("removed ccpipe's line from your crontab");
  }
  out(`ccpipe is no longer scheduled (${plan.scheduler})`);
  return 0;
}

async function status(
  plan: SchedulePlan,
  dataDir: string,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  const installed = plan.cronLine
    ? (await exec(["crontab", "-l"])).stdout.split("\n").some((l) => l.endsWith(CRON_TAG))
    : plan.files.every((f) => isFile(f.path));
  // A crontab line is active as soon as it is there; a unit or agent also has to be enabled.
  const enabled = installed && (plan.probe === undefined || (await exec(plan.probe)).ok);
  const last = await readLastRun(dataDir);
  if (json) {
    ctx.output.out(
      jsonLine({ scheduler: plan.scheduler, installed, enabled, lastRunAt: last?.finished_at ?? null }),
    );
    return 0;
  }
  const state = !installed
    ? "not installed ('ccpipe schedule install')"
    : enabled
    ? "installed and enabled"
    : "installed but not enabled ('ccpipe schedule install' again from your login session)";
  ctx.output.out(
    `${plan.scheduler}: ${state}; last run ${last ? formatTime(Date.parse(last.finished_at)) : "never"}`,
  );
  return 0;
}
