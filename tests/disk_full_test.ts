// A full disk at each write of a run: the data dir is a small tmpfs, swept from a few KiB (the lock file
// cannot be written) up to the size a whole run needs, so the disk fills at every write in turn (staged
// tables, manifest, the DuckDB file and its WAL, the state generation, the commit record). Each time the
// run must stop with one clear line (exit 3, never "unexpected error"), and once space is back a plain
// rerun must end with the same tables as a run that never saw a full disk.
//
// Mounting needs root (CI and the dev machines run tests as root); elsewhere the test says why it did not run.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { DuckDbSink } from "../src/sinks/duckdb.ts";
import { assistantLine, jsonl, userPrompt } from "../src/testing/records.ts";
import { writeTree } from "../src/testing/write_tree.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"];

function corpus(): Record<string, string> {
  const lines = (id: string) =>
    jsonl(
      Array.from({ length: 40 }, (_, i) => [
        userPrompt(`prompt ${i} of ${id} with teh usual typo`, { uuid: `${id}-p${i}`, sessionId: id }),
        assistantLine(`m_${id}_${i}`, `r_${id}_${i}`, { input: i, output: 2 * i }, {
          uuid: `${id}-a${i}`,
          sessionId: id,
        }),
      ]).flat(),
    );
  return { "projects/-home-a/s1.jsonl": lines("s1"), "projects/-home-b/s2.jsonl": lines("s2") + "{broken\n" };
}

async function sh(command: string, args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, err: (error as Error).message };
  }
}

async function run(sources: string, dataDir: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      ...PERMISSIONS,
      MAIN,
      "run",
      "--source",
      sources,
      "--data-dir",
      dataDir,
      "--no-llm",
      "--json",
    ],
    env: { NO_COLOR: "1", CCPIPE_FAULT_POINT: "" },
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
}

async function tables(dataDir: string): Promise<Record<string, unknown[]>> {
  await using db = await DuckDbSink.open({ path: join(dataDir, "ccpipe.duckdb") });
  return {
    messages: await db.query("SELECT * EXCLUDE (run_id) FROM messages ORDER BY uuid"),
    usage: await db.query("SELECT * EXCLUDE (run_id) FROM usage ORDER BY usage_key"),
    sessions: await db.query("SELECT * EXCLUDE (run_id) FROM sessions ORDER BY session_id"),
    rejects: await db.query("SELECT * EXCLUDE (run_id) FROM rejects ORDER BY reject_key"),
  };
}

Deno.test("a full disk at each write stops the run with one clear line, and a rerun with space completes it", async () => {
  await using tree = await writeTree(corpus());
  const sources = tree.join("projects");
  const clean = tree.join("clean");
  assertEquals((await run(sources, clean)).code, 0);
  const expected = await tables(clean);
  assertEquals([
    expected.messages.length,
    expected.usage.length,
    expected.sessions.length,
    expected.rejects.length,
  ], [
    160,
    80,
    2,
    1,
  ]);

  const mount = tree.join("mnt");
  await Deno.mkdir(mount);
  const mounted = await sh("mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", mount]);
  if (!mounted.ok) {
    console.log(`disk-full test not run: cannot mount a tmpfs here (${mounted.err})`);
    return;
  }
  const messages = new Set<string>();
  try {
    let completed = false;
    for (let kib = 4; !completed && kib <= 64 * 1024; kib = Math.ceil(kib * 1.5 / 4) * 4) {
      const dataDir = join(mount, `d${kib}`);
      assert((await sh("mount", ["-o", `remount,size=${kib}k`, mount])).ok);
      const full = await run(sources, dataDir);
      if (full.code === 0) {
        completed = true;
      } else {
        assertEquals(full.code, 3, `${kib} KiB: ${full.stderr}`);
        const lines = full.stderr.split("\n");
        assertEquals(lines.length, 1, `${kib} KiB: ${full.stderr}`);
        assert(/disk is full/.test(lines[0]), `${kib} KiB: ${lines[0]}`);
        messages.add(lines[0].replace(/d\d+/g, "d#").replace(/'[^']*'/g, "'…'"));
      }
      // Space is back: a plain rerun finishes the job.
      assert((await sh("mount", ["-o", "remount,size=64m", mount])).ok);
      const rerun = await run(sources, dataDir);
      assertEquals(rerun.code, 0, `${kib} KiB rerun: ${rerun.stderr}`);
      assertEquals(await tables(dataDir), expected, `${kib} KiB`);
      await Deno.remove(dataDir, { recursive: true });
    }
    assert(completed, "no size was large enough for a whole run");
    console.log(`disk full at ${messages.size} distinct points:\n  ${[...messages].join("\n  ")}`);
    assert(messages.size >= 3, [...messages].join("\n"));
  } finally {
    await sh("umount", [mount]);
  }
});
