/**
 * ccpipe: Claude Code transcripts → clean, deduplicated, corrected tables in DuckDB or BigQuery.
 *
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  const controller = new AbortController();
  // Ctrl-C, `kill`, `timeout`, a closed terminal and systemd's stop all mean the same: stop at the next
  // safe point, release the lock, commit nothing half-done. A second signal ends the process at once.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const onSignal = () => {
    if (controller.signal.aborted) Deno.exit(130);
    controller.abort(new DOMException("Interrupted", "AbortError"));
  };
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  const code = await main(Deno.args, { signal: controller.signal });
  for (const name of signals) Deno.removeSignalListener(name, onSignal);
  // An MSW server or a DuckDB handle can keep the event loop alive: end explicitly.
  Deno.exit(code);
}
