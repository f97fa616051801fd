// Fault injection: real `ccpipe run` child processes, under `deno task ccpipe`'s permissions, killed with
// SIGKILL at each step of a run (src/fault_point.ts names the steps), then rerun plainly, with no manual
// cleanup. Every rerun must end with tables equal to an uninterrupted run's and every prompt corrected.
//
// The scenario is the unattended one: a first run without a key (prompts wait in the pending list), more
// lines appended, then a run with a key that is killed; Gemini is the mock (mocks/gemini.ts) served over
// real HTTP on 127.0.0.1, so the child reaches it through `--gemini-endpoint`.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { getResponse } from "msw";
import { createGeminiMock, type GeminiMock } from "../mocks/gemini.ts";
import { FAULT_POINT_MESSAGE, FaultPoints } from "../src/fault_point.ts";
import { DuckDbSink } from "../src/sinks/duckdb.ts";
import { assistantLine, jsonl, userPrompt } from "../src/testing/records.ts";
import { type Tree, writeTree } from "../src/testing/write_tree.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
// `deno task ccpipe`'s permissions, the network narrowed to the loopback mock.
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  "--allow-net=127.0.0.1",
];

function session(id: string, texts: string[], from: number): string {
  const lines = texts.flatMap((text, i) => [
    userPrompt(text, {
      uuid: `${id}-p${from + i}`,
      sessionId: id,
      timestamp: `2026-05-02T09:${String(from + i).padStart(2, "0")}:00.000Z`,
    }),
    assistantLine(`msg_${id}_${from + i}`, `req_${id}_${from + i}`, { input: 10 + i, output: 20 + i }, {
      uuid: `${id}-a${from + i}`,
      sessionId: id,
      timestamp: `2026-05-02T09:${String(from + i).padStart(2, "0")}:30.000Z`,
    }),
  ]);
  return jsonl(lines);
}

const PART_1 = {
  "projects/-home-a-proj/s1.jsonl": session("s1", ["fix teh loader", "yes"], 0) +
    '{"type":"user","uuid":"x","mess\n',
  "projects/-home-a-proj/s2.jsonl": session("s2", ["recieve the invoice and seperate the lines"], 0),
};
const PART_2 = {
  "projects/-home-a-proj/s1.jsonl": session("s1", ["untill it works", "wich test fails?"], 2) + "\n",
  "projects/-home-b/s3.jsonl": session("s3", [
    "add a retry becuase it times out",
    "<command-name>/clear</command-name>",
  ], 0),
};

interface Child {
  code: number;
  signal: Deno.Signal | null;
  stderr: string;
}

class Harness {
  readonly root: string;
  readonly sources: string;
  #endpoint: string;

  constructor(root: string, endpoint: string) {
    this.root = root;
    this.sources = join(root, "projects");
    this.#endpoint = endpoint;
  }

  /** The running child, while `run()` runs. */
  child: Deno.ChildProcess | null = null;

