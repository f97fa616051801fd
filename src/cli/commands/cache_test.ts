import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { UsageError } from "../../errors.ts";
import { createDiskCache } from "../../llm/disk_cache.ts";
import { writeTree } from "../../testing/write_tree.ts";
import { cacheDirOf } from "../llm_args.ts";
import { recordingOutput } from "../logger.ts";
import { main } from "../main.ts";
import { parseAge } from "./cache.ts";

Deno.test("parseAge() reads days, hours, minutes and seconds", () => {
  assertEquals([parseAge("30d"), parseAge("12h"), parseAge("90m"), parseAge("45s")], [
    2_592_000_000,
    43_200_000,
    5_400_000,
    45_000,
  ]);
  assertThrows(() => parseAge("soon"), UsageError);
});

Deno.test("cache stats, prune and clear act on the data dir's cache", async () => {
  await using tree = await writeTree({});
  const dataDir = tree.join("d");
  let now = Date.parse("2026-01-01T00:00:00Z");
  const clock = { now: () => now, sleep: () => Promise.resolve() };
  const cache = createDiskCache(cacheDirOf(dataDir), { clock });
  const entry = { status: "corrected", corrected: "fix the bug", model: "m" };
  await cache.put("a".repeat(64), { ...entry, at: now });
  now += 40 * 86_400_000;
  await cache.put("b".repeat(64), { ...entry, at: now });
  const cli = async (...args: string[]) => {
    const output = recordingOutput();
    const code = await main(["cache", ...args, "--data-dir", dataDir, "--json"], { output, clock });
    return { code, result: code === 0 ? JSON.parse(output.stdout[0]) : output.stderr[0] };
  };
  assertEquals((await cli("stats")).result.entries, 2);
  assertEquals((await cli("prune", "--older-than", "30d")).result.removed, 1);
  assertEquals((await cli("clear")).result.removed, 1);
  assertEquals((await cli("stats")).result.entries, 0);
  assertEquals((await cli("prune")).code, 2);
  assertEquals((await cli("explode")).code, 2);
});
