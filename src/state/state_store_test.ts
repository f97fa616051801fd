import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { writeTree } from "../testing/write_tree.ts";
import { FingerprintSet } from "./fingerprint_set.ts";
import { commitState, emptyState, loadState, setStateAside, StateCorruptError } from "./state_store.ts";

const mark = { path: "/p/s.jsonl", size: 10, mtimeMs: 1, offset: 10, lines: 1, headHash: "00" };

async function committedOnce(stateDir: string) {
  const seen = new FingerprintSet(16);
  seen.add("u1");
  seen.add("u2");
  const pending = `${stateDir}/../pending-in.ndjson`;
  await Deno.writeTextFile(pending, '{"uuid":"p1"}\n');
  await commitState(stateDir, emptyState(), {
    watermarks: new Map([[mark.path, mark]]),
    seen,
    turns: new Map([["s1", 3]]),
    pending,
    lastLoad: { runId: "r1", sink: "duckdb", location: "/d/ccpipe.duckdb" },
  });
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("commitState() writes one generation that loadState() reads back whole", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  const state = await loadState(dir);
  assertEquals(state.generation, 1);
  assertEquals([...state.watermarks.values()], [mark]);
  assertEquals([state.seen.size, state.seen.has("u1"), state.seen.has("u3")], [2, true, false]);
  assertEquals([...state.turns], [["s1", 3]]);
  assertEquals(state.lastLoad, { runId: "r1", sink: "duckdb", location: "/d/ccpipe.duckdb" });
  assertEquals(await Deno.readTextFile(state.pending!), '{"uuid":"p1"}\n');
  assertEquals(await names(dir), [
    "COMMIT",
    "pending.1.ndjson",
    "seen.1.bin",
    "turns.1.json",
    "watermarks.1.json",
  ]);
  for (const name of await names(dir)) {
    assertEquals((await Deno.stat(`${dir}/${name}`)).mode! & 0o777, 0o600, name);
  }

  // The next generation keeps the pending list as is and removes the old files.
  await commitState(dir, state, { ...state, pending: "keep" });
  assertEquals(await names(dir), [
    "COMMIT",
    "pending.1.ndjson",
    "seen.2.bin",
    "turns.2.json",
    "watermarks.2.json",
  ]);
  assertEquals((await loadState(dir)).generation, 2);
});

Deno.test("loadState() refuses random bytes of the right size in the seen set, naming the way out", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  const size = (await Deno.stat(`${dir}/seen.1.bin`)).size;
  await Deno.writeFile(`${dir}/seen.1.bin`, crypto.getRandomValues(new Uint8Array(size)));
  await assertRejects(() => loadState(dir), (error: unknown) => {
    assert(error instanceof StateCorruptError);
    assertEquals(
      error.message,
      `Cannot use the state in ${dir} as seen.1.bin does not match its checksum: run 'ccpipe repair --data-dir ${tree.path}' to set it aside; the next run then rereads every transcript (loads are idempotent, no row is duplicated)`,
    );
    assertEquals(error.exitCode, 3);
    return true;
  });
});

Deno.test("loadState() refuses a commit record that was altered or is not ccpipe's", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  const text = await Deno.readTextFile(`${dir}/COMMIT`);
  await Deno.writeTextFile(`${dir}/COMMIT`, text.replace('"generation":1', '"generation":7'));
  await assertRejects(() => loadState(dir), /COMMIT does not match its checksum/);
  await Deno.writeTextFile(`${dir}/COMMIT`, "\u0000garbage");
  await assertRejects(() => loadState(dir), /COMMIT is not valid JSON/);
  await Deno.writeTextFile(`${dir}/COMMIT`, '{"format":"other"}');
  await assertRejects(() => loadState(dir), /COMMIT is not a ccpipe state record/);
});

Deno.test("loadState() refuses a first-format seen set of random bytes instead of looping for ever", async () => {
  // 8 KiB of random bytes: a power-of-two table, so only its fill gives it away.
  await using tree = await writeTree({ "state/": "" });
  await Deno.writeFile(tree.join("state/seen_uuids.bin"), crypto.getRandomValues(new Uint8Array(8192)));
  await assertRejects(() => loadState(tree.join("state")), /seen_uuids\.bin is corrupt .*at most half full/);
});

Deno.test("loadState() reads the first state format, and the first commit replaces it", async () => {
  const seen = new FingerprintSet(16);
  seen.add("u1");
  await using tree = await writeTree({
    "state/watermarks.json": JSON.stringify({ version: 1, files: [mark] }),
    "state/turns.json": '{"s1":2}',
    "state/pending_prompts.ndjson": '{"uuid":"p0"}\n',
    "state/bigquery_jobs.json": "{}",
  });
  const dir = tree.join("state");
  await Deno.writeFile(`${dir}/seen_uuids.bin`, seen.toBytes());
  const state = await loadState(dir);
  assertEquals([state.generation, state.seen.has("u1"), [...state.turns]], [0, true, [["s1", 2]]]);
  await commitState(dir, state, { ...state, pending: "keep" });
  assertEquals(await names(dir), [
    "COMMIT",
    "bigquery_jobs.json",
    "pending_prompts.ndjson",
    "seen.1.bin",
    "turns.1.json",
    "watermarks.1.json",
  ]);
  assertEquals(await Deno.readTextFile((await loadState(dir)).pending!), '{"uuid":"p0"}\n');
});

Deno.test("setStateAside() moves only the state files and leaves an empty state behind", async () => {
  await using tree = await writeTree({ "state/bigquery_jobs.json": "{}" });
  const dir = tree.join("state");
  await committedOnce(dir);
  const aside = await setStateAside(dir, "20260101T000000Z");
  assertEquals(aside, `${dir}/set-aside-20260101T000000Z`);
  assertEquals(await names(dir), ["bigquery_jobs.json", "set-aside-20260101T000000Z"]);
  assertEquals((await loadState(dir)).generation, 0);
  assertEquals(await setStateAside(tree.join("nowhere"), "x"), null);
});
