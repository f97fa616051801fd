/**
 * Every command by name, each loaded on first use so `ccpipe --help` starts fast and a command's
 * heavy dependencies (DuckDB, the Google SDKs, MSW) load only when it runs. Help, completions and
 * "did you mean" hints all read this list: a command added here appears in all three.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** One command in the registry. */
export interface CommandEntry {
  name: string;
  /** One line for `ccpipe --help`. */
  summary: string;
  load(): Promise<Command>;
}

/** The commands, in the order `ccpipe --help` lists them. */
export const Commands: readonly CommandEntry[] = [
  {
    name: "run",
    summary: "Run the pipeline over your transcripts and load the tables",
    load: async () => (await import("./commands/run.ts")).runCommand,
  },
  {
    name: "discover",
    summary: "Scan the sources and give a go / caution / no-go verdict",
    load: async () => (await import("./commands/discover.ts")).discoverCommand,
  },
  {
    name: "demo",
    summary: "Run everything on a bundled 100-message sample (no account)",
    load: async () => (await import("./commands/demo.ts")).demoCommand,
  },
  {
    name: "doctor",
    summary: "Check data dir, credentials and last run; never prints secrets",
    load: async () => (await import("./commands/doctor.ts")).doctorCommand,
  },
  {
    name: "cache",
    summary: "Show, prune or clear the Stage 4 answer cache",
    load: async () => (await import("./commands/cache.ts")).cacheCommand,
  },
  {
    name: "repair",
    summary: "Set a corrupt run state aside so the next run rebuilds it",
    load: async () => (await import("./commands/repair.ts")).repairCommand,
  },
  {
    name: "report",
    summary: "Tokens and Claude cost per day, session, project, model; HTML",
    load: async () => (await import("./commands/report.ts")).reportCommand,
  },
  {
    name: "sql",
    summary: "Read-only SQL on the DuckDB file (tables and report views)",
    load: async () => (await import("./commands/sql.ts")).sqlCommand,
  },
  {
    name: "schedule",
    summary: "Run ccpipe regularly (systemd timer, launchd agent or cron)",
    load: async () => (await import("./commands/schedule.ts")).scheduleCommand,
  },
  {
    name: "completions",
    summary: "Print a shell completion script for bash, zsh or fish",
    load: async () => (await import("./commands/completions.ts")).completionsCommand,
  },
  {
    name: "help",
    summary: "Show the help of a command",
    load: async () => (await import("./commands/help.ts")).helpCommand,
  },
];

/** The registry entry named `name`, if any. */
export function findCommand(name: string): CommandEntry | undefined {
  return Commands.find((c) => c.name === name);
}
