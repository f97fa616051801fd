import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { InputError } from "../errors.ts";
import { writeTree } from "../testing/write_tree.ts";
import { FingerprintSet } from "./fingerprint_set.ts";
import {
  commitState,
  describeWriteError,
  emptyState,
  loadState,
  setStateAside,
  StateCorruptError,
} from "./state_store.ts";

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
  await assertRejects(
    () => loadState(dir),
    (error: unknown) => (error as Error).cause instanceof SyntaxError,
  );
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
  assertEquals((await Deno.stat(aside!)).mode! & 0o777, 0o700);
  assertEquals(await names(dir), ["bigquery_jobs.json", "set-aside-20260101T000000Z"]);
  assertEquals((await loadState(dir)).generation, 0);
  assertEquals(await setStateAside(tree.join("nowhere"), "x"), null);
});

/** Rewrites one committed file and seals the commit record over it again, as ccpipe would have. */
async function replaceSealed(stateDir: string, name: string, contents: string | null) {
  const record = JSON.parse(await Deno.readTextFile(`${stateDir}/COMMIT`));
  delete record.checksum;
  const part = name.split(".")[0];
  if (contents === null) {
    record.files[part] = null;
  } else {
    const bytes = new TextEncoder().encode(contents);
    await Deno.writeFile(`${stateDir}/${name}`, bytes);
    record.files[part] = {
      name,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  }
  const body = JSON.stringify(record);
  const checksum = createHash("sha256").update(body).digest("hex");
  await Deno.writeTextFile(`${stateDir}/COMMIT`, JSON.stringify({ ...record, checksum }));
}

function corrupt(dir: string, what: string) {
  return (error: unknown) => {
    assert(error instanceof StateCorruptError, String(error));
    assertEquals(
      error.message,
      `Cannot use the state in ${dir} as ${what}: run 'ccpipe repair --data-dir ${
        dir.slice(0, dir.lastIndexOf("/"))
      }' to set it aside; the next run then rereads every transcript (loads are idempotent, no row is duplicated)`,
    );
    return true;
  };
}

Deno.test("commitState() seals a record naming its format, version and files", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  const record = JSON.parse(await Deno.readTextFile(`${dir}/COMMIT`));
  assertEquals([record.format, record.version, record.generation], ["ccpipe-state", 2, 1]);
  assertEquals(Object.keys(record.files), ["watermarks", "seen", "turns", "pending"]);
  assertEquals(record.files.turns.name, "turns.1.json");
  assertEquals(record.files.turns.bytes, '{"s1":3}'.length);
});

Deno.test("loadState() names a missing or altered file, the pending list included", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  await Deno.rename(`${dir}/turns.1.json`, `${dir}/turns.away`);
  await assertRejects(() => loadState(dir), corrupt(dir, "turns.1.json is missing"));
  await Deno.rename(`${dir}/turns.away`, `${dir}/turns.1.json`);
  await Deno.writeTextFile(`${dir}/turns.1.json`, '{"s1":4}'); // same size, other bytes
  await assertRejects(() => loadState(dir), corrupt(dir, "turns.1.json does not match its checksum"));
  await Deno.writeTextFile(`${dir}/turns.1.json`, '{"s1":3}');
  await Deno.writeTextFile(`${dir}/pending.1.ndjson`, '{"uuid":"p2"}\n'); // same size, other bytes
  await assertRejects(() => loadState(dir), corrupt(dir, "pending.1.ndjson does not match its checksum"));
  await Deno.writeTextFile(`${dir}/pending.1.ndjson`, '{"uuid":"p1"}\n{"uuid":"p2"}\n'); // longer
  await assertRejects(() => loadState(dir), corrupt(dir, "pending.1.ndjson does not match its checksum"));
  await Deno.remove(`${dir}/pending.1.ndjson`);
  await assertRejects(() => loadState(dir), corrupt(dir, "pending.1.ndjson is missing"));
});

Deno.test("loadState() refuses sealed files whose contents are not state, and other versions", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  await committedOnce(dir);
  await replaceSealed(dir, "turns.1.json", "[1, 2]");
  await assertRejects(() => loadState(dir), corrupt(dir, "turns.1.json is not valid JSON"));
  await replaceSealed(dir, "turns.1.json", "null");
  await assertRejects(() => loadState(dir), corrupt(dir, "turns.1.json is not valid JSON"));
  await replaceSealed(dir, "turns.1.json", "42");
  await assertRejects(() => loadState(dir), (error: unknown) => {
    corrupt(dir, "turns.1.json is not valid JSON")(error);
    assertEquals((error as Error & { cause: Error }).cause.message, "not an object");
    return true;
  });
  await replaceSealed(dir, "turns.1.json", "{");
  await assertRejects(
    () => loadState(dir),
    (error: unknown) => (error as Error).cause instanceof SyntaxError,
  );
  await replaceSealed(dir, "turns.1.json", '{"s1":3}');
  await replaceSealed(dir, "seen.1.bin", "123");
  await assertRejects(
    () => loadState(dir),
    corrupt(
      dir,
      "seen.1.bin is corrupt (Cannot restore fingerprint set as its size must be a power-of-two table: current size is 3 bytes)",
    ),
  );
  await assertRejects(() => loadState(dir), (error: unknown) => (error as Error).cause instanceof RangeError);
  // Files the record does not name are empty state; the record's own fields come through.
  await replaceSealed(dir, "seen.1.bin", null);
  await replaceSealed(dir, "turns.1.json", null);
  await replaceSealed(dir, "watermarks.1.json", null);
  await replaceSealed(dir, "pending.1.ndjson", null);
  const state = await loadState(dir);
  assertEquals([state.generation, state.watermarks.size, state.seen.size, state.turns.size, state.pending], [
    1,
    0,
    0,
    0,
    null,
  ]);
  assertEquals(state.lastLoad, { runId: "r1", sink: "duckdb", location: "/d/ccpipe.duckdb" });
  const record = JSON.parse(await Deno.readTextFile(`${dir}/COMMIT`));
  await Deno.writeTextFile(`${dir}/COMMIT`, JSON.stringify({ ...record, version: 3 }));
  await assertRejects(() => loadState(dir), corrupt(dir, "COMMIT has version 3, this ccpipe reads 2"));
  for (const text of ["null", "42", '{"version":2}']) {
    await Deno.writeTextFile(`${dir}/COMMIT`, text);
    await assertRejects(() => loadState(dir), corrupt(dir, "COMMIT is not a ccpipe state record"));
  }
});

