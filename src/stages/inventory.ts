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
/**
 * A valid UTC timestamp as `toISOString()` writes it, days 29–31 left out (`Date.parse` rolls 2026-02-30
 * over to March). Among such strings text order is time order.
 */
const CANONICAL_TIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** A {@linkcode FileManifest} being counted: record types in a Map until the manifest is written. */
type FileTally = Omit<FileManifest, "recordTypes"> & {
  recordTypes: Map<string, number>;
  /** Size and mtime come from a `file_done` watermark, not only from the constructor. */
  watermarked: boolean;
};

/** One file's counts in an {@linkcode InventorySnapshot}. */
export interface FileSnapshot {
  path: string;
  lines: number;
  blankLines: number;
  records: number;
  rejects: number;
  recordTypes: Map<string, number>;
  /** Size and mtime of the file's `file_done` watermark; `undefined` when this inventory saw none. */
  watermark: { size: number; mtimeMs: number } | undefined;
}

/** A field path's occurrences and the paths under it, in an {@linkcode InventorySnapshot}. */
export interface FieldCounts {
  count: number;
  /** The fields of the objects in this field, by name. */
  children: Map<string, FieldCounts> | undefined;
  /** The fields of the objects in this field's arrays. */
  items: FieldCounts | undefined;
}

/**
 * What an {@linkcode Inventory} observed, as plain data that `structuredClone` and `postMessage` copy.
 * Roots and the constructor's file list are not in it (the inventory that merges has its own), nor the
 * memo of which keys are field names (it only saves work); the field cap is counted again on merging.
 */
