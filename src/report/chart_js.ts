/**
 * Chart.js's UMD build as text, to inline into the HTML report (the page must work from file:// with
 * no network). Read from the npm package pinned in deno.json.
 *
 * @module
 */

/** The Chart.js version the page embeds (from the package that was read). */
export interface ChartJsSource {
  version: string;
  /** The minified UMD bundle, safe to place inside a `<script>` element. */
  code: string;
}

/**
 * Reads Chart.js's minified UMD bundle from its npm package.
 *
 * @throws {Error} When the package files cannot be read.
 */
export async function loadChartJs(): Promise<ChartJsSource> {
  // The package's exports map does not list the UMD file, so find it beside the ES module entry.
  const entry = new URL(import.meta.resolve("chart.js"));
  const code = await Deno.readTextFile(new URL("./chart.umd.min.js", entry));
  const pkg = JSON.parse(await Deno.readTextFile(new URL("../package.json", entry))) as { version: string };
  return {
    version: pkg.version,
    // No source map request from a file:// page, and nothing that could close the <script> element early.
    code: code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "").replace(/<\/(script)/gi, "<\\/$1"),
  };
}