Deno.test("loadState() explains a state file it cannot read, keeping the cause", async () => {
  await using tree = await writeTree({ "state/COMMIT/": "" });
  const dir = tree.join("state");
  await assertRejects(() => loadState(dir), (error: unknown) => {
    assert(error instanceof InputError && !(error instanceof StateCorruptError));
    assert(error.message.startsWith(`Cannot read state file ${dir}/COMMIT: `), error.message);
    assert(error.cause instanceof Error);
    return true;
  });
});

Deno.test("commitState() without a pending list, or keeping none, commits none", async () => {
  await using tree = await writeTree({ "state/": "" });
  const dir = tree.join("state");
  const change = { watermarks: new Map(), seen: new FingerprintSet(16), turns: new Map(), lastLoad: null };
  await commitState(dir, emptyState(), { ...change, pending: null });
  assertEquals((await loadState(dir)).pending, null);
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/COMMIT`)).files.pending, null);
  await commitState(dir, await loadState(dir), { ...change, pending: "keep" });
  const state = await loadState(dir);
  assertEquals([state.generation, state.pending], [2, null]);
  assertEquals(await names(dir), ["COMMIT", "seen.2.bin", "turns.2.json", "watermarks.2.json"]);
});

Deno.test("commitState() removes only its own stale files", async () => {
  await using tree = await writeTree({
    "state/watermarks.12.json": "{}",
    "state/xwatermarks.1.json": "{}",
    "state/COMMIT.bak": "{}",
    "state/seen.1.bin.tmp": "",
    "state/seen_uuids.bin": "",
  });
  const dir = tree.join("state");
  const change = { watermarks: new Map(), seen: new FingerprintSet(16), turns: new Map(), lastLoad: null };
  await commitState(dir, emptyState(), { ...change, pending: null });
  assertEquals(await names(dir), [
    "COMMIT",
    "COMMIT.bak",
    "seen.1.bin",
    "seen.1.bin.tmp",
    "turns.1.json",
    "watermarks.1.json",
    "xwatermarks.1.json",
  ]);
});

Deno.test("commitState() says why it cannot write, keeping the cause", async () => {
  await using tree = await writeTree({ "state": "a file, not a folder" });
  const dir = tree.join("state");
  const change = { watermarks: new Map(), seen: new FingerprintSet(16), turns: new Map(), lastLoad: null };
  await assertRejects(
    () => commitState(dir, emptyState(), { ...change, pending: null }),
    (error: unknown) => {
      assert(error instanceof InputError);
      assert(error.message.startsWith(`Cannot save the state in ${dir}: `), error.message);
      // Named from the root cause, not from the watermarks' own wrapper.
      assert(
        !error.message.includes("os error") && !error.message.includes("Cannot save watermarks"),
        error.message,
      );
      assert(error.cause instanceof Error);
      return true;
    },
  );
});

Deno.test("setStateAside() does nothing without state files, and passes on other errors", async () => {
  await using tree = await writeTree({ "state/bigquery_jobs.json": "{}", "file": "x" });
  assertEquals(await setStateAside(tree.join("state"), "x"), null);
  assertEquals(await names(tree.join("state")), ["bigquery_jobs.json"]);
  await assertRejects(() => setStateAside(tree.join("file"), "x"));
});

Deno.test("loadState() of the first format without a pending list has none", async () => {
  await using tree = await writeTree({ "state/turns.json": '{"s1":2}' });
  const state = await loadState(tree.join("state"));
  assertEquals([state.pending, [...state.turns]], [null, [["s1", 2]]]);
});

Deno.test("describeWriteError() names a full disk and an exceeded quota, and drops the OS error number", () => {
  assertEquals(
    describeWriteError(Object.assign(new Error("x"), { code: "ENOSPC" })),
    "the disk is full (no space left on device)",
  );
  assertEquals(
    describeWriteError(Object.assign(new Error("x"), { code: "EDQUOT" })),
    "the disk quota is exceeded",
  );
  assertEquals(
    describeWriteError(new Error("Permission denied (os error 13): open '/x/y'")),
    "Permission denied",
  );
  assertEquals(describeWriteError(new Error("Not a directory (os error 20)")), "Not a directory");
  assertEquals(describeWriteError("plain words (os error x)"), "plain words (os error x)");
  assertEquals(describeWriteError(null), "null");
});
