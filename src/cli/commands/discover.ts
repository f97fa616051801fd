/**
 * `ccpipe discover`: Stage 0 alone — a manifest of what the sources hold and a go / caution / no-go verdict.
 *
 * @module
 */
import { silentProgress } from "../../ports.ts";
import { discover } from "../../stages/discover.ts";
import { extract } from "../../stages/extract.ts";
import { Inventory, type Manifest } from "../../stages/inventory.ts";
import type { FlagSpecs } from "../args.ts";
import { type Command, defineCommand } from "../command.ts";
import { jsonLine } from "../json_output.ts";
import { terminalProgress } from "../progress.ts";
import { renderManifest } from "../render.ts";
import { resolveSources, sourceFlags } from "../shared_args.ts";

/** Flags of `ccpipe discover`. */
export const discoverFlags: FlagSpecs = {
  ...sourceFlags,
  full: { type: "boolean", group: "output", help: "With --json: the whole manifest (every file and field)" },
  out: {
    type: "string",
    value: "FILE",
    group: "output",
    help: "Also write the whole manifest as JSON to FILE",
  },
};

/** The `discover --json` object without `--full`: the verdict and totals, no per-file or per-field lists. */
export function manifestSummary(manifest: Manifest): object {
  const { fields, ...totals } = manifest.totals;
  return {
    generatedAt: manifest.generatedAt,
    roots: manifest.roots,
    verdict: manifest.verdict,
    reasons: manifest.reasons,
    totals: { ...totals, distinctFields: Object.keys(fields).length },
  };
}

/** `ccpipe discover`: exits 0 for go or caution, 1 for no-go. */
export const discoverCommand: Command = defineCommand({
  name: "discover",
  description: `Scans the sources (Stage 0): files, lines, record and content-block types, tools, fields, date
range, and a verdict on whether the data can be ingested. Reads everything, writes nothing but --out.`,
  flags: discoverFlags,
  async run({ flags }, ctx) {
    const sources = resolveSources(flags, ctx);
    const files = await discover(sources, { fs: ctx.fs });
    const inventory = new Inventory(sources, files);
    const progress = flags.json ? silentProgress : terminalProgress(ctx.output);
    for await (const event of extract(files, { fs: ctx.fs, progress, signal: ctx.signal })) {
      inventory.observe(event);
    }
    const manifest = inventory.manifest(new Date(ctx.clock.now()));
    const out = flags.out as string | undefined;
    if (out) await Deno.writeTextFile(out, JSON.stringify(manifest, null, 2));
    if (flags.json) ctx.output.out(jsonLine(flags.full ? manifest : manifestSummary(manifest)));
    else for (const line of renderManifest(manifest, out ?? null)) ctx.output.out(line);
    return manifest.verdict === "no-go" ? 1 : 0;
  },
});
