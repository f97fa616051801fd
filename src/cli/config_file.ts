/**
 * The optional config file: JSON with a `correction` and a `bigquery` section, read from `--config
 * FILE` or else `<data-dir>/config.json`. Flags override environment, which overrides the file.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { dataDirLayout } from "../state/data_dir.ts";
import { correctionConfigSchema } from "../llm/config.ts";
import { editDistance } from "../llm/guards.ts";
import { bigQueryConfigSchema } from "../sinks/bigquery_config.ts";

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
  // A misspelt key ("modle", "worker") would otherwise be dropped by the schema and its default used.
  checkKeys(path, "correction", correction, correctionConfigSchema);
  checkKeys(path, "bigquery", bigquery, bigQueryConfigSchema);
  return { correction: correction as ConfigFile["correction"], bigquery: bigquery as ConfigFile["bigquery"] };
}

type Wrapped = { shape?: Record<string, unknown>; def?: { innerType?: unknown } };

/** The object shape under a zod schema's wrappers (default, prefault, optional), or null for a leaf. */
function shapeOf(schema: unknown): Record<string, unknown> | null {
  for (let s = schema as Wrapped | undefined; s; s = s.def?.innerType as Wrapped | undefined) {
    if (s.shape) return s.shape;
  }
  return null;
}

function checkKeys(path: string, where: string, value: unknown, schema: unknown): void {
  const shape = shapeOf(schema);
  if (shape === null || typeof value !== "object" || value === null || Array.isArray(value)) return;
  const known = Object.keys(shape);
  for (const [key, child] of Object.entries(value)) {
    if (!(key in shape)) {
      const near = known.map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase(), 3)] as const)
        .filter(([, d]) => d <= Math.max(2, Math.floor(key.length / 3))).sort((a, b) => a[1] - b[1])[0];
      throw new ConfigError(
        `Cannot use the config file ${path}: unknown key '${where}.${key}'${
          near ? ` (did you mean '${near[0]}'?)` : ""
        }; known keys are ${known.join(", ")}`,
      );
    }
    checkKeys(path, `${where}.${key}`, child, shape[key]);
  }
}
