/**
 * The BigQuery mock's in-memory warehouse: datasets → tables → rows, with the schema rules
 * BigQuery enforces on `tables.patch` and load jobs, and table expiration.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { duplicate, invalid, MockBigQueryError, notFound } from "./_bigquery_errors.ts";
import { type BigQueryColumnSchema, findField, normalizeSchema } from "./_bigquery_values.ts";

/** A table as the mock stores it. */
export interface StoredTable {
  datasetId: string;
  tableId: string;
  schema: BigQueryColumnSchema[];
  /** `expirationMs`: a partition's rows vanish that long after the partition's day (as a string, like the REST API). */
  timePartitioning?: { type: string; field?: string; expirationMs?: string };
  clustering?: { fields: string[] };
  /** Milliseconds since the epoch, as a string like the REST API. */
  expirationTime?: string;
  description?: string;
  labels?: Record<string, string>;
  creationTime: number;
  lastModifiedTime: number;
  rows: Record<string, unknown>[];
}

/** A dataset as the mock stores it. */
export interface StoredDataset {
  datasetId: string;
  location: string;
  description?: string;
  labels?: Record<string, string>;
  defaultTableExpirationMs?: string;
  /** Inherited by new partitioned tables as `timePartitioning.expirationMs`. */
  defaultPartitionExpirationMs?: string;
  creationTime: number;
  tables: Map<string, StoredTable>;
}

/** What may change in a schema when it is replaced (load jobs' `schemaUpdateOptions`). */
export interface SchemaChangeRules {
  allowFieldAddition: boolean;
  allowFieldRelaxation: boolean;
}

// Row arrays are never mutated in place (every change assigns a new array), so their size can be cached.
const bytesCache = new WeakMap<readonly Record<string, unknown>[], number>();

/** Bytes a set of rows takes, counted as the UTF-8 size of each row's JSON (the mock's bytes estimate). */
export function rowsBytes(rows: readonly Record<string, unknown>[]): number {
  const cached = bytesCache.get(rows);
  if (cached !== undefined) return cached;
  let total = 0;
  for (const row of rows) total += Buffer.byteLength(JSON.stringify(row), "utf8");
  bytesCache.set(rows, total);
  return total;
}

/** The in-memory store behind the BigQuery mock. */
export class Warehouse {
  #datasets = new Map<string, StoredDataset>();
  #projectId: string;
  #now: () => number;

  /**
   * Creates an empty warehouse.
   *
   * @param projectId The only project it holds.
   * @param now Clock for creation times and expiration.
   */
  constructor(projectId: string, now: () => number) {
    this.#projectId = projectId;
    this.#now = now;
  }

  /** Points the warehouse at another project id or clock (after `configure`). */
  setContext(projectId: string, now: () => number): void {
    this.#projectId = projectId;
    this.#now = now;
  }

  /** The project id. */
  get projectId(): string {
    return this.#projectId;
  }

  /** The clock. */
  now(): number {
    return this.#now();
  }

  /** Drops everything. */
  clear(): void {
    this.#datasets.clear();
  }

  /** All datasets. */
  datasets(): StoredDataset[] {
    return [...this.#datasets.values()];
  }

  /** A dataset or `undefined`. */
  findDataset(datasetId: string): StoredDataset | undefined {
    return this.#datasets.get(datasetId);
  }

  /**
   * A dataset.
   *
   * @throws {MockBigQueryError} 404 `notFound` when it does not exist.
   */
  dataset(datasetId: string): StoredDataset {
    const dataset = this.#datasets.get(datasetId);
    if (!dataset) throw notFound(`Not found: Dataset ${this.#projectId}:${datasetId}`);
    return dataset;
  }

  /**
   * Creates a dataset.
   *
   * @throws {MockBigQueryError} 409 `duplicate` when it exists, 400 for a bad id.
   */
  createDataset(datasetId: string, options: Partial<StoredDataset> = {}): StoredDataset {
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(datasetId)) {
      throw invalid(
        `Invalid dataset ID "${datasetId}". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`,
      );
    }
    if (this.#datasets.has(datasetId)) {
      throw duplicate(`Already Exists: Dataset ${this.#projectId}:${datasetId}`);
    }
    const dataset: StoredDataset = {
      location: "US",
      ...options,
      datasetId,
      creationTime: this.#now(),
      tables: new Map(),
    };
    this.#datasets.set(datasetId, dataset);
    return dataset;
  }

