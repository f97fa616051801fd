/**
 * Stage 4 flags and their wiring: config from file, environment and flags validated once, the API
 * key from `GEMINI_API_KEY` / `GOOGLE_API_KEY` (never printed), Vertex AI through the SDK's own
 * variables, and the endpoint override.
 *
 * @module
 */
import { dataDirLayout } from "../state/data_dir.ts";
import { type CorrectionConfig, parseCorrectionConfig, Prefilters } from "../llm/config.ts";
import type { CorrectionClient } from "../llm/gemini_client.ts";
import { createStage4, type Stage4Runner } from "../pipeline/stage4.ts";
import type { Progress } from "../ports.ts";
import { type FlagSpecs, intFlag, type ParsedFlags } from "./args.ts";
import type { ConfigFile } from "./config_file.ts";
import type { CommandContext } from "./context.ts";
import { UsageError } from "../errors.ts";

/** Stage 4 flags shared by `run` and `doctor`. */
export const llmFlags: FlagSpecs = {
  config: {
    type: "string",
    value: "FILE",
    help: "JSON config file (default: <data-dir>/config.json if present)",
    group: "general",
  },
  model: {
    type: "string",
    value: "ID",
    help: "Gemini model (default gemini-2.5-flash-lite; env CCPIPE_MODEL)",
  },
  "batch-size": { type: "string", value: "N", help: "Prompts per request, 1–50 (default 15)" },
  workers: { type: "string", value: "N", help: "Concurrent requests (default 5)" },
  rpm: { type: "string", value: "N", help: "Requests per minute allowed (default 4000)" },
  tpm: { type: "string", value: "N", help: "Input tokens per minute allowed (default 4000000)" },
  rpd: { type: "string", value: "N", help: "Requests per day allowed (default: no cap)" },
  "min-gap-ms": { type: "string", value: "MS", help: "Minimum gap between request starts (default 0)" },
  "timeout-ms": { type: "string", value: "MS", help: "Per-request timeout (default 30000)" },
  "max-retries": { type: "string", value: "N", help: "Retries per request (default 5)" },
  "gemini-endpoint": {
    type: "string",
    value: "URL",
    help:
      "Send Gemini requests to another base URL (gateway, proxy, test server; env CCPIPE_GEMINI_ENDPOINT)",
  },
  prefilter: {
    type: "string",
    value: "NAME",
    help: `Local check before the model: ${
      Prefilters.join(" | ")
    } (default spell: a prompt with no misspelled word is kept as typed, without a call)`,
  },
  "no-llm": { type: "boolean", help: "Skip Stage 4 even when a key is set" },
};

/** Builds the Stage 4 config from file, environment and flags. */
export function correctionConfigFrom(
  flags: ParsedFlags,
  file: ConfigFile,
  ctx: CommandContext,
): CorrectionConfig {
  const merged: Record<string, unknown> = { ...(file.correction ?? {}) };
  const model = (flags.model as string | undefined) ?? ctx.env("CCPIPE_MODEL");
  if (model) merged.model = model;
  const ints: [string, string, number, number?][] = [
    ["batch-size", "batchSize", 1, 50],
    ["workers", "workers", 1, 64],
    ["rpm", "rpm", 1],
    ["tpm", "tpm", 1],
    ["rpd", "rpd", 1],
    ["min-gap-ms", "minGapMs", 0],
    ["timeout-ms", "timeoutMs", 1],
    ["max-retries", "maxRetries", 0, 20],
  ];
  for (const [flag, key, min, max] of ints) {
    const value = intFlag(flags, flag, { min, max });
    if (value !== undefined) merged[key] = value;
  }
  const prefilter = flags.prefilter as string | undefined;
  if (prefilter !== undefined) {
    if (!(Prefilters as readonly string[]).includes(prefilter)) {
      throw new UsageError(`--prefilter must be one of ${Prefilters.join(", ")}: got '${prefilter}'`);
    }
    merged.prefilter = prefilter;
  }
  return parseCorrectionConfig(merged);
}

