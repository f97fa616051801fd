/**
 * `ccpipe doctor`: checks what a real run needs — the Gemini key or Vertex settings, the configured
 * model, a writable data dir and cache — and prints what it found, never a secret.
 *
 * @module
 */
import { type FlagSpecs, formatHelp, parseFlags } from "../args.ts";
import { readConfigFile } from "../config_file.ts";
import type { CommandContext } from "../context.ts";
import { cacheDirOf, correctionConfigFrom, geminiClientFrom, llmFlags } from "../llm_args.ts";
import { bigQueryConfigFrom, bigQueryFlags, bigQueryRequested } from "../bigquery_args.ts";
import { dataDirFlags, ensureWritableDir, resolveDataDir } from "../shared_args.ts";

/** One check's outcome. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Flags of `ccpipe doctor`. */
export const doctorFlags: FlagSpecs = {
  ...dataDirFlags,
  ...llmFlags,
  ...bigQueryFlags,
  json: { type: "boolean", help: "Print one JSON object" },
  help: { type: "boolean", short: "h", help: "Show this help" },
};

const HELP = formatHelp(
  "ccpipe doctor [--data-dir DIR] [--model ID] [--gemini-endpoint URL] [--json]",
  "Checks the Gemini credentials (GEMINI_API_KEY, GOOGLE_API_KEY or Vertex AI settings) without\n" +
    "printing them, that the configured model exists, and that the data dir and cache are writable.\n" +
    "With BigQuery settings (--project/--dataset, environment or config file), also checks the\n" +
    "application-default credentials, the project, the dataset and the tables' schemas.",
  doctorFlags,
);

async function writable(name: string, dir: string): Promise<DoctorCheck> {
  try {
    await ensureWritableDir(dir);
    return { name, ok: true, detail: `${dir} is writable` };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message };
  }
}

/**
 * Runs `ccpipe doctor`.
 *
 * @returns 0 when every check passed, 1 otherwise.
 */
export async function doctorCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { flags } = parseFlags(args, doctorFlags, { command: "doctor" });
  if (flags.help) {
    ctx.output.out(HELP);
    return 0;
  }
  const dataDir = resolveDataDir(flags, ctx);
  const checks: DoctorCheck[] = [];
  checks.push(await writable("data dir", dataDir));
  checks.push(await writable("cache", cacheDirOf(dataDir)));
  const file = await readConfigFile(flags.config as string | undefined, dataDir);
  const config = correctionConfigFrom(flags, file, ctx);
  const { client, access } = await geminiClientFrom(flags, config, ctx);
  if (!client) {
    checks.push({
      name: "gemini credentials",
      ok: false,
      detail:
        "no GEMINI_API_KEY, GOOGLE_API_KEY or Vertex AI settings: Stage 4 will leave prompts skipped_no_llm",
    });
  } else {
    checks.push({
      name: "gemini credentials",
      ok: true,
      detail: `${access.kind === "vertex" ? "Vertex AI via" : "API key from"} ${access.source}${
        access.endpoint ? `, endpoint ${access.endpoint}` : ""
      }`,
    });
    const model = await client.checkModel();
    checks.push({ name: "gemini model", ok: model.exists, detail: `${config.model}: ${model.detail}` });
  }
  if (bigQueryRequested(flags, file, ctx)) {
    try {
      const { bigQueryDoctor } = await import("../../sinks/bigquery_doctor.ts");
      const report = await bigQueryDoctor({ config: bigQueryConfigFrom(flags, file, ctx) });
      for (const c of report.checks) checks.push({ ...c, name: `bigquery ${c.name}` });
    } catch (error) {
      checks.push({ name: "bigquery config", ok: false, detail: (error as Error).message });
    }
  }
  const ok = checks.every((c) => c.ok);
  if (flags.json) ctx.output.out(JSON.stringify({ ok, checks }));
  else {
    for (const c of checks) ctx.output.out(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(20)} ${c.detail}`);
  }
  return ok ? 0 : 1;
}
