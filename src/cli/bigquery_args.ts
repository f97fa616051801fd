/**
 * BigQuery sink flags and wiring: config from file, environment and flags, validated once.
 * Credentials come from Google's application-default chain inside the SDK; nothing here reads them.
 *
 * @module
 */
import { ConfigError, UsageError } from "../errors.ts";
import { type MachineColumns, machineColumns } from "../io/machine.ts";
import { type BigQueryConfig, parseBigQueryConfig } from "../sinks/bigquery_config.ts";
import type { FlagSpecs, ParsedFlags } from "./args.ts";
import type { ConfigFile } from "./config_file.ts";
import type { CommandContext } from "./context.ts";

/** BigQuery flags shared by `run` and `doctor`. */
export const bigQueryFlags: FlagSpecs = {
  project: { type: "string", value: "ID", help: "BigQuery project (env CCPIPE_BIGQUERY_PROJECT)" },
  dataset: { type: "string", value: "ID", help: "BigQuery dataset (env CCPIPE_BIGQUERY_DATASET)" },
  location: {
    type: "string",
    value: "LOC",
    help: "BigQuery location (default US; env CCPIPE_BIGQUERY_LOCATION)",
  },
  "bigquery-endpoint": {
    type: "string",
    value: "URL",
    help: "Send BigQuery requests to another base URL, e.g. an emulator (env CCPIPE_BIGQUERY_ENDPOINT)",
  },
};

/** Team flags of `run`: which machine and person the rows come from (every table carries them). */
export const machineFlags: FlagSpecs = {
  "machine-name": {
    type: "string",
    value: "NAME",
    help:
      "Id of this machine in the tables (default: a hash of host name and OS user; env CCPIPE_MACHINE_NAME)",
  },
  user: {
    type: "string",
    value: "LABEL",
    help: "A label for the person or team loading, for per-user reports (env CCPIPE_USER)",
  },
};

/**
 * Resolves the machine id and user label: flags, then environment, then a hash of host name and OS user.
 *
 * @throws {UsageError} When `--machine-name` or `--user` is not a short plain label.
 */
export function machineFrom(flags: ParsedFlags, ctx: CommandContext): MachineColumns {
  let hostname = "unknown-host";
  try {
    hostname = Deno.hostname();
  } catch {
    // Without --allow-sys the host name is unknown; the OS user still tells machines apart.
  }
  const name = (flags["machine-name"] as string | undefined) ?? ctx.env("CCPIPE_MACHINE_NAME");
  const user = (flags.user as string | undefined) ?? ctx.env("CCPIPE_USER");
  try {
    return machineColumns({
      hostname,
      osUser: ctx.env("USER") ?? ctx.env("USERNAME") ?? "",
      ...(name ? { name } : {}),
      ...(user ? { user } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Whether any BigQuery setting is present in flags, environment or file. */
export function bigQueryRequested(flags: ParsedFlags, file: ConfigFile, ctx: CommandContext): boolean {
  return flags.project !== undefined || flags.dataset !== undefined || file.bigquery !== undefined ||
    ctx.env("CCPIPE_BIGQUERY_PROJECT") !== undefined || ctx.env("CCPIPE_BIGQUERY_DATASET") !== undefined;
}

/**
 * Builds the BigQuery config: file, then environment, then flags.
 *
 * @throws {ConfigError} Naming the first missing or invalid field.
 */
export function bigQueryConfigFrom(
  flags: ParsedFlags,
  file: ConfigFile,
  ctx: CommandContext,
): BigQueryConfig {
  const merged: Record<string, unknown> = { ...(file.bigquery ?? {}) };
  const pick: [string, string, string][] = [
    ["project", "project", "CCPIPE_BIGQUERY_PROJECT"],
    ["dataset", "dataset", "CCPIPE_BIGQUERY_DATASET"],
    ["location", "location", "CCPIPE_BIGQUERY_LOCATION"],
    ["bigquery-endpoint", "endpoint", "CCPIPE_BIGQUERY_ENDPOINT"],
  ];
  for (const [flag, key, env] of pick) {
    const value = (flags[flag] as string | undefined) ?? ctx.env(env);
    if (value !== undefined && value !== "") merged[key] = value;
  }
  for (
    const [key, flag, env] of [["project", "--project", "CCPIPE_BIGQUERY_PROJECT"], [
      "dataset",
      "--dataset",
      "CCPIPE_BIGQUERY_DATASET",
    ]]
  ) {
    if (merged[key] === undefined) {
      throw new ConfigError(
        `The BigQuery sink needs a ${key}: pass ${flag}, set ${env}, or add bigquery.${key} to the config file`,
      );
    }
  }
  return parseBigQueryConfig(merged);
}
