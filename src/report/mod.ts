/**
 * Reports over the loaded tables: usage and Claude cost per day, week, month, session, project or
 * model (`build_report.ts`), read from DuckDB or BigQuery with the same SQL (`warehouse.ts`,
 * `usage_query.ts`), and the self-contained HTML page (`html_report.ts`).
 *
 * @module
 */
export * from "./build_report.ts";
export * from "./usage_query.ts";
export * from "./warehouse.ts";
export * from "./html_data.ts";
export * from "./html_page.ts";
export * from "./html_report.ts";
