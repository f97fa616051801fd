/**
 * The MSW mocks of the remote services ccpipe talks to — Gemini and BigQuery — behind one server that
 * treats every unhandled request as an error. See GEMINI.md and BIGQUERY.md for the options and for
 * what the mocks do not reproduce.
 *
 * @example Both services, disposed at scope end
 * ```ts
 * import { startMocks } from "./mod.ts";
 * using mocks = startMocks({ gemini: { latency: { kind: "fixed", ms: 5 } }, bigquery: {} });
 * if (mocks.gemini.calls.length !== 0) throw new Error("fresh mock has calls");
 * ```
 *
 * @module
 */
import { setupServer } from "msw/node";
import { type BigQueryMock, type BigQueryMockOptions, createBigQueryMock } from "./bigquery.ts";
import { createGeminiMock, type GeminiMock, type GeminiMockOptions } from "./gemini.ts";

export * from "./bigquery.ts";
export * from "./gemini.ts";

/** Which mocks to start, with their options. Omitted (or `false`) means not started. */
export interface StartMocksOptions {
  gemini?: GeminiMockOptions | false;
  bigquery?: BigQueryMockOptions | false;
}

/** Running mocks; dispose (or `close()`) to stop intercepting. */
export interface RunningMocks extends Disposable {
  readonly server: ReturnType<typeof setupServer>;
  /** The Gemini mock; throws on access when it was not started. */
  readonly gemini: GeminiMock;
  /** The BigQuery mock; throws on access when it was not started. */
  readonly bigquery: BigQueryMock;
  /** Raw bodies of every POST request, in arrival order (to prove what left the machine). */
  readonly bodies: string[];
  /** Resolves once every body seen so far is in `bodies` (they are read asynchronously). */
  bodiesRead(): Promise<void>;
  /** Clears calls, counters, quotas and the warehouse of every started mock. */
  reset(): void;
  close(): void;
}

/**
 * Starts the requested mocks under one MSW server with `onUnhandledRequest: "error"`.
 *
 * @param options The mocks to start and their options.
 * @returns Handles to the mocks and the server.
 */
export function startMocks(options: StartMocksOptions): RunningMocks {
  const gemini = options.gemini === undefined || options.gemini === false
    ? null
    : createGeminiMock(options.gemini);
  const bigquery = options.bigquery === undefined || options.bigquery === false
    ? null
    : createBigQueryMock(options.bigquery);
  const server = setupServer(...(gemini?.handlers ?? []), ...(bigquery?.handlers ?? []));
  const bodies: string[] = [];
  const reads: Promise<unknown>[] = [];
  server.events.on("request:start", ({ request }) => {
    if (request.method !== "POST") return;
    reads.push(request.clone().text().then((body) => bodies.push(body), () => {}));
  });
  server.listen({ onUnhandledRequest: "error" });
  let closed = false;
  const close = () => {
    if (!closed) server.close();
    closed = true;
  };
  return {
    server,
    bodies,
    async bodiesRead() {
      await Promise.all(reads);
    },
    get gemini(): GeminiMock {
      if (!gemini) throw new TypeError("Cannot use the Gemini mock as it was not started");
      return gemini;
    },
    get bigquery(): BigQueryMock {
      if (!bigquery) throw new TypeError("Cannot use the BigQuery mock as it was not started");
      return bigquery;
    },
    reset() {
      gemini?.reset();
      bigquery?.reset();
    },
    close,
    [Symbol.dispose]: close,
  };
}
