/**
 * Every `--json` output is one object with a `schema_version`, bumped when a field changes meaning or
 * disappears (adding a field does not bump it). The README documents each command's object.
 *
 * @module
 */

/** The version of the `--json` objects this ccpipe prints. */
export const JSON_SCHEMA_VERSION = 1;

/**
 * One `--json` line: `{"schema_version": 1, ...value}`.
 *
 * @param value The command's object.
 * @returns The JSON text.
 */
export function jsonLine(value: object): string {
  return JSON.stringify({ schema_version: JSON_SCHEMA_VERSION, ...value });
}
