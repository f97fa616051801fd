/**
 * Stage 0, part two: the manifest of a corpus, accumulated from Stage 1's events so every byte is read
 * once whether the run stops after Stage 0 or goes on.
 *
 * @module
 */
import type { ExtractEvent, RawRecord, SourceFile } from "../schema/records.ts";
import { count } from "../format.ts";
import { compareCodePoints } from "./discover.ts";

/** What Stage 0 knows about one transcript file. */
export interface FileManifest {
  path: string;
  size: number;
  mtimeMs: number;
  /** Complete lines read in this run (blank and malformed ones included; only new lines when resuming). */
  lines: number;
  blankLines: number;
  records: number;
  rejects: number;
  /** Records per `type` (`"(none)"` when absent). */
  recordTypes: Record<string, number>;
}

/** The Stage 0 report over a whole corpus, with its go / caution / no-go verdict. */
export interface Manifest {
  generatedAt: string;
  roots: string[];
  files: FileManifest[];
  totals: {
    files: number;
    /** Sum of the files' sizes. */
    bytes: number;
    lines: number;
    records: number;
    rejects: number;
    blankLines: number;
    recordTypes: Record<string, number>;
    /** Blocks per `type` in `message.content` arrays (tool_use and tool_result included). */
    contentBlockTypes: Record<string, number>;
    /** `tool_use` blocks per tool `name`. */
    toolNames: Record<string, number>;
    /**
     * Occurrences per dotted key path, e.g. `"message.usage.input_tokens"` or `"message.content[].type"`.
     * Map keys (file paths under `snapshot.trackedFileBackups`, any object with keys that are not
     * identifier-like) are never listed, and `toolUseResult` / `input` are listed one level deep only.
     */
    fields: Record<string, number>;
    /** Earliest top-level `timestamp` (ISO 8601, UTC), or `null` when no record has one. */
    firstTimestamp: string | null;
    lastTimestamp: string | null;
    filesWithRejects: number;
  };
  verdict: "go" | "caution" | "no-go";
  reasons: string[];
}

/**
 * Share of malformed lines (of the non-blank lines read) above which the verdict is "caution". A few
 * malformed lines are normal (Claude Code leaves a truncated line when it stops mid-write): they are kept
 * as rejects and the verdict stays "go".
 */
export const CAUTION_REJECT_LINE_SHARE = 0.05;

/** Distinct field paths kept, so a corpus of odd shapes cannot grow the inventory without bound. */
const MAX_FIELDS = 10_000;
const MAX_FIELD_DEPTH = 8;
/** Objects whose keys are data (paths, ids), not field names. */
const MAP_PATHS = new Set(["snapshot.trackedFileBackups"]);
/** Schemaless tool payloads: listed one level deep only. */
const ONE_LEVEL_KEYS = new Set(["toolUseResult", "input"]);
const FIELD_NAME = /^[A-Za-z_$][\w$-]*$/;

/** A {@linkcode FileManifest} being counted: record types in a Map until the manifest is written. */
type FileTally = Omit<FileManifest, "recordTypes"> & { recordTypes: Map<string, number> };

/**
 * Accumulates the {@linkcode Manifest} from `extract()` events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Inventory } from "./inventory.ts";
 *
 * const file = { path: "/p/s.jsonl", root: "/p", size: 17, mtimeMs: 0 };
 * const inventory = new Inventory(["/p"], [file]);
 * inventory.observe({
 *   kind: "record",
 *   record: { file: file.path, line: 1, offset: 0, bytes: 16, type: "user", value: { type: "user" } },
 * });
 * assert.equal(inventory.manifest(new Date(0)).verdict, "go");
 * ```
 */
export class Inventory {
  #roots: string[];
  #files = new Map<string, FileTally>();
  #recordTypes = new Map<string, number>();
  #blockTypes = new Map<string, number>();
  #toolNames = new Map<string, number>();
  #fields: FieldNode = { path: "", count: 0, children: undefined, leaf: false, oneLevel: false };
  #fieldCount = 0;
  #fieldNames = new Map<string, boolean>();
  #first = Infinity;
  #last = -Infinity;

