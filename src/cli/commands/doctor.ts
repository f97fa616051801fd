/**
 * `ccpipe doctor`: checks what a run needs — a writable data dir and cache, Gemini credentials and
 * model when Stage 4 is wanted, BigQuery access when configured — and whether runs are frequent enough
 * to keep up with Claude Code's clean-up, printing what it found and never a secret.
 *
 * @module
 */
import { count, formatTime } from "../../format.ts";
import { type FlagSpecs, inGroup, type ParsedFlags } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { type ConfigFile, readConfigFile } from "../config_file.ts";
import type { CommandContext } from "../context.ts";
import { jsonLine } from "../json_output.ts";
import { readLastRun } from "../last_run.ts";
import { cacheDirOf, correctionConfigFrom, geminiClientFrom, llmFlags } from "../llm_args.ts";
import { bigQueryConfigFrom, bigQueryFlags, bigQueryRequested } from "../bigquery_args.ts";
import { dataDirFlags, ensureWritableDir, jsonFlag, resolveDataDir } from "../shared_args.ts";

/** How a check came out: `note` and `warn` inform without failing; `fail` makes doctor exit 1. */
export type CheckStatus = "ok" | "note" | "warn" | "fail";

/** One check's outcome. */
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  /** `status` is not `fail`. */
  ok: boolean;
  detail: string;
}

/** Claude Code's default `cleanupPeriodDays`: transcripts older than this are deleted. */
export const DEFAULT_CLEANUP_PERIOD_DAYS = 30;

/** Flags of `ccpipe doctor`. */
export const doctorFlags: FlagSpecs = {
  ...dataDirFlags,
  ...inGroup("stage4", {
    llm: {
      type: "boolean",
      help: "Require Stage 4: fail when no Gemini key or Vertex AI settings are found",
    },
    config: llmFlags.config,
    model: llmFlags.model,
    "gemini-endpoint": llmFlags["gemini-endpoint"],
  }),
  ...inGroup("bigquery", bigQueryFlags),
  ...jsonFlag(),
};

function check(name: string, status: CheckStatus, detail: string): DoctorCheck {
  return { name, status, ok: status !== "fail", detail };
}

async function writable(name: string, dir: string): Promise<DoctorCheck> {
  try {
    await ensureWritableDir(dir);
    return check(name, "ok", `${dir} is writable`);
  } catch (error) {
    return check(name, "fail", (error as Error).message);
  }
}

/** Whether anything configured asks for Stage 4 (then missing credentials fail). */
function geminiWanted(flags: ParsedFlags, file: ConfigFile, ctx: CommandContext): boolean {
  return flags.llm === true || flags.model !== undefined || flags["gemini-endpoint"] !== undefined ||
    file.correction !== undefined || ctx.env("CCPIPE_MODEL") !== undefined ||
    ctx.env("CCPIPE_GEMINI_ENDPOINT") !== undefined;
}

async function geminiChecks(
  flags: ParsedFlags,
  file: ConfigFile,
  ctx: CommandContext,
): Promise<DoctorCheck[]> {
  const config = correctionConfigFrom(flags, file, ctx);
  const { client, access } = await geminiClientFrom(flags, config, ctx);
  if (!client) {
    const missing = "no GEMINI_API_KEY, GOOGLE_API_KEY or Vertex AI settings";
    return [
      geminiWanted(flags, file, ctx)
        ? check("gemini credentials", "fail", `${missing}, and Stage 4 is configured`)
        : check("gemini credentials", "note", `${missing}: runs skip Stage 4 (prompts wait for a key)`),
    ];
  }
  const via = `${access.kind === "vertex" ? "Vertex AI via" : "API key from"} ${access.source}${
    access.endpoint ? `, endpoint ${access.endpoint}` : ""
  }`;
  const model = await client.checkModel();
  return [
    check("gemini credentials", "ok", via),
    check("gemini model", model.exists ? "ok" : "fail", `${config.model}: ${model.detail}`),
  ];
}