  /**
   * Deletes a dataset.
   *
   * @throws {MockBigQueryError} 404 when missing, 400 `resourceInUse` when it has tables and `deleteContents` is false.
   */
  deleteDataset(datasetId: string, deleteContents: boolean): void {
    const dataset = this.dataset(datasetId);
    this.#expire(dataset);
    if (dataset.tables.size > 0 && !deleteContents) {
      throw new MockBigQueryError(
        400,
        "resourceInUse",
        `Dataset ${this.#projectId}:${datasetId} is still in use`,
      );
    }
    this.#datasets.delete(datasetId);
  }

  #expire(dataset: StoredDataset): void {
    const now = this.#now();
    for (const [id, table] of dataset.tables) {
      if (table.expirationTime !== undefined && Number(table.expirationTime) <= now) {
        dataset.tables.delete(id);
        continue;
      }
      const { field, expirationMs } = table.timePartitioning ?? {};
      if (!field || expirationMs === undefined) continue;
      // A DAY partition expires `expirationMs` after its day starts (UTC); the NULL partition never does.
      const live = (row: Record<string, unknown>) => {
        const value = row[field];
        return value === null || value === undefined ||
          Date.parse(String(value).slice(0, 10) + "T00:00:00Z") + Number(expirationMs) > now;
      };
      if (!table.rows.every(live)) table.rows = table.rows.filter(live);
    }
  }

  /** A live (not expired) table or `undefined`; expired tables are removed on access, as BigQuery does. */
  findTable(datasetId: string, tableId: string): StoredTable | undefined {
    const dataset = this.#datasets.get(datasetId);
    if (!dataset) return undefined;
    this.#expire(dataset);
    return dataset.tables.get(tableId);
  }

  /** The live tables of a dataset. */
  tables(datasetId: string): StoredTable[] {
    const dataset = this.dataset(datasetId);
    this.#expire(dataset);
    return [...dataset.tables.values()];
  }

  /**
   * A table.
   *
   * @throws {MockBigQueryError} 404 `notFound` naming the dataset or the table.
   */
  table(datasetId: string, tableId: string): StoredTable {
    this.dataset(datasetId);
    const table = this.findTable(datasetId, tableId);
    if (!table) throw notFound(`Not found: Table ${this.#projectId}:${datasetId}.${tableId}`);
    return table;
  }

  /**
   * Creates a table from a `tables.insert`-style resource.
   *
   * @throws {MockBigQueryError} 404 for a missing dataset, 409 when it exists, 400 for a bad schema or partitioning.
   */
  createTable(datasetId: string, tableId: string, resource: Record<string, unknown>): StoredTable {
    const dataset = this.dataset(datasetId);
    if (!/^[A-Za-z0-9_\-]{1,1024}$/.test(tableId)) throw invalid(`Invalid table ID "${tableId}".`);
    if (this.findTable(datasetId, tableId)) {
      throw duplicate(`Already Exists: Table ${this.#projectId}:${datasetId}.${tableId}`);
    }
    const schema = normalizeSchema((resource.schema as { fields?: unknown } | undefined)?.fields ?? []);
    const now = this.#now();
    const table: StoredTable = {
      datasetId,
      tableId,
      schema,
      creationTime: now,
      lastModifiedTime: now,
      rows: [],
    };
    this.#applyOptions(table, resource, true);
    if (table.expirationTime === undefined && dataset.defaultTableExpirationMs !== undefined) {
      table.expirationTime = String(now + Number(dataset.defaultTableExpirationMs));
    }
    const explicit = (resource.timePartitioning as { expirationMs?: unknown } | undefined)?.expirationMs;
    if (
      table.timePartitioning && explicit === undefined && dataset.defaultPartitionExpirationMs !== undefined
    ) {
      table.timePartitioning.expirationMs = dataset.defaultPartitionExpirationMs;
    }
    dataset.tables.set(tableId, table);
    return table;
  }

  #applyOptions(table: StoredTable, resource: Record<string, unknown>, creating: boolean): void {
    if (resource.timePartitioning !== undefined) {
      const tp = resource.timePartitioning as
        | { type?: string; field?: string; expirationMs?: unknown }
        | null;
      const next: StoredTable["timePartitioning"] = tp
        ? {
          type: String(tp.type ?? "DAY"),
          ...(tp.field ? { field: tp.field } : {}),
          ...(tp.expirationMs !== undefined && tp.expirationMs !== null
            ? { expirationMs: String(tp.expirationMs) }
            : {}),
        }
        : undefined;
      const spec = (t: StoredTable["timePartitioning"]) =>
        JSON.stringify(t && { type: t.type, field: t.field });
      if (!creating && spec(next) !== spec(table.timePartitioning)) {
        throw invalid("Cannot change partitioning spec for a partitioned table.");
      }
      if (next?.field) {
        const column = findField(table.schema, next.field);
        if (!column) throw invalid(`The field specified for partitioning cannot be found in the schema`);
        if (!["DATE", "TIMESTAMP", "DATETIME"].includes(column.type) || column.mode === "REPEATED") {
          throw invalid(
            `Partitioning field ${next.field} must be a top-level DATE, TIMESTAMP or DATETIME field: current type is ${column.type}`,
          );
        }
      }
      if (next && !["DAY", "HOUR", "MONTH", "YEAR"].includes(next.type)) {
        throw invalid(`Invalid value for type: ${next.type} is not a valid value`);
      }
      table.timePartitioning = next;
    }
    if (resource.clustering !== undefined) {
      const fields = (resource.clustering as { fields?: string[] } | null)?.fields ?? [];
      if (fields.length > 4) throw invalid("Too many clustering fields: 5, only 4 are allowed.");
      for (const name of fields) {
        const column = findField(table.schema, name);
        if (!column) {
          throw invalid(`The field specified for clustering cannot be found in the schema: ${name}`);
        }
        if (["RECORD", "JSON", "FLOAT"].includes(column.type) || column.mode === "REPEATED") {
          throw invalid(`Field ${name} is of type ${column.type} which is not supported for clustering`);
        }
      }
      table.clustering = fields.length ? { fields: [...fields] } : undefined;
    }
    if (resource.expirationTime !== undefined) {
      table.expirationTime = resource.expirationTime === null ? undefined : String(resource.expirationTime);
    }
    if (resource.description !== undefined) table.description = resource.description as string;
    if (resource.labels !== undefined) table.labels = resource.labels as Record<string, string>;
  }

  /**
   * Applies a `tables.patch` / `tables.update` resource.
   *
   * @throws {MockBigQueryError} 400 `invalid` for a dropped column, a type change, a new REQUIRED column or a
   *   partitioning change, with BigQuery's messages.
   */
  patchTable(datasetId: string, tableId: string, resource: Record<string, unknown>): StoredTable {
    const table = this.table(datasetId, tableId);
    const fields = (resource.schema as { fields?: unknown } | undefined)?.fields;
    if (fields !== undefined) {
      const next = normalizeSchema(fields);
      this.replaceSchema(table, next, { allowFieldAddition: true, allowFieldRelaxation: true });
    }
    this.#applyOptions(table, resource, false);
    table.lastModifiedTime = this.#now();
    return table;
  }

  /**
   * Replaces a table's schema under BigQuery's evolution rules and pads existing rows with the new columns.
   *
   * @throws {MockBigQueryError} 400 `invalid` ("Provided Schema does not match Table ...").
   */
  replaceSchema(table: StoredTable, next: BigQueryColumnSchema[], rules: SchemaChangeRules): void {
    const where =
      `Provided Schema does not match Table ${this.#projectId}:${table.datasetId}.${table.tableId}.`;
    for (const old of table.schema) {
      const now = findField(next, old.name);
      if (!now) throw invalid(`${where} Field ${old.name} is missing in new schema`);
      if (now.type !== old.type) {
        throw invalid(`${where} Field ${old.name} has changed type from ${old.type} to ${now.type}`);
      }
      if (now.mode !== old.mode) {
        const relaxing = old.mode === "REQUIRED" && now.mode === "NULLABLE";
        if (!relaxing || !rules.allowFieldRelaxation) {
          throw invalid(`${where} Field ${old.name} has changed mode from ${old.mode} to ${now.mode}`);
        }
      }
    }
    const added = next.filter((f) => !findField(table.schema, f.name));
    if (added.length > 0) {
      if (!rules.allowFieldAddition) throw invalid(`${where} Cannot add fields (field: ${added[0].name})`);
      const required = added.find((f) => f.mode === "REQUIRED");
      if (required) {
        throw invalid(`${where} Cannot add required fields to an existing schema. (field: ${required.name})`);
      }
    }
    table.schema = next;
    if (added.length > 0) {
      const padding = Object.fromEntries(added.map((f) => [f.name, f.mode === "REPEATED" ? [] : null]));
      table.rows = table.rows.map((row) => ({ ...row, ...padding }));
    }
  }

  /**
   * Deletes a table.
   *
   * @throws {MockBigQueryError} 404 when it does not exist.
   */
  deleteTable(datasetId: string, tableId: string): void {
    this.table(datasetId, tableId);
    this.#datasets.get(datasetId)!.tables.delete(tableId);
  }

  /** The REST resource `tables.get` returns. */
  tableResource(table: StoredTable, location: string): Record<string, unknown> {
    const id = `${this.#projectId}:${table.datasetId}.${table.tableId}`;
    return {
      kind: "bigquery#table",
      etag: `"${table.lastModifiedTime.toString(36)}"`,
      id,
      selfLink:
        `https://bigquery.googleapis.com/bigquery/v2/projects/${this.#projectId}/datasets/${table.datasetId}/tables/${table.tableId}`,
      tableReference: { projectId: this.#projectId, datasetId: table.datasetId, tableId: table.tableId },
      schema: { fields: structuredClone(table.schema) },
      ...(table.timePartitioning ? { timePartitioning: { ...table.timePartitioning } } : {}),
      ...(table.clustering ? { clustering: { fields: [...table.clustering.fields] } } : {}),
      ...(table.expirationTime !== undefined ? { expirationTime: table.expirationTime } : {}),
      ...(table.description !== undefined ? { description: table.description } : {}),
      ...(table.labels !== undefined ? { labels: { ...table.labels } } : {}),
      numRows: String(table.rows.length),
      numBytes: String(rowsBytes(table.rows)),
      creationTime: String(table.creationTime),
      lastModifiedTime: String(table.lastModifiedTime),
      type: "TABLE",
      location,
    };
  }

  /** The REST resource `datasets.get` returns. */
  datasetResource(dataset: StoredDataset): Record<string, unknown> {
    return {
      kind: "bigquery#dataset",
      etag: `"${dataset.creationTime.toString(36)}"`,
      id: `${this.#projectId}:${dataset.datasetId}`,
      selfLink:
        `https://bigquery.googleapis.com/bigquery/v2/projects/${this.#projectId}/datasets/${dataset.datasetId}`,
      datasetReference: { projectId: this.#projectId, datasetId: dataset.datasetId },
      location: dataset.location,
      ...(dataset.description !== undefined ? { description: dataset.description } : {}),
      ...(dataset.labels !== undefined ? { labels: dataset.labels } : {}),
      ...(dataset.defaultTableExpirationMs !== undefined
        ? { defaultTableExpirationMs: dataset.defaultTableExpirationMs }
        : {}),
      ...(dataset.defaultPartitionExpirationMs !== undefined
        ? { defaultPartitionExpirationMs: dataset.defaultPartitionExpirationMs }
        : {}),
      creationTime: String(dataset.creationTime),
      lastModifiedTime: String(dataset.creationTime),
      type: "DEFAULT",
    };
  }
}
