import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { writeTree } from "../testing/write_tree.ts";
import { readConfigFile } from "./config_file.ts";

Deno.test("readConfigFile() refuses a misspelt key and suggests the one meant", async () => {
  for (
    const [body, message] of [
      [{ correction: { worker: 3 } }, "unknown key 'correction.worker' (did you mean 'workers'?)"],
      [{ correction: { modle: "x" } }, "unknown key 'correction.modle' (did you mean 'model'?)"],
      [
        { correction: { guards: { maxLenghtRatio: 2 } } },
        "unknown key 'correction.guards.maxLenghtRatio' (did you mean 'maxLengthRatio'?)",
      ],
      [{ bigquery: { datset: "d" } }, "unknown key 'bigquery.datset' (did you mean 'dataset'?)"],
      [{ correction: { colour: "red" } }, "unknown key 'correction.colour'; known keys are model, batchSize"],
    ] as const
  ) {
    await using tree = await writeTree({ "config.json": JSON.stringify(body) });
    await assertRejects(
      () => readConfigFile(undefined, tree.path),
      (error: unknown) => error instanceof ConfigError && error.message.includes(message),
      message,
    );
  }
});

Deno.test("readConfigFile() accepts every documented key", async () => {
  const body = {
    correction: { model: "m", workers: 2, timeoutMs: 1000, guards: { maxLengthRatio: 2 } },
    bigquery: { project: "my-project", dataset: "d", retries: { maxAttempts: 2 } },
  };
  await using tree = await writeTree({ "config.json": JSON.stringify(body) });
  assertEquals(await readConfigFile(undefined, tree.path), body);
});