/**
 * Reads Claude Code's `cleanupPeriodDays` from its settings.json (the first `CLAUDE_CONFIG_DIR` root,
 * else `~/.claude`), or the default when it is absent or unusable.
 */
export async function cleanupPeriodDays(env: (name: string) => string | undefined): Promise<number> {
  const root = env("CLAUDE_CONFIG_DIR")?.split(",")[0]?.trim() || `${env("HOME") ?? "."}/.claude`;
  try {
    const days = JSON.parse(await Deno.readTextFile(`${root}/settings.json`))?.cleanupPeriodDays;
    return typeof days === "number" && days > 0 ? days : DEFAULT_CLEANUP_PERIOD_DAYS;
  } catch {
    return DEFAULT_CLEANUP_PERIOD_DAYS;
  }
}

async function lastRunCheck(dataDir: string, ctx: CommandContext): Promise<DoctorCheck> {
  const last = await readLastRun(dataDir);
  const days = await cleanupPeriodDays(ctx.env);
  if (last === null) {
    return check(
      "last run",
      "note",
      `no run recorded in ${dataDir} yet: 'ccpipe run' loads your history, 'ccpipe schedule install' keeps it loaded`,
    );
  }
  const finished = Date.parse(last.finished_at);
  const ageDays = (ctx.clock.now() - finished) / 86_400_000;
  const when = `${formatTime(finished)} (${count(Math.floor(ageDays), "day")} ago)`;
  if (ageDays > days / 2) {
    return check(
      "last run",
      "warn",
      `${when}, more than half of Claude Code's cleanupPeriodDays (${days}): transcripts older than ${
        count(days, "day")
      } are deleted before ccpipe reads them; run 'ccpipe run' and 'ccpipe schedule install'`,
    );
  }
  return check("last run", "ok", `${when}; Claude Code keeps transcripts ${count(days, "day")}`);
}

const LABELS: Record<CheckStatus, string> = { ok: "ok  ", note: "note", warn: "warn", fail: "FAIL" };

/** `ccpipe doctor`: exits 0 when no check failed, 1 otherwise. */
export const doctorCommand: Command = defineCommand({
  name: "doctor",
  description:
    `Checks that the data dir and cache are writable and when ccpipe last ran (warning when it is older
than half of Claude Code's cleanupPeriodDays). Checks the Gemini credentials (GEMINI_API_KEY, GOOGLE_API_KEY
or Vertex AI settings) without printing them, and the configured model; without credentials this is a
note, unless --llm or a Stage 4 setting asks for Gemini. With BigQuery settings (--project/--dataset,
environment or config file), also checks the application-default credentials, the project, the dataset and
the tables' schemas.`,
  flags: doctorFlags,
  async run({ flags }, ctx) {
    const dataDir = resolveDataDir(flags, ctx);
    const checks: DoctorCheck[] = [];
    checks.push(await writable("data dir", dataDir));
    checks.push(await writable("cache", cacheDirOf(dataDir)));
    checks.push(await lastRunCheck(dataDir, ctx));
    const file = await readConfigFile(flags.config as string | undefined, dataDir);
    checks.push(...await geminiChecks(flags, file, ctx));
    if (bigQueryRequested(flags, file, ctx)) {
      try {
        const { bigQueryDoctor } = await import("../../sinks/bigquery_doctor.ts");
        const report = await bigQueryDoctor({ config: bigQueryConfigFrom(flags, file, ctx) });
        for (const c of report.checks) {
          checks.push(check(`bigquery ${c.name}`, c.ok ? "ok" : "fail", c.detail));
        }
      } catch (error) {
        checks.push(check("bigquery config", "fail", (error as Error).message));
      }
    }
    const ok = checks.every((c) => c.ok);
    if (flags.json) ctx.output.out(jsonLine({ ok, checks }));
    else for (const c of checks) ctx.output.out(`${LABELS[c.status]}  ${c.name.padEnd(20)} ${c.detail}`);
    return ok ? 0 : 1;
  },
});
