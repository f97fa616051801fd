/**
 * Reports against BigQuery: the same plain SELECTs as on DuckDB (`usage_query.ts`), run as query jobs
 * with the configured location and bytes-billed cap.
 *
 * @module
 */
import type { BigQuery } from "@google-cloud/bigquery";
import { SinkError } from "../errors.ts";
import { createBigQueryClient, describeBigQueryError } from "../sinks/bigquery.ts";
import type { BigQueryConfig } from "../sinks/bigquery_config.ts";
import { quoteTable } from "../sinks/bigquery_sql.ts";
import type { Warehouse } from "./warehouse.ts";

/** Options of {@linkcode openBigQueryWarehouse}. */
export interface BigQueryWarehouseOptions {
  config: BigQueryConfig;
  /** A client to use instead of one built from `config` with application-default credentials. */
  client?: BigQuery;
}

/**
 * A {@linkcode Warehouse} over a BigQuery dataset.
 *
 * @throws {SinkError} From `query` when BigQuery refuses a query (exit code 4).
 */
export function openBigQueryWarehouse(options: BigQueryWarehouseOptions): Warehouse {
  const { config } = options;
  const client = options.client ?? createBigQueryClient(config);
  return {
    location: `${config.project}.${config.dataset}`,
    table: (name) => quoteTable({ project: config.project, dataset: config.dataset, table: name }),
    async query(sql) {
      try {
        const [rows] = await client.query({
          query: sql,
          location: config.location,
          maximumBytesBilled: String(config.maximumBytesBilled),
          useLegacySql: false,
        });
        return rows as Record<string, unknown>[];
      } catch (error) {
        throw new SinkError(`BigQuery refused a report query: ${describeBigQueryError(error)}`, {
          cause: error,
        });
      }
    },
    async columns(name) {
      try {
        const dataset = client.dataset(config.dataset, {
          projectId: config.project,
          location: config.location,
        });
        const [metadata] = await dataset.table(name).getMetadata();
        const fields = (metadata.schema?.fields ?? []) as { name: string }[];
        return new Set(fields.map((f) => f.name));
      } catch (error) {
        throw new SinkError(`BigQuery could not describe table ${name}: ${describeBigQueryError(error)}`, {
          cause: error,
        });
      }
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
