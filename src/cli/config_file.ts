/**
 * The optional config file: JSON with a `correction` and a `bigquery` section, read from `--config
 * FILE` or else `<data-dir>/config.json`. Flags override environment, which overrides the file.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { dataDirLayout } from "../state/data_dir.ts";

/** The sections a config file may hold; each is validated by its layer's own zod schema. */
export interface ConfigFile {
  correction?: Record<string, unknown>;
  bigquery?: Record<string, unknown>;
}

/**
 * Reads the config file, if any.
 *
 * @param explicit The `--config` path; missing is an error only when given explicitly.
 * @param dataDir The data dir, where `config.json` is looked for by default.
 * @returns The parsed sections (empty when there is no file).
 * @throws {ConfigError} When the file cannot be read or is not a JSON object.
 */
export async function readConfigFile(explicit: string | undefined, dataDir: string): Promise<ConfigFile> {
  const path = explicit ?? dataDirLayout(dataDir).config;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const absent = error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
    if (!explicit && absent) return {};
    const reason = absent
      ? "it does not exist"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new ConfigError(`Cannot read the config file ${path}: ${reason}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Cannot use the config file ${path} as it is not valid JSON`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`Cannot use the config file ${path} as it must hold a JSON object`);
  }
  const { correction, bigquery, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new ConfigError(
      `Cannot use the config file ${path}: unknown section '${
        unknown[0]
      }' (expected 'correction' or 'bigquery')`,
    );
  }
  return { correction: correction as ConfigFile["correction"], bigquery: bigquery as ConfigFile["bigquery"] };
}