export interface InventorySnapshot {
  files: FileSnapshot[];
  recordTypes: Map<string, number>;
  contentBlockTypes: Map<string, number>;
  toolNames: Map<string, number>;
  /** The field tree from its (unnamed) root. */
  fields: FieldCounts;
  /** Earliest and latest top-level timestamps, ms since the epoch; `Infinity` / `-Infinity` when none. */
  first: number;
  last: number;
}

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
  #fields: FieldNode = newNode("", "");
  #fieldCount = 0;
  #fieldNames = new Map<string, boolean>();
  #first = Infinity;
  #last = -Infinity;
  /** `#first` and `#last` as canonical text, or "~" and "" (outside any timestamp) when not known. */
  #firstText = "~";
  #lastText = "";

  /**
   * Starts an inventory of `files`, found under `roots`.
   *
   * A Web Worker's inventory, whose {@linkcode snapshot} is merged into the main one, is best started as
   * `new Inventory([], [])`: the main inventory lists roots and every file found, and a worker's own file
   * list would add nothing (sizes and mtimes from it are not carried over, only `file_done` watermarks).
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
        tally.watermarked = true;
        tally.lines += event.linesRead;
        tally.blankLines += event.blankLines;
        break;
      }
    }
  }

  /**
   * Copies out what this inventory observed, for another inventory's {@linkcode merge}.
   *
   * @returns Plain data (objects, arrays, Maps) that `structuredClone` and `postMessage` copy; later
   *   observations do not change it.
   */
  snapshot(): InventorySnapshot {
    return {
      files: [...this.#files.values()].map((tally): FileSnapshot => ({
        path: tally.path,
        lines: tally.lines,
        blankLines: tally.blankLines,
        records: tally.records,
        rejects: tally.rejects,
        recordTypes: new Map(tally.recordTypes),
        watermark: tally.watermarked ? { size: tally.size, mtimeMs: tally.mtimeMs } : undefined,
      })),
      recordTypes: new Map(this.#recordTypes),
      contentBlockTypes: new Map(this.#blockTypes),
      toolNames: new Map(this.#toolNames),
      fields: copyFields(this.#fields),
      first: this.#first,
      last: this.#last,
    };
  }

  /**
   * Adds another inventory's observations to this one's.
   *
   * When the events of a run are split into groups of whole files, each group observed by its own
   * inventory, merging the groups' snapshots into an inventory started with the run's roots and files
   * gives the manifest one inventory observing every event would give, field counts included, in any
   * order of merging, while fewer than 10,000 field paths are seen. Past that cap the merged manifest may
   * keep other paths than a single inventory would (and undercount a path that one of the inventories
   * had to drop): each inventory kept the paths it saw first.
   *
   * @param snapshot Another inventory's {@linkcode snapshot}.
   */
  merge(snapshot: InventorySnapshot): void {
    for (const file of snapshot.files) {
      const tally = this.#tally(file.path, file.watermark?.size, file.watermark?.mtimeMs);
      if (file.watermark !== undefined) tally.watermarked = true;
      tally.lines += file.lines;
      tally.blankLines += file.blankLines;
      tally.records += file.records;
      tally.rejects += file.rejects;
      add(tally.recordTypes, file.recordTypes);
    }
    add(this.#recordTypes, snapshot.recordTypes);
    add(this.#blockTypes, snapshot.contentBlockTypes);
    add(this.#toolNames, snapshot.toolNames);
    this.#mergeFields(this.#fields, snapshot.fields);
    this.#widen(snapshot.first);
    this.#widen(snapshot.last);
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
        watermarked: false,
      };
      this.#files.set(path, tally);
    }
    if (size !== undefined) tally.size = size;
    if (mtimeMs !== undefined) tally.mtimeMs = mtimeMs;
    return tally;
  }

  #inspect(record: RawRecord): void {
    const value = record.value;
    if (typeof value.timestamp === "string") this.#timestamp(value.timestamp);
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

  #timestamp(text: string): void {
    // Parsing is costly and most timestamps are canonical and inside the range already seen: comparing
    // their text with the range's, when that is canonical too, settles them.
    const canonical = CANONICAL_TIME.test(text);
    if (canonical && text > this.#firstText && text < this.#lastText) return;
    this.#widen(Date.parse(text), canonical ? text : undefined);
  }

  /** Widens the time range to `time` (ignored unless finite); `text` is its canonical form if known. */
  #widen(time: number, text?: string): void {
    if (!Number.isFinite(time)) return;
    if (time < this.#first) {
      this.#first = time;
      this.#firstText = text ?? "~";
    }
    if (time > this.#last) {
      this.#last = time;
      this.#lastText = text ?? "";
    }
  }

  #collectFields(object: Record<string, unknown>, node: FieldNode, depth: number): void {
    // An object keyed by data (file paths, ids) is a map: its keys are not fields. A key already in the
    // tree passed that test before, so only new keys are tested.
    const children = node.children ??= new Map();
    for (const key in object) if (!children.has(key) && !this.#isFieldName(key)) return;
    for (const key in object) {
      const child = children.get(key) ?? this.#child(node, key);
      if (child === undefined) continue; // the field cap is reached
      child.count++;
      const value = object[key];
      if (depth >= MAX_FIELD_DEPTH || child.leaf || typeof value !== "object" || value === null) continue;
      if (!Array.isArray(value)) {
        const next = child.oneLevel ? MAX_FIELD_DEPTH : depth + 1;
        this.#collectFields(value as Record<string, unknown>, child, next);
      } else if (!child.oneLevel) {
        const items = this.#items(child);
        if (items === undefined) continue;
        for (const item of value) if (isObject(item)) this.#collectFields(item, items, depth + 1);
      }
    }
  }

  #mergeFields(node: FieldNode, counts: FieldCounts): void {
    for (const [key, from] of counts.children ?? []) {
      const child = node.children?.get(key) ?? this.#child(node, key);
      if (child === undefined) continue; // the field cap is reached
      child.count += from.count;
      this.#mergeFields(child, from);
    }
    if (counts.items === undefined) return;
    const items = this.#items(node);
    if (items !== undefined) this.#mergeFields(items, counts.items);
  }

  /** A new node for field `key` under `node`, unless the field cap is reached. */
  #child(node: FieldNode, key: string): FieldNode | undefined {
    if (this.#fieldCount >= MAX_FIELDS) return undefined;
    this.#fieldCount++;
    const child = newNode(node.path === "" ? key : `${node.path}.${key}`, key);
    (node.children ??= new Map()).set(key, child);
    return child;
  }

  /** The node of the items of the arrays in field `node`, created on first sight while under the cap. */
  #items(node: FieldNode): FieldNode | undefined {
    // Not a field itself, but a node all the same: it is not created past the cap either.
    if (node.items === undefined && this.#fieldCount < MAX_FIELDS) {
      node.items = newNode(`${node.path}[]`, "[]");
    }
    return node.items;
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
  /** The fields of the objects in this field, by name. */
  children: Map<string, FieldNode> | undefined;
  /** The fields of the objects in this field's arrays (path `${path}[]`). */
  items: FieldNode | undefined;
  /** A map-valued field: its keys are not listed. */
  leaf: boolean;
  /** A schemaless payload: listed one level deep. */
  oneLevel: boolean;
}

function newNode(path: string, key: string): FieldNode {
  return {
    path,
    count: 0,
    children: undefined,
    items: undefined,
    leaf: MAP_PATHS.has(path),
    oneLevel: ONE_LEVEL_KEYS.has(key),
  };
}

function copyFields(node: FieldNode): FieldCounts {
  return {
    count: node.count,
    children: node.children && new Map([...node.children].map(([key, child]) => [key, copyFields(child)])),
    items: node.items && copyFields(node.items),
  };
}

function flattenFields(node: FieldNode, out: Map<string, number>): void {
  for (const child of node.children?.values() ?? []) {
    out.set(child.path, child.count);
    flattenFields(child, out);
  }
  if (node.items !== undefined) flattenFields(node.items, out);
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

function add(into: Map<string, number>, counts: Map<string, number>): void {
  for (const [key, n] of counts) into.set(key, (into.get(key) ?? 0) + n);
}

function toRecord(map: Map<string, number>): Record<string, number> {
  // fromEntries defines own properties, so a record type named "__proto__" is kept as data.
  return Object.fromEntries([...map.entries()].sort((a, b) => compareCodePoints(a[0], b[0])));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
