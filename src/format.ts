/**
 * The one number format for text meant for people: thousands separators, and nouns that agree with
 * their count ("1 file", "2 files").
 *
 * @module
 */

/**
 * Formats an integer or decimal with thousands separators (`54906` → `54,906`).
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format.ts";
 * if (formatNumber(54906) !== "54,906") throw new Error();
 * ```
 *
 * @param value The number.
 * @returns The text.
 */
export function formatNumber(value: number): string {
  return value.toLocaleString("en-US");
}

/**
 * A count with its noun in the right number: `count(1, "file")` → `1 file`, `count(3, "entry", "entries")`.
 *
 * @example
 * ```ts
 * import { count } from "./format.ts";
 * if (count(1, "record") !== "1 record" || count(1200, "record") !== "1,200 records") throw new Error();
 * ```
 *
 * @param value How many.
 * @param singular The noun for one.
 * @param plural The noun for any other count (default: singular + "s").
 * @returns The formatted count and noun.
 */
export function count(value: number, singular: string, plural: string = `${singular}s`): string {
  return `${formatNumber(value)} ${value === 1 ? singular : plural}`;
}

/**
 * Formats a byte count in MB with one decimal (`1.5 MB`); 1 MB = 1,048,576 bytes.
 *
 * @param bytes The byte count.
 * @returns The text.
 */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Formats a duration for people: `850 ms`, `12 s`, `3 min 05 s`, `2 h 07 min`.
 *
 * @param ms The duration in milliseconds.
 * @returns The text.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/**
 * A formatter of instants as `YYYY-MM-DD HH:MM` in `timeZone` (build it once, format many).
 *
 * @example
 * ```ts
 * import { minuteFormatter } from "./format.ts";
 * if (minuteFormatter("UTC").format(Date.UTC(2026, 10, 29, 14, 2)) !== "2026-11-29 14:02") throw new Error();
 * ```
 *
 * @param timeZone An IANA zone.
 * @returns The formatter (sv-SE writes local times as `YYYY-MM-DD HH:MM`).
 */
export function minuteFormatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
}

/**
 * Formats an instant as `YYYY-MM-DD HH:MM` in `timeZone`, followed by the zone's name.
 *
 * @example
 * ```ts
 * import { formatTime } from "./format.ts";
 * if (formatTime(Date.UTC(2026, 10, 29, 14, 2), "UTC") !== "2026-11-29 14:02 UTC") throw new Error();
 * ```
 *
 * @param ms Milliseconds since the epoch.
 * @param timeZone An IANA zone. @default {"UTC"}
 * @returns The text.
 */
export function formatTime(ms: number, timeZone = "UTC"): string {
  return `${minuteFormatter(timeZone).format(ms)} ${timeZone}`;
}
