/**
 * The one schema source: final tables, inter-stage records and the Stage 4 wire contract.
 *
 * @module
 */
export * from "./columns.ts";
export * from "./tables.ts";
export * from "./records.ts";
export * from "./correction.ts";