  /**
   * Starts an inventory of `files`, found under `roots`.
   *
   * @param roots The source roots, reported as given.
   * @param files The files Stage 0 found; each is listed even if no event mentions it.
   */
  constructor(roots: string[], files: SourceFile[]) {
    this.#roots = [...roots];
    for (const file of files) this.#tally(file.path, file.size, file.mtimeMs);
  }

  /**
   * Counts one Stage 1 event.
   *
   * @param event A record, reject or file_done event.
   */
  observe(event: ExtractEvent): void {
    switch (event.kind) {
      case "record": {
        const { record } = event;
        const tally = this.#tally(record.file);
        tally.records++;
        increment(tally.recordTypes, record.type);
        increment(this.#recordTypes, record.type);
        this.#inspect(record);
        break;
      }
      case "reject":
        this.#tally(event.reject.source_file).rejects++;
        break;
      case "file_done": {
        const tally = this.#tally(event.watermark.path, event.watermark.size, event.watermark.mtimeMs);
        tally.lines += event.linesRead;
        tally.blankLines += event.blankLines;
        break;
      }
    }
  }

  /**
   * Builds the manifest from everything observed so far.
   *
   * @param now The time to stamp it with.
   * @returns The manifest, with files sorted by path and every count map sorted by key.
   */
  manifest(now: Date): Manifest {
    const files = [...this.#files.values()].sort((a, b) => compareCodePoints(a.path, b.path)).map((
      tally,
    ): FileManifest => ({
      path: tally.path,
      size: tally.size,
      mtimeMs: tally.mtimeMs,
      lines: tally.lines,
      blankLines: tally.blankLines,
      records: tally.records,
      rejects: tally.rejects,
      recordTypes: toRecord(tally.recordTypes),
    }));
    let bytes = 0, lines = 0, records = 0, rejects = 0, blankLines = 0, filesWithRejects = 0;
    for (const file of files) {
      bytes += file.size;
      lines += file.lines;
      records += file.records;
      rejects += file.rejects;
      blankLines += file.blankLines;
      if (file.rejects > 0) filesWithRejects++;
    }
    const fields = new Map<string, number>();
    flattenFields(this.#fields, fields);
    const { verdict, reasons } = judge({
      files: files.length,
      bytes,
      lines,
      blankLines,
      records,
      rejects,
      filesWithRejects,
    });
    return {
      generatedAt: now.toISOString(),
      roots: [...this.#roots],
      files,
      totals: {
        files: files.length,
        bytes,
        lines,
        records,
        rejects,
        blankLines,
        recordTypes: toRecord(this.#recordTypes),
        contentBlockTypes: toRecord(this.#blockTypes),
        toolNames: toRecord(this.#toolNames),
        fields: toRecord(fields),
        firstTimestamp: Number.isFinite(this.#first) ? new Date(this.#first).toISOString() : null,
        lastTimestamp: Number.isFinite(this.#last) ? new Date(this.#last).toISOString() : null,
        filesWithRejects,
      },
      verdict,
      reasons,
    };
  }

  #tally(path: string, size?: number, mtimeMs?: number): FileTally {
    let tally = this.#files.get(path);
    if (tally === undefined) {
      tally = {
        path,
        size: 0,
        mtimeMs: 0,
        lines: 0,
        blankLines: 0,
        records: 0,
        rejects: 0,
        recordTypes: new Map(),
      };
      this.#files.set(path, tally);
    }
    if (size !== undefined) tally.size = size;
    if (mtimeMs !== undefined) tally.mtimeMs = mtimeMs;
    return tally;
  }

  #inspect(record: RawRecord): void {
    const value = record.value;
    if (typeof value.timestamp === "string") {
      const time = Date.parse(value.timestamp);
      if (Number.isFinite(time)) {
        if (time < this.#first) this.#first = time;
        if (time > this.#last) this.#last = time;
      }
    }
    const message = value.message;
    if (isObject(message) && Array.isArray(message.content)) {
      for (const block of message.content) {
        if (!isObject(block) || typeof block.type !== "string") continue;
        increment(this.#blockTypes, block.type);
        if (block.type === "tool_use" && typeof block.name === "string") {
          increment(this.#toolNames, block.name);
        }
      }
    }
    this.#collectFields(value, this.#fields, 0);
  }

  #collectFields(object: Record<string, unknown>, node: FieldNode, depth: number): void {
    // An object keyed by data (file paths, ids) is a map: its keys are not fields.
    for (const key in object) if (!this.#isFieldName(key)) return;
    for (const key in object) {
      const child = this.#child(node, key);
      if (child === undefined) continue; // the field cap is reached
      child.count++;
      if (depth >= MAX_FIELD_DEPTH || child.leaf) continue;
      const value = object[key];
      if (child.oneLevel) {
        if (isObject(value)) this.#collectFields(value, child, MAX_FIELD_DEPTH);
      } else if (Array.isArray(value)) {
        const items = this.#child(child, "[]");
        if (items === undefined) continue;
        for (const item of value) if (isObject(item)) this.#collectFields(item, items, depth + 1);
      } else if (isObject(value)) {
        this.#collectFields(value, child, depth + 1);
      }
    }
  }

  /** The node for `key` under `node`, created on first sight while under the cap. */
  #child(node: FieldNode, key: string): FieldNode | undefined {
    node.children ??= new Map();
    let child = node.children.get(key);
    if (child === undefined) {
      if (this.#fieldCount >= MAX_FIELDS) return undefined;
      const path = node.path === "" ? key : key === "[]" ? `${node.path}[]` : `${node.path}.${key}`;
      child = {
        path,
        count: 0,
        children: undefined,
        leaf: MAP_PATHS.has(path),
        oneLevel: ONE_LEVEL_KEYS.has(key),
      };
      node.children.set(key, child);
      if (key !== "[]") this.#fieldCount++;
    }
    return child;
  }

  #isFieldName(key: string): boolean {
    let known = this.#fieldNames.get(key);
    if (known === undefined) {
      known = FIELD_NAME.test(key);
      // Remember only a bounded number: map keys (paths, ids) are endless.
      if (this.#fieldNames.size < MAX_FIELDS) this.#fieldNames.set(key, known);
    }
    return known;
  }
}

/** A trie of field paths: walking it per record avoids building a path string per key. */
interface FieldNode {
  path: string;
  count: number;
  children: Map<string, FieldNode> | undefined;
  /** A map-valued field: its keys are not listed. */
  leaf: boolean;
  /** A schemaless payload: listed one level deep. */
  oneLevel: boolean;
}

function flattenFields(node: FieldNode, out: Map<string, number>): void {
  if (node.children === undefined) return;
  for (const [key, child] of node.children) {
    if (key !== "[]") out.set(child.path, child.count);
    flattenFields(child, out);
  }
}

function judge(t: {
  files: number;
  bytes: number;
  lines: number;
  blankLines: number;
  records: number;
  rejects: number;
  filesWithRejects: number;
}): { verdict: Manifest["verdict"]; reasons: string[] } {
  if (t.files === 0) {
    return { verdict: "no-go", reasons: ["No transcript files (*.jsonl) were found under the roots"] };
  }
  if (t.lines === 0 && t.bytes > 0) {
    // Every byte was read by an earlier run (watermarks): nothing to judge, nothing wrong.
    return { verdict: "go", reasons: [`No new line in the ${count(t.files, "file")} since the last run`] };
  }
  if (t.records === 0) {
    return {
      verdict: "no-go",
      reasons: [`None of the ${count(t.files, "file")} holds a parseable record`],
    };
  }
  const summary = `${count(t.files, "file")}, ${count(t.records, "record")}, ${
    count(t.rejects, "malformed line")
  } in ${count(t.filesWithRejects, "file")}`;
  const share = t.rejects / Math.max(1, t.lines - t.blankLines);
  if (share > CAUTION_REJECT_LINE_SHARE) {
    return {
      verdict: "caution",
      reasons: [
        `${(share * 100).toFixed(1)}% of the lines are malformed, more than ${
          CAUTION_REJECT_LINE_SHARE * 100
        }%`,
        summary,
      ],
    };
  }
  return { verdict: "go", reasons: [summary] };
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function toRecord(map: Map<string, number>): Record<string, number> {
  // fromEntries defines own properties, so a record type named "__proto__" is kept as data.
  return Object.fromEntries([...map.entries()].sort((a, b) => compareCodePoints(a[0], b[0])));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