  /** Runs `ccpipe run` to the end (or, with `killAt`, until that point, then SIGKILLs it). */
  async run(dataDir: string, options: { killAt?: string; llm?: boolean } = {}): Promise<Child> {
    const llm = options.llm ?? true;
    const child = new Deno.Command("deno", {
      args: [
        "run",
        ...PERMISSIONS,
        MAIN,
        "run",
        "--source",
        this.sources,
        "--data-dir",
        dataDir,
        "--json",
        ...(llm ? ["--gemini-endpoint", this.#endpoint, "--max-retries", "0"] : ["--no-llm"]),
      ],
      env: { GEMINI_API_KEY: "test-key", CCPIPE_FAULT_POINT: options.killAt ?? "", NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    let stderr = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (options.killAt && stderr.includes(`${FAULT_POINT_MESSAGE} ${options.killAt}`)) {
        child.kill("SIGKILL");
        break;
      }
    }
    const status = await child.status;
    this.child = null;
    return { code: status.code, signal: status.signal, stderr };
  }
}

/** Every data table, ordered by key, without the columns that name the run that wrote a row. */
async function tables(dataDir: string): Promise<Record<string, unknown[]>> {
  await using db = await DuckDbSink.open({ path: join(dataDir, "ccpipe.duckdb") });
  return {
    messages: await db.query(
      "SELECT * EXCLUDE (run_id) FROM messages ORDER BY uuid",
    ),
    usage: await db.query("SELECT * EXCLUDE (run_id) FROM usage ORDER BY usage_key"),
    sessions: await db.query("SELECT * EXCLUDE (run_id) FROM sessions ORDER BY session_id"),
    rejects: await db.query("SELECT * EXCLUDE (run_id) FROM rejects ORDER BY reject_key"),
  };
}

async function statuses(dataDir: string): Promise<Record<string, string>> {
  await using db = await DuckDbSink.open({ path: join(dataDir, "ccpipe.duckdb") });
  const rows = await db.query(
    "SELECT uuid, correction_status FROM messages WHERE kind IN ('human_prompt', 'slash_command') ORDER BY uuid",
  );
  return Object.fromEntries(rows.map((r) => [r.uuid as string, r.correction_status as string]));
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.name === ".lock") continue;
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

function serveGemini():
  & { endpoint: string; mock: () => GeminiMock; onRequest: { hook: (() => void) | null } }
  & AsyncDisposable {
  let mock: GeminiMock | null = null;
  const onRequest: { hook: (() => void) | null } = { hook: null };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    onRequest.hook?.();
    return (await getResponse(mock!.handlers, request)) ?? new Response("unhandled", { status: 501 });
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  mock = createGeminiMock({ baseUrls: [endpoint] });
  return {
    endpoint,
    mock: () => mock!,
    onRequest,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * Builds the two data dirs both kill tests start from: `template` has loaded part 1 without a key, and
 * `clean` is its copy; part 2 is then appended to the sources (new lines, one new file).
 */
async function startingPoint(tree: Tree, h: Harness): Promise<{ template: string; clean: string }> {
  const template = tree.join("template");
  assertEquals((await h.run(template, { llm: false })).code, 0);
  for (const [path, text] of Object.entries(PART_2)) {
    await Deno.mkdir(tree.join(path, ".."), { recursive: true });
    await Deno.writeTextFile(tree.join(path), text, { append: true });
  }
  const clean = tree.join("clean");
  await copyDir(template, clean);
  return { template, clean };
}

Deno.test("a run killed with SIGKILL at any step is completed by a plain rerun: same tables, every prompt corrected", async () => {
  await using tree = await writeTree(PART_1);
  await using gemini = serveGemini();
  const h = new Harness(tree.path, gemini.endpoint);
  const { template, clean } = await startingPoint(tree, h);
  const first = await h.run(clean);
  assertEquals([first.code, first.stderr], [0, ""]);
  const expected = await tables(clean);
  // Written by hand: 7 typed prompts and 1 slash command, each with its assistant answer; the stub line.
  assertEquals(await statuses(clean), {
    "s1-p0": "corrected",
    "s1-p1": "unchanged_local",
    "s1-p2": "corrected",
    "s1-p3": "corrected",
    "s2-p0": "corrected",
    "s3-p0": "corrected",
    "s3-p1": null as unknown as string,
  });
  assertEquals(
    [expected.messages.length, expected.usage.length, expected.sessions.length, expected.rejects.length],
    [14, 7, 3, 1],
  );

  const outcomes: string[] = [];
  for (const point of FaultPoints) {
    const dataDir = tree.join(`killed-${point}`);
    await copyDir(template, dataDir);
    const killed = await h.run(dataDir, { killAt: point });
    assertEquals(killed.signal, "SIGKILL", `${point}: ${killed.stderr}`);
    const rerun = await h.run(dataDir);
    assertEquals([rerun.code, rerun.stderr], [0, ""], point);
    assertEquals(await tables(dataDir), expected, point);
    assertEquals(await statuses(dataDir), await statuses(clean), point);
    // And the state is whole: one more run finds nothing new and changes nothing.
    assertEquals((await h.run(dataDir)).code, 0, point);
    assertEquals(await tables(dataDir), expected, `${point}, third run`);
    outcomes.push(point);
  }
  assertEquals(outcomes, [...FaultPoints]);
  assert(gemini.mock().calls.length > 0);
});

// Issue 9, item 4: a run without a key queues its prompts in the committed state. Killed anywhere in its
// commit, the prompts must neither be lost nor queued twice: a rerun without a key, then a run with one,
// must correct every prompt and end with the tables of a run that was never killed.
Deno.test("a run without a key killed in its commit loses no waiting prompt", async () => {
  await using tree = await writeTree(PART_1);
  await using gemini = serveGemini();
  const h = new Harness(tree.path, gemini.endpoint);
  const { template, clean } = await startingPoint(tree, h);
  assertEquals((await h.run(clean, { llm: false })).code, 0);
  assertEquals((await h.run(clean)).code, 0);
  const expected = await tables(clean);
  for (const point of ["loaded", "commit.files", "commit.record"]) {
    const dataDir = tree.join(`killed-${point}`);
    await copyDir(template, dataDir);
    assertEquals((await h.run(dataDir, { killAt: point, llm: false })).signal, "SIGKILL", point);
    assertEquals((await h.run(dataDir, { llm: false })).code, 0, point);
    const withKey = await h.run(dataDir);
    assertEquals([withKey.code, withKey.stderr], [0, ""], point);
    assertEquals(await tables(dataDir), expected, point);
    assertEquals(await statuses(dataDir), await statuses(clean), point);
  }
});

// SIGTERM (systemd's stop, `timeout`) while Stage 4 waits on Gemini: the run stops with exit code 130 and
// releases its lock, and a plain rerun completes it.
Deno.test("SIGTERM during a run exits 130, commits nothing, and the rerun completes", async () => {
  await using tree = await writeTree({ ...PART_1 });
  await using gemini = serveGemini();
  const h = new Harness(tree.path, gemini.endpoint);
  const clean = tree.join("clean");
  assertEquals((await h.run(clean)).code, 0);
  const dataDir = tree.join("terminated");
  gemini.onRequest.hook = () => {
    gemini.onRequest.hook = null;
    h.child?.kill("SIGTERM");
  };
  const terminated = await h.run(dataDir);
  assertEquals([terminated.code, terminated.stderr.trim()], [
    130,
    "ccpipe: interrupted; nothing was committed that a rerun cannot redo",
  ]);
  const rerun = await h.run(dataDir);
  assertEquals([rerun.code, rerun.stderr], [0, ""]);
  assertEquals(await tables(dataDir), await tables(clean));
});
