/**
 * Upload handling for the BigQuery mock: `multipart/related` bodies (job metadata + media),
 * resumable upload sessions, and NDJSON parsing against a table schema with BigQuery's load errors.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type BigQueryErrorProto, invalid, MockBigQueryError } from "./_bigquery_errors.ts";
import { type BigQueryColumnSchema, loadObject, RowError } from "./_bigquery_values.ts";

/** The two parts of a media upload. */
export interface MultipartUpload {
  metadata: Record<string, unknown>;
  media: Uint8Array;
}

function badRequest(message: string): MockBigQueryError {
  return new MockBigQueryError(400, "badRequest", message);
}

// Deno's node:buffer `indexOf` is written in JavaScript and slow on large bodies; the typed-array
// `indexOf` is native, so search for the first byte with it and compare the rest by hand.
function findBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/**
 * Splits a `multipart/related` upload into its JSON metadata and its media.
 *
 * @param contentType The request's `Content-Type` (carries the boundary).
 * @param body The raw body.
 * @returns Metadata and media bytes.
 * @throws {MockBigQueryError} 400 `badRequest` for a missing boundary, a body cut before the closing
 *   boundary, or unparsable metadata.
 */
export function parseMultipart(contentType: string, body: Uint8Array): MultipartUpload {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!/^multipart\/related/i.test(contentType) || !m) {
    throw badRequest(`Invalid Content-Type for a multipart upload: ${contentType}`);
  }
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: { headers: string; body: Uint8Array }[] = [];
  let pos = findBytes(buf, delimiter, 0);
  if (pos < 0) throw badRequest("Invalid multipart request with 0 mime parts.");
  for (;;) {
    let start = pos + delimiter.length;
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break; // closing "--boundary--"
    if (buf[start] === 0x0d) start++;
    if (buf[start] === 0x0a) start++;
    // Part headers are short: look for their end in a bounded window, not across the whole media.
    const window = buf.subarray(start, start + 16_384);
    const crlf = window.indexOf("\r\n\r\n");
    const lf = window.indexOf("\n\n");
    let headerEnd = crlf < 0 ? -1 : start + crlf;
    let bodyStart = headerEnd + 4;
    if (lf >= 0 && (crlf < 0 || lf < crlf)) {
      headerEnd = start + lf;
      bodyStart = headerEnd + 2;
    }
    const next = headerEnd < 0 ? -1 : findBytes(buf, delimiter, bodyStart);
    if (next < 0) {
      throw badRequest(
        `Invalid multipart request: the body ended before the closing boundary (${
          parts.length + 1
        } mime parts started).`,
      );
    }
    let bodyEnd = next;
    if (buf[bodyEnd - 1] === 0x0a) bodyEnd--;
    if (buf[bodyEnd - 1] === 0x0d) bodyEnd--;
    parts.push({
      headers: buf.subarray(start, headerEnd).toString("utf8"),
      body: buf.subarray(bodyStart, Math.max(bodyStart, bodyEnd)),
    });
    pos = next;
    if (pos + delimiter.length >= buf.length) {
      throw badRequest("Invalid multipart request: the body ended before the closing boundary.");
    }
  }
  if (parts.length < 2) throw badRequest(`Invalid multipart request with ${parts.length} mime parts.`);
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(new TextDecoder().decode(parts[0].body));
  } catch {
    throw new MockBigQueryError(400, "parseError", "Parse Error");
  }
  return { metadata, media: parts[1].body };
}

/** Where load errors say the data came from. */
export const UPLOAD_LOCATION = "file-00000000";

/** The result of reading an NDJSON upload against a schema. */
export interface NdjsonResult {
  rows: Record<string, unknown>[];
  /** Row errors kept (BigQuery's `errors[]` entries). */
  errors: BigQueryErrorProto[];
  badRecords: number;
}

/** Builds the error a load job fails with when it gives up on bad rows. */
export function tooManyErrors(rowsRead: number, rowErrors: BigQueryErrorProto[]): MockBigQueryError {
  return new MockBigQueryError(
    400,
    "invalid",
    `Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: ${rowsRead}; ` +
      `errors: ${rowErrors.length}. Please look into the errors[] collection for more details.`,
    { location: UPLOAD_LOCATION, details: rowErrors },
  );
}

/** One row error entry, as BigQuery words it. */
export function rowErrorProto(position: number, message: string): BigQueryErrorProto {
  return {
    reason: "invalid",
    location: UPLOAD_LOCATION,
    message:
      `Error while reading data, error message: JSON parsing error in row starting at position ${position}: ${message}`,
  };
}

/**
 * Parses NDJSON media and checks every row against a schema, like a load job does.
 *
 * @param media The uploaded bytes.
 * @param schema The destination schema.
 * @param options `maxBadRecords` (default 0) and `ignoreUnknownValues` (default false), as in the load config.
 * @returns The stored rows and the row errors tolerated.
 * @throws {MockBigQueryError} `invalid` "JSON table encountered too many errors" once more than
 *   `maxBadRecords` rows are bad; `errors[]` then names each bad row's position and field.
 */
export function readNdjson(
  media: Uint8Array,
  schema: readonly BigQueryColumnSchema[],
  options: { maxBadRecords?: number; ignoreUnknownValues?: boolean } = {},
): NdjsonResult {
  const maxBad = options.maxBadRecords ?? 0;
  const ignoreUnknown = options.ignoreUnknownValues ?? false;
  // Decode once and split by character; byte positions (for messages) are computed only for bad rows.
  const text = new TextDecoder().decode(media);
  const rows: Record<string, unknown>[] = [];
  const errors: BigQueryErrorProto[] = [];
  let rowsRead = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const lineStart = start;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    rowsRead++;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new RowError(`Parser terminated before end of string (${(err as Error).message})`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new RowError("Row is not a JSON object");
      }
      rows.push(loadObject(parsed as Record<string, unknown>, schema, { ignoreUnknown }));
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      const position = new TextEncoder().encode(text.slice(0, lineStart)).byteLength;
      errors.push(rowErrorProto(position, err.message));
      if (errors.length > maxBad) throw tooManyErrors(rowsRead, errors);
    }
  }
  return { rows, errors, badRecords: errors.length };
}

/** One resumable upload session. */
export interface ResumableSession {
  id: string;
  projectId: string;
  metadata: Record<string, unknown>;
  chunks: Uint8Array[];
  received: number;
  /** The job once the last byte arrived. */
  jobId?: string;
}

/**
 * Parses a resumable `Content-Range` header.
 *
 * @param header `bytes a-b/total`, `bytes a-b/*`, `bytes *\/total` or `bytes *\/*`; `null` means the whole body.
 * @returns The range; `start` is undefined for a status query.
 * @throws {MockBigQueryError} 400 for a malformed header.
 */
export function parseContentRange(
  header: string | null,
  bodyLength: number,
): { start?: number; end?: number; total?: number } {
  if (header === null) return { start: 0, end: bodyLength - 1, total: bodyLength };
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!m) throw invalid(`Invalid Content-Range header: ${header}`);
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (m[1] === undefined) return { total };
  return { start: Number(m[1]), end: Number(m[2]), total };
}

/** Joins chunks into one byte array. */
export function concatChunks(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
