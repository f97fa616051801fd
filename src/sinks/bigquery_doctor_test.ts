import assert from "node:assert/strict";
import { fakeAuthClient, startMocks } from "../../mocks/mod.ts";
import { createBigQueryClient } from "./bigquery.ts";
import { parseBigQueryConfig } from "./bigquery_config.ts";
import { bigQueryDoctor } from "./bigquery_doctor.ts";

function withMock() {
  const mocks = startMocks({ bigquery: {} });
  return { mock: mocks.bigquery, [Symbol.dispose]: () => mocks.close() };
}

const config = parseBigQueryConfig({ project: "test-project", dataset: "ccpipe" });

function detail(report: Awaited<ReturnType<typeof bigQueryDoctor>>, name: string) {
  const check = report.checks.find((c) => c.name === name);
  assert.ok(check, name);
  return check;
}

Deno.test("bigQueryDoctor() passes on a reachable project whose dataset does not exist yet", async () => {
  using m = withMock();
  const client = createBigQueryClient(config, { authClient: fakeAuthClient() });
  const report = await bigQueryDoctor({ config, client });
  assert.deepEqual(report.checks.map((c) => c.name), [
    "credentials",
    "project",
    "dataset",
    "tables",
    "query",
  ]);
  assert.equal(report.ok, true, JSON.stringify(report.checks));
  assert.match(detail(report, "dataset").detail, /does not exist yet; the first run creates it in US/);
  assert.match(detail(report, "tables").detail, /messages will be created/);
  assert.ok(m.mock.calls.some((c) => c.kind === "jobs.query" && c.statement === "SELECT 1"));
  assert.equal(m.mock.calls.filter((c) => c.kind === "jobs.insert.load").length, 0);
  assert.equal(m.mock.table("ccpipe", "messages"), undefined, "doctor creates nothing");
  assert.doesNotMatch(JSON.stringify(report), /mock-access-token/, "no token in the report");
});

Deno.test("bigQueryDoctor() reports an existing dataset and a type conflict", async () => {
  using _m = withMock();
  const client = createBigQueryClient(config, { authClient: fakeAuthClient() });
  await client.createDataset("ccpipe", { location: "US" });
  await client.dataset("ccpipe").createTable("runs", {
    schema: { fields: [{ name: "run_id", type: "INT64", mode: "REQUIRED" }] },
  });
  const report = await bigQueryDoctor({ config, client });
  assert.equal(report.ok, false);
  assert.match(detail(report, "dataset").detail, /exists in US/);
  const tables = detail(report, "tables");
  assert.equal(tables.ok, false);
  assert.match(tables.detail, /runs\.run_id is INT64 REQUIRED, ccpipe loads STRING REQUIRED/);
  assert.equal(detail(report, "query").ok, true);
});

Deno.test("bigQueryDoctor() fails the project check for a project it cannot reach", async () => {
  using _m = withMock();
  const other = parseBigQueryConfig({ project: "other-project", dataset: "ccpipe" });
  const client = createBigQueryClient(other, { authClient: fakeAuthClient() });
  const report = await bigQueryDoctor({ config: other, client });
  assert.equal(report.ok, false);
  const project = detail(report, "project");
  assert.equal(project.ok, false);
  assert.match(project.detail, /other-project is not found/);
});

Deno.test("bigQueryDoctor() names the application-default credential source and skips the rest when it fails", async () => {
  using m = withMock();
  const previous = Deno.env.get("GOOGLE_APPLICATION_CREDENTIALS");
  const missing = "/nonexistent/ccpipe-test/key.json";
  Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", missing);
  try {
    const report = await bigQueryDoctor({ config });
    assert.equal(report.ok, false);
    const credentials = detail(report, "credentials");
    assert.equal(credentials.ok, false);
    assert.ok(
      credentials.detail.includes(`GOOGLE_APPLICATION_CREDENTIALS points to a missing file (${missing})`),
    );
    assert.ok(report.checks.slice(1).every((c) => !c.ok && c.detail === "skipped: no credentials"));
    assert.equal(m.mock.calls.length, 0, "nothing was called without credentials");
  } finally {
    if (previous === undefined) Deno.env.delete("GOOGLE_APPLICATION_CREDENTIALS");
    else Deno.env.set("GOOGLE_APPLICATION_CREDENTIALS", previous);
  }
});

Deno.test("bigQueryDoctor() names the dataset's default expirations and fails on a table whose rows expire", async () => {
  using _m = withMock();
  const client = createBigQueryClient(config, { authClient: fakeAuthClient() });
  await client.createDataset("ccpipe", {
    location: "EU",
    defaultTableExpirationMs: String(60 * 86_400_000),
    defaultPartitionExpirationMs: String(90 * 86_400_000),
  });
  await client.dataset("ccpipe").createTable("usage", {
    schema: { fields: [{ name: "usage_key", type: "STRING", mode: "REQUIRED" }] },
  });
  const report = await bigQueryDoctor({ config, client });
  assert.equal(
    detail(report, "dataset").detail,
    "dataset test-project.ccpipe exists in EU (configured location US differs; jobs run in EU); " +
      "its default expiration (tables 60 days, partitions 90 days) is cleared on the tables ccpipe creates",
  );
  const tables = detail(report, "tables");
  assert.equal(tables.ok, false);
  assert.match(tables.detail, /^Rows would expire \(and never be reloaded\): usage: the table expires at /);
});

Deno.test("bigQueryDoctor() sends no credentials to an emulator on this machine", async () => {
  const local = parseBigQueryConfig({
    project: "test-project",
    dataset: "ccpipe",
    endpoint: "http://127.0.0.1:9",
  });
  const report = await bigQueryDoctor({ config: local });
  assert.equal(
    detail(report, "credentials").detail,
    "none needed: http://127.0.0.1:9 is on this machine (an emulator), so requests carry no credentials",
  );
  assert.equal(detail(report, "project").ok, false, "nothing listens on port 9");
});
