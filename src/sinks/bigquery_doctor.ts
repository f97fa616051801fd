/**
 * `ccpipe doctor` for the BigQuery sink: checks credentials, project access, dataset access, the
 * tables' schemas and that queries run, and says what it found without printing anything secret.
 *
 * @module
 */
import type { BigQuery } from "@google-cloud/bigquery";
import { join } from "node:path";
import type { BigQueryConfig } from "./bigquery_config.ts";
import { createBigQueryClient, isLoopback, planBigQueryLoad } from "./bigquery.ts";
import { describeBigQueryError, httpStatusOf } from "./bigquery_retry.ts";

/** One check's outcome. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The doctor's findings; `ok` only when every check passed. */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: treat as unset
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Which link of the application-default chain would supply credentials (paths only, never contents). */
function credentialSource(): string {
  const explicit = env("GOOGLE_APPLICATION_CREDENTIALS");
  if (explicit) {
    return exists(explicit)
      ? `GOOGLE_APPLICATION_CREDENTIALS (${explicit})`
      : `GOOGLE_APPLICATION_CREDENTIALS points to a missing file (${explicit})`;
  }
  const configDir = env("CLOUDSDK_CONFIG") ??
    (env("APPDATA") ? join(env("APPDATA")!, "gcloud") : join(env("HOME") ?? "~", ".config", "gcloud"));
  const adc = join(configDir, "application_default_credentials.json");
  if (exists(adc)) return `gcloud application-default credentials (${adc})`;
  return "the metadata server (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud ADC file)";
}

async function check(name: string, run: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Checks that the BigQuery sink can work with a configuration: credentials from the application-default
 * chain, the project, the dataset (a missing dataset is fine: the first run creates it), the tables'
 * schemas (a type conflict fails) and a trivial query. Reads metadata and runs `SELECT 1` only.
 *
 * @param options The configuration and an optional client (tests inject one).
 * @returns Every check with a one-line detail; the details hold paths and ids, never tokens or keys.
 */
export async function bigQueryDoctor(
  options: { config: BigQueryConfig; client?: BigQuery },
): Promise<DoctorReport> {
  const { config } = options;
  const checks: DoctorCheck[] = [];
  const injected = options.client !== undefined;
  const client = options.client ?? createBigQueryClient(config);

  const credentials = await check("credentials", async () => {
    if (injected) return "an injected client (its own credentials)";
    if (config.endpoint && isLoopback(config.endpoint)) {
      return `none needed: ${config.endpoint} is on this machine (an emulator), so requests carry no credentials`;
    }
    const source = credentialSource();
    try {
      await client.authClient.getAccessToken();
    } catch (error) {
      throw new Error(`No usable credentials from ${source}: ${describeBigQueryError(error)}`);
    }
    return `application-default credentials from ${source}: an access token was obtained`;
  });
  checks.push(credentials);
  if (!credentials.ok) {
    for (const name of ["project", "dataset", "tables", "query"]) {
      checks.push({ name, ok: false, detail: "skipped: no credentials" });
    }
    return { ok: false, checks };
  }

  const endpoint = config.endpoint ? ` at ${config.endpoint}` : "";
  const project = await check("project", async () => {
    try {
      await client.getDatasets({ projectId: config.project, maxResults: 1, autoPaginate: false });
    } catch (error) {
      const status = httpStatusOf(error);
      const why = status === 404 ? "not found" : status === 403 ? "permission denied" : "unreachable";
      throw new Error(`Project ${config.project}${endpoint} is ${why}: ${describeBigQueryError(error)}`);
    }
    return `project ${config.project}${endpoint} is reachable (datasets can be listed)`;
  });
  checks.push(project);

  checks.push(
    await check("dataset", async () => {
      const dataset = client.dataset(config.dataset, { projectId: config.project });
      try {
        const [metadata] = await dataset.getMetadata();
        const location = metadata.location ?? "unknown location";
        const mismatch =
          metadata.location && metadata.location.toUpperCase() !== config.location.toUpperCase()
            ? ` (configured location ${config.location} differs; jobs run in ${location})`
            : "";
        const day = 86_400_000;
        const defaults = [
          metadata.defaultTableExpirationMs
            ? `tables ${Number(metadata.defaultTableExpirationMs) / day} days`
            : "",
          metadata.defaultPartitionExpirationMs
            ? `partitions ${Number(metadata.defaultPartitionExpirationMs) / day} days`
            : "",
        ].filter(Boolean);
        const expiry = defaults.length
          ? `; its default expiration (${defaults.join(", ")}) is cleared on the tables ccpipe creates`
          : "";
        return `dataset ${config.project}.${config.dataset} exists in ${location}${mismatch}${expiry}`;
      } catch (error) {
        if (httpStatusOf(error) === 404) {
          return `dataset ${config.project}.${config.dataset} does not exist yet; the first run creates it in ${config.location}`;
        }
        throw new Error(
          `Cannot read dataset ${config.project}.${config.dataset}: ${describeBigQueryError(error)}`,
        );
      }
    }),
  );

  checks.push(
    await check("tables", async () => {
      const plan = await planBigQueryLoad({ config, staged: [], client });
      if (!plan.inspected) throw new Error(`Cannot read the tables: ${plan.inspectError}`);
      const conflicts = plan.tables.flatMap((t) =>
        t.conflicts.map((c) => `${t.table}.${c.column} is ${c.existing}, ccpipe loads ${c.wanted}`)
      );
      if (conflicts.length) throw new Error(`Type conflict: ${conflicts.join("; ")}`);
      const expiring = plan.tables.filter((t) => t.expiration).map((t) => `${t.table}: ${t.expiration}`);
      if (expiring.length) {
        throw new Error(
          `Rows would expire (and never be reloaded): ${expiring.join("; ")}; ` +
            `remove it with 'bq update --expiration 0 --time_partitioning_expiration 0 ${config.project}:${config.dataset}.TABLE'`,
        );
      }
      return plan.tables.map((t) =>
        t.action === "none"
          ? `${t.table} ok`
          : t.action === "create"
          ? `${t.table} will be created`
          : `${t.table} gets ${[...t.add, ...t.relax].join(", ")}`
      ).join("; ");
    }),
  );

  checks.push(
    await check("query", async () => {
      try {
        await client.query({
          query: "SELECT 1",
          location: config.location,
          maximumBytesBilled: String(config.maximumBytesBilled),
        });
      } catch (error) {
        throw new Error(`Cannot run a query in ${config.project}: ${describeBigQueryError(error)}`);
      }
      return `queries run (maximumBytesBilled ${config.maximumBytesBilled})`;
    }),
  );

  return { ok: checks.every((c) => c.ok), checks };
}
