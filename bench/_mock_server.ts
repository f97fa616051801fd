/**
 * The Gemini and BigQuery mocks served over HTTP on 127.0.0.1 from their own process, so the process
 * being measured carries none of the mocks' cost: neither their CPU (MSW matching, the typo fixer,
 * the SQL engine) nor their memory (the call log, the BigQuery warehouse holding every row). A real
 * service is remote too. The clients reach it through their endpoint overrides.
 *
 * Child mode (`deno run ... bench/_mock_server.ts '<GeminiMockOptions JSON>'`) prints `PORT <n>` once
 * listening and answers four control routes besides the mocks: `GET /__stats` (counters, peak RSS),
 * `POST /__configure` (Gemini options, e.g. latency or quotas; resets the Gemini mock),
 * `POST /__configure_bigquery` (BigQuery options such as faults; the warehouse is kept) and `POST /__reset`.
 *
 * @module
 */
import { getResponse } from "msw";
import { type BigQueryMockOptions, createBigQueryMock } from "../mocks/bigquery.ts";
import { createGeminiMock, type GeminiMockOptions } from "../mocks/gemini.ts";

/** Counters a served mock reports at `/__stats`. */
export interface MockServerStats {
  gemini: { requests: number; ok: number; rateLimited: number; items: number; maxConcurrent: number };
  bigquery: { loadJobs: number; queryJobs: number; streamingInserts: number; bytesBilled: number };
  /** Peak resident set size of the mock's process, in bytes. */
  peakRss: number;
}

/** A mock server running in a child process. */
export interface ServedMocks extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the Gemini and BigQuery endpoint override. */
  readonly url: string;
  /** Reads the mocks' counters. */
  stats(): Promise<MockServerStats>;
  /**
   * Replaces the Gemini mock with a fresh one (log, counters and quota windows cleared).
   *
   * @param options Gemini mock options (JSON-serialisable: no `now`).
   * @param timeScale Mock seconds per real second for the quota windows, e.g. 30 makes a 60 s window last 2 s.
   */
  configureGemini(options: GeminiMockOptions, timeScale?: number): Promise<void>;
  /**
   * Changes BigQuery mock options (faults, quotas); the warehouse and the call log are kept.
   *
   * @param options JSON-serialisable BigQuery mock options (no `now`, no `baseUrls`).
   */
  configureBigQuery(options: Omit<BigQueryMockOptions, "now" | "baseUrls">): Promise<void>;
}

/** Permissions the mock server child needs. */
// "deno" from PATH, not Deno.execPath(): `--allow-run=deno` grants the PATH name (here /usr/bin/deno
// links to another file, which the permission would not cover).
const DENO = "deno";
const CHILD_FLAGS = [
  "--unstable-no-legacy-abort",
  "--allow-read",
  "--allow-env",
  "--allow-sys",
  // The BigQuery mock runs SQL on an in-memory DuckDB.
  "--allow-ffi",
  "--allow-net=127.0.0.1",
];

/**
 * Starts the mocks in a child process and waits until it listens.
 *
 * @param gemini Options of the Gemini mock (JSON-serialisable: no `now`).
 * @returns The running server; dispose it to stop the child.
 * @throws {Error} When the child ends before listening.
 */
export async function serveMocks(gemini: GeminiMockOptions = {}): Promise<ServedMocks> {
  const child = new Deno.Command(DENO, {
    args: ["run", ...CHILD_FLAGS, import.meta.filename!, JSON.stringify(gemini)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/PORT \d+\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot serve the mocks as the mock server ended before listening");
    out += value;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  const url = `http://127.0.0.1:${/PORT (\d+)/.exec(out)![1]}`;
  return {
    url,
    async stats() {
      return await (await fetch(`${url}/__stats`)).json() as MockServerStats;
    },
    async configureGemini(options, timeScale = 1) {
      const body = JSON.stringify({ options, timeScale });
      const response = await fetch(`${url}/__configure`, { method: "POST", body });
      await response.body?.cancel();
    },
    async configureBigQuery(options) {
      const response = await fetch(`${url}/__configure_bigquery`, {
        method: "POST",
        body: JSON.stringify(options),
      });
      await response.body?.cancel();
    },
    async [Symbol.asyncDispose]() {
      await child.stdin.close().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch {
        // Already ended.
      }
      await child.status;
    },
  };
}

/** A clock that runs `scale` times faster than real time from now on. */
function scaledNow(scale: number): () => number {
  const start = Date.now();
  return () => start + (Date.now() - start) * scale;
}

/** Child mode: serves both mocks until killed. */
function main(geminiOptions: GeminiMockOptions): void {
  let peakRss = 0;
  let gemini = createGeminiMock(geminiOptions);
  const bigquery = createBigQueryMock({ jobPollsUntilDone: 1 });
  let base = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/__stats") {
      const g = gemini.counters();
      const b = bigquery.counters();
      const stats: MockServerStats = {
        gemini: {
          requests: g.requests,
          ok: g.ok,
          rateLimited: g.rateLimited,
          items: g.items,
          maxConcurrent: g.maxConcurrent,
        },
        bigquery: {
          loadJobs: b.loadJobs,
          queryJobs: b.queryJobs,
          streamingInserts: b.streamingInserts,
          bytesBilled: b.bytesBilled,
        },
        peakRss: Math.max(peakRss, Deno.memoryUsage().rss),
      };
      return Response.json(stats);
    }
    if (pathname === "/__configure") {
      const { options, timeScale } = await request.json() as {
        options: GeminiMockOptions;
        timeScale: number;
      };
      gemini = createGeminiMock({ ...options, baseUrls: [base], now: scaledNow(timeScale) });
      return new Response("ok");
    }
    if (pathname === "/__configure_bigquery") {
      bigquery.configure(await request.json() as BigQueryMockOptions);
      return new Response("ok");
    }
    if (pathname === "/__reset") {
      gemini.reset();
      bigquery.reset();
      return new Response("ok");
    }
    const response = await getResponse([...gemini.handlers, ...bigquery.handlers], request);
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    return response ?? new Response(`unhandled ${request.method} ${pathname}`, { status: 501 });
  });
  const { port } = server.addr as Deno.NetAddr;
  base = `http://127.0.0.1:${port}`;
  gemini = createGeminiMock({ ...geminiOptions, baseUrls: [base] });
  bigquery.configure({ baseUrls: [base] });
  console.log(`PORT ${port}`);
  // End with the parent: its end closes our stdin (`Deno.exit` in the parent does not kill children).
  void (async () => {
    for await (const _ of Deno.stdin.readable) { /* ignore */ }
    Deno.exit(0);
  })();
}

if (import.meta.main) main(JSON.parse(Deno.args[0] ?? "{}"));
