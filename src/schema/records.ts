/**
 * Records as they flow between stages. Input schemas are lenient on purpose: Claude Code's format
 * changes with its releases, so only what a stage needs is validated and everything else is kept.
 *
 * @module
 */
import { z } from "zod";
import type { RejectRow } from "./tables.ts";

/** A transcript file found by Stage 0. */
export interface SourceFile {
  /** Absolute path. */
  path: string;
  /** The source root it was found under. */
  root: string;
  size: number;
  mtimeMs: number;
}

/** One parsed JSON object from a transcript line, with where it came from. */
export interface RawRecord {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the record's first byte in the file. */
  offset: number;
  /** Size of the record's JSON text in bytes. */
  bytes: number;
  /** The record's `type` field, or `"(none)"`. */
  type: string;
  value: Record<string, unknown>;
}

/** Where a file's reading stopped: the next run starts at `offset` if the file is unchanged before it. */
export interface Watermark {
  path: string;
  size: number;
  mtimeMs: number;
  /** Byte offset just after the last complete line consumed. */
  offset: number;
  /** Number of complete lines before `offset` (so line numbers continue across runs). */
  lines: number;
  /** sha256 (hex, first 16 chars) of up to 4 KiB before `offset`: detects a replaced file of equal size. */
  headHash: string;
}

/** Stage 1 output: a parsed record, a reject, or the end of a file with its new watermark. */
export type ExtractEvent =
  | { kind: "record"; record: RawRecord }
  | { kind: "reject"; reject: Omit<RejectRow, "run_id"> }
  | { kind: "file_done"; watermark: Watermark; bytesRead: number; linesRead: number; blankLines: number };

const tokenCount = z.int().min(0).nullish();

/** Lenient envelope of a uuid-bearing record: the fields Stages 2–3 read; unknown keys pass through. */
export const envelopeSchema = z.looseObject({
  type: z.string(),
  uuid: z.string().min(1),
  parentUuid: z.string().nullish(),
  logicalParentUuid: z.string().nullish(),
  sessionId: z.string().nullish(),
  timestamp: z.string().nullish(),
  cwd: z.string().nullish(),
  gitBranch: z.string().nullish(),
  version: z.string().nullish(),
  isSidechain: z.boolean().nullish(),
  isMeta: z.boolean().nullish(),
  isCompactSummary: z.boolean().nullish(),
  agentId: z.string().nullish(),
  subtype: z.string().nullish(),
  requestId: z.string().nullish(),
  message: z.looseObject({
    id: z.string().nullish(),
    role: z.string().nullish(),
    model: z.string().nullish(),
    content: z.unknown().optional(),
    usage: z.looseObject({
      // Counts a warehouse integer can hold; anything else (1e300, -1, 0.5) makes the record a reject.
      input_tokens: tokenCount,
      output_tokens: tokenCount,
      cache_creation_input_tokens: tokenCount,
      cache_read_input_tokens: tokenCount,
      cache_creation: z.looseObject({
        ephemeral_5m_input_tokens: tokenCount,
        ephemeral_1h_input_tokens: tokenCount,
      }).nullish(),
      server_tool_use: z.looseObject({
        web_search_requests: tokenCount,
        web_fetch_requests: tokenCount,
      }).nullish(),
      service_tier: z.string().nullish(),
      speed: z.string().nullish(),
    }).nullish(),
  }).nullish(),
});
/** A validated envelope. */
export type Envelope = z.infer<typeof envelopeSchema>;