/** How Stage 4 reaches Gemini, as far as can be said without printing secrets. */
export interface GeminiAccess {
  kind: "api_key" | "vertex" | "none";
  /** Where the key or project came from, e.g. `GEMINI_API_KEY`. Never the key itself. */
  source: string | null;
  endpoint: string | null;
}

/** Finds the Gemini credentials in the environment and creates the client, or returns null. */
export async function geminiClientFrom(
  flags: ParsedFlags,
  config: CorrectionConfig,
  ctx: CommandContext,
): Promise<{ client: CorrectionClient | null; access: GeminiAccess }> {
  // Loaded on use: the Gemini SDK is large and a run without a key never needs it.
  const load = async () => (await import("../llm/gemini_client.ts")).createGeminiClient;
  const endpoint = (flags["gemini-endpoint"] as string | undefined) ?? ctx.env("CCPIPE_GEMINI_ENDPOINT") ??
    null;
  if (endpoint !== null && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new UsageError(`--gemini-endpoint must be an http(s) URL: got '${endpoint}'`);
  }
  const useVertex = /^(1|true|yes)$/i.test(ctx.env("GOOGLE_GENAI_USE_VERTEXAI") ?? "");
  const project = ctx.env("GOOGLE_CLOUD_PROJECT");
  if (useVertex && project) {
    const location = ctx.env("GOOGLE_CLOUD_LOCATION") ?? "global";
    const client = (await load())({
      vertex: { project, location },
      model: config.model,
      endpoint: endpoint ?? undefined,
      timeoutMs: config.timeoutMs,
    });
    return { client, access: { kind: "vertex", source: `GOOGLE_CLOUD_PROJECT (${location})`, endpoint } };
  }
  for (const name of ["GEMINI_API_KEY", "GOOGLE_API_KEY"]) {
    const apiKey = ctx.env(name);
    if (apiKey) {
      const client = (await load())({
        apiKey,
        model: config.model,
        endpoint: endpoint ?? undefined,
        timeoutMs: config.timeoutMs,
      });
      return { client, access: { kind: "api_key", source: name, endpoint } };
    }
  }
  return { client: null, access: { kind: "none", source: null, endpoint } };
}

/** Path of the Stage 4 answer cache under a data dir. */
export function cacheDirOf(dataDir: string): string {
  return dataDirLayout(dataDir).geminiCache;
}

/** What {@linkcode stage4From} may be given instead of reading flags and the environment. */
export interface Stage4Overrides {
  /** Makes the client instead of the environment's key (the demo's simulated Gemini). */
  client?: (config: CorrectionConfig) => CorrectionClient;
  /** Label shown in summaries, e.g. "simulated". */
  label?: string;
  /** Where the Stage 4 progress line goes. */
  progress?: Progress;
}

/**
 * Builds the Stage 4 runner for `run` and `demo`, or null when `--no-llm`: the one place flags, config
 * file, environment and the data dir become a runner.
 *
 * @throws {UsageError} For a bad flag value.
 * @throws {ConfigError} For a bad config value.
 */
export async function stage4From(
  flags: ParsedFlags,
  file: ConfigFile,
  dataDir: string,
  ctx: CommandContext,
  overrides: Stage4Overrides = {},
): Promise<{ runner: Stage4Runner | null; access: GeminiAccess }> {
  const config = correctionConfigFrom(flags, file, ctx);
  if (flags["no-llm"]) return { runner: null, access: { kind: "none", source: null, endpoint: null } };
  const { client, access } = overrides.client
    ? { client: overrides.client(config), access: { kind: "api_key", source: null, endpoint: null } as const }
    : await geminiClientFrom(flags, config, ctx);
  const runner = createStage4({
    client,
    cacheDir: cacheDirOf(dataDir),
    config,
    clock: ctx.clock,
    signal: ctx.signal,
    progress: overrides.progress,
    dryRun: flags["dry-run"] === true,
    label: overrides.label,
  });
  return { runner, access };
}
