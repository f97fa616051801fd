/**
 * ccpipe: Claude Code transcripts → clean, deduplicated, corrected tables in DuckDB or BigQuery.
 *
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  Deno.addSignalListener("SIGINT", onSignal);
  const code = await main(Deno.args, { signal: controller.signal });
  Deno.removeSignalListener("SIGINT", onSignal);
  // An MSW server or a DuckDB handle can keep the event loop alive: end explicitly.
  Deno.exit(code);
}
