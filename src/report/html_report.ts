/**
 * `ccpipe report html`: gathers the page's data, renders it with Chart.js inlined, and writes the file
 * atomically (a failed run leaves no half-written page).
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { loadChartJs } from "./chart_js.ts";
import { collectHtmlData, type HtmlDataOptions } from "./html_data.ts";
import { renderHtmlPage } from "./html_page.ts";
import type { UsageFact } from "./usage_query.ts";
import type { Warehouse } from "./warehouse.ts";

/** What {@linkcode writeHtmlReport} wrote. */
export interface HtmlReportResult {
  bytes: number;
  sessions: number;
  /** Prompts with text in the page, or null when text was left out. */
  prompts: number | null;
}

/**
 * Writes the HTML report to `path`.
 *
 * @throws {InputError} When the file cannot be written.
 */
export async function writeHtmlReport(
  warehouse: Warehouse,
  facts: UsageFact[],
  path: string,
  options: HtmlDataOptions,
): Promise<HtmlReportResult> {
  const data = await collectHtmlData(warehouse, facts, options);
  const html = renderHtmlPage(data, await loadChartJs());
  const bytes = new TextEncoder().encode(html);
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    throw new InputError(`Cannot write the report to ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { bytes: bytes.length, sessions: data.sessions.length, prompts: data.prompts?.length ?? null };
}
