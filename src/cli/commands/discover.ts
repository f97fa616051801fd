/**
 * `ccpipe discover`: Stage 0 alone — a manifest of what the sources hold and a go / caution / no-go verdict.
 *
 * @module
 */
import { discover } from "../../stages/discover.ts";
import { extract } from "../../stages/extract.ts";
import { Inventory } from "../../stages/inventory.ts";
import { type FlagSpecs, formatHelp, parseFlags } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { terminalProgress } from "../progress.ts";
import { renderManifest } from "../render.ts";
import { resolveSources, sourceFlags } from "../shared_args.ts";

/** Flags of `ccpipe discover`. */
export const discoverFlags: FlagSpecs = {
  ...sourceFlags,
  out: { type: "string", value: "FILE", help: "Also write the full manifest as JSON to FILE" },
};

const HELP = formatHelp(
  "ccpipe discover [--source DIR]... [--out FILE] [--json]",
  "Scans the sources (Stage 0): files, lines, record and content-block types, tools, fields, date\n" +
    "range, and a verdict on whether the data can be ingested. Reads everything, writes nothing but --out.",
  discoverFlags,
);

/**
 * Runs `ccpipe discover`.
 *
 * @returns 0 for go or caution, 1 for no-go.
 */
export async function discoverCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { flags } = parseFlags(args, discoverFlags, { command: "discover" });
  if (flags.help) {
    ctx.output.out(HELP);
    return 0;
  }
  const sources = resolveSources(flags, ctx);
  const files = await discover(sources, { fs: ctx.fs });
  const inventory = new Inventory(sources, files);
  for await (
    const event of extract(files, { fs: ctx.fs, progress: terminalProgress(ctx.output), signal: ctx.signal })
  ) {
    inventory.observe(event);
  }
  const manifest = inventory.manifest(new Date(ctx.clock.now()));
  const out = flags.out as string | undefined;
  if (out) await Deno.writeTextFile(out, JSON.stringify(manifest, null, 2));
  if (flags.json) ctx.output.out(JSON.stringify(manifest));
  else for (const line of renderManifest(manifest, out ?? null)) ctx.output.out(line);
  return manifest.verdict === "no-go" ? 1 : 0;
}
