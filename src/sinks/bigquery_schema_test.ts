import assert from "node:assert/strict";
import { Tables } from "../schema/tables.ts";
import {
  bigQueryFieldOf,
  bigQueryTableShapeOf,
  diffBigQuerySchema,
  patchedBigQuerySchema,
} from "./bigquery_schema.ts";

Deno.test("bigQueryFieldOf() maps every logical type", () => {
  const cases = [
    ["string", "STRING"],
    ["int", "INT64"],
    ["float", "FLOAT64"],
    ["bool", "BOOL"],
    ["timestamp", "TIMESTAMP"],
    ["date", "DATE"],
    ["json", "JSON"],
  ] as const;
  for (const [type, want] of cases) {
    assert.deepEqual(bigQueryFieldOf({ name: "c", type, nullable: false }), {
      name: "c",
      type: want,
      mode: "REQUIRED",
    });
    assert.equal(bigQueryFieldOf({ name: "c", type, nullable: true }).mode, "NULLABLE");
  }
  assert.deepEqual(bigQueryFieldOf({ name: "tags", type: "string[]", nullable: false }), {
    name: "tags",
    type: "STRING",
    mode: "REPEATED",
  });
  assert.equal(
    bigQueryFieldOf({ name: "k", type: "string", nullable: false, description: "d" }).description,
    "d",
  );
});

Deno.test("bigQueryTableShapeOf() partitions messages by day on event_date and clusters by session and kind", () => {
  const shape = bigQueryTableShapeOf(Tables.messages);
  assert.deepEqual(shape.timePartitioning, { type: "DAY", field: "event_date" });
  assert.deepEqual(shape.clustering, { fields: ["session_id", "kind"] });
  assert.equal(shape.schema.fields.length, Tables.messages.columns.length);
  const byName = new Map(shape.schema.fields.map((f) => [f.name, f]));
  assert.deepEqual(byName.get("uuid"), { name: "uuid", type: "STRING", mode: "REQUIRED" });
  assert.deepEqual(byName.get("tool_names"), { name: "tool_names", type: "STRING", mode: "REPEATED" });
  assert.deepEqual(byName.get("extra"), { name: "extra", type: "JSON", mode: "NULLABLE" });
  assert.deepEqual(byName.get("timestamp"), { name: "timestamp", type: "TIMESTAMP", mode: "NULLABLE" });
  assert.deepEqual(byName.get("event_date"), { name: "event_date", type: "DATE", mode: "NULLABLE" });
  assert.equal(byName.get("source_line")?.type, "INT64");
});

Deno.test("bigQueryTableShapeOf() gives usage a model clustering and runs neither partition nor clustering", () => {
  assert.deepEqual(bigQueryTableShapeOf(Tables.usage).clustering, { fields: ["model"] });
  assert.deepEqual(bigQueryTableShapeOf(Tables.usage).timePartitioning, { type: "DAY", field: "event_date" });
  const runs = bigQueryTableShapeOf(Tables.runs);
  assert.equal(runs.timePartitioning, undefined);
  assert.equal(runs.clustering, undefined);
  assert.equal(runs.schema.fields.find((f) => f.name === "llm_cost_usd")?.type, "FLOAT64");
});

Deno.test("bigQueryTableShapeOf() throws when partitionBy is not a date column", () => {
  assert.throws(
    () => bigQueryTableShapeOf({ ...Tables.usage, partitionBy: "model" }),
    (e: unknown) => e instanceof TypeError && e.message.includes("current value is model"),
  );
  assert.throws(() => bigQueryTableShapeOf({ ...Tables.usage, clusterBy: ["nope"] }), TypeError);
});

Deno.test("diffBigQuerySchema() adds missing columns as NULLABLE and accepts legacy type names", () => {
  const diff = diffBigQuerySchema(
    [{ name: "a", type: "INTEGER", mode: "REQUIRED" }, { name: "B", type: "BOOLEAN" }, {
      name: "extra",
      type: "STRING",
    }],
    [
      { name: "a", type: "INT64", mode: "REQUIRED" },
      { name: "b", type: "BOOL", mode: "NULLABLE" },
      { name: "c", type: "TIMESTAMP", mode: "REQUIRED" },
      { name: "d", type: "STRING", mode: "REPEATED" },
    ],
  );
  assert.deepEqual(diff.conflicts, []);
  assert.deepEqual(diff.relax, []);
  assert.deepEqual(diff.add, [
    { name: "c", type: "TIMESTAMP", mode: "NULLABLE" },
    { name: "d", type: "STRING", mode: "REPEATED" },
  ]);
});

Deno.test("diffBigQuerySchema() reports type and repetition conflicts and relaxes REQUIRED to NULLABLE", () => {
  const diff = diffBigQuerySchema(
    [
      { name: "turn", type: "STRING", mode: "NULLABLE" },
      { name: "tool_names", type: "STRING", mode: "NULLABLE" },
      { name: "model", type: "STRING", mode: "REQUIRED" },
    ],
    [
      { name: "turn", type: "INT64", mode: "NULLABLE" },
      { name: "tool_names", type: "STRING", mode: "REPEATED" },
      { name: "model", type: "STRING", mode: "NULLABLE" },
    ],
  );
  assert.deepEqual(diff.conflicts, [
    { column: "turn", existing: "STRING NULLABLE", wanted: "INT64 NULLABLE" },
    { column: "tool_names", existing: "STRING NULLABLE", wanted: "STRING REPEATED" },
  ]);
  assert.deepEqual(diff.relax, ["model"]);
  assert.deepEqual(diff.add, []);
});

Deno.test("patchedBigQuerySchema() keeps existing fields in order, relaxes, then appends", () => {
  const existing = [{ name: "a", type: "STRING", mode: "REQUIRED" as const }, { name: "z", type: "STRING" }];
  const patched = patchedBigQuerySchema(existing, {
    add: [{ name: "b", type: "INT64", mode: "NULLABLE" }],
    relax: ["a"],
    conflicts: [],
  });
  assert.deepEqual(patched, [
    { name: "a", type: "STRING", mode: "NULLABLE" },
    { name: "z", type: "STRING" },
    { name: "b", type: "INT64", mode: "NULLABLE" },
  ]);
  assert.equal(existing[0].mode, "REQUIRED");
});
