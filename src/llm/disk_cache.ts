/**
 * The Stage 4 answer cache: content-addressed per item, one JSON file per entry in sharded
 * directories, written as temp file + rename so a kill at any moment leaves every entry whole.
 * It only ever holds redacted text.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { type Clock, systemClock } from "../ports.ts";

/** One cached answer for one redacted, normalised text. */
export interface CachedCorrection {
  /** The item's final status (`corrected`, `unchanged` or `rejected_<guard>`). */
  status: string;
  /** The corrected text, still redacted, when `status` is `corrected`; otherwise null. */
  corrected: string | null;
  /** The model that answered. */
  model: string;
  /** When the answer was stored (epoch ms). */
  at: number;
}

/** Cache statistics for `ccpipe cache stats`. */
export interface CacheStats {
  /** Number of entries. */
  entries: number;
  /** Bytes on disk (entry files). */
  bytes: number;
  /** Oldest entry's write time (epoch ms), or null when empty. */
  oldestMs: number | null;
  /** Newest entry's write time (epoch ms), or null when empty. */
  newestMs: number | null;
}

/** A store of answers by content key. */
export interface CorrectionCache {
  /** Looks an entry up; a missing or corrupt entry is `undefined`. */
  get(key: string): Promise<CachedCorrection | undefined>;
  /** Stores an entry atomically. */
  put(key: string, value: CachedCorrection): Promise<void>;
  /** Counts entries and bytes. */
  stats(): Promise<CacheStats>;
  /** Removes entries written more than `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): Promise<number>;
  /** Removes every entry; returns how many. */
  clear(): Promise<number>;
}

/** What besides the text decides an answer, and so is part of the key. */
export interface CacheKeyParts {
  /** Model id. */
  model: string;
  /** The instruction's version. */
  promptVersion: string;
  /** Generation settings (temperature, ...), serialised with sorted keys. */
  settings: Record<string, unknown>;
  /** The redacted, normalised text. */
  text: string;
}

/**
 * Normalises a redacted prompt for keying and sending: NFC, LF line ends, no trailing blanks (unlike
 * Stage 2's `normalizeText`, it also unifies the Unicode form, so equal-looking texts share one answer).
 *
 * @param text A redacted prompt.
 * @returns The normalised text.
 */
export function normalizeForKey(text: string): string {
  return text.normalize("NFC").replace(/\r\n?/g, "\n").replace(/[ \t]+$/gm, "").trim();
}

/**
 * Computes the content key of one item: sha256 over model, prompt version, settings and text.
 *
 * @example
 * ```ts
 * import { cacheKey } from "./disk_cache.ts";
 * const key = cacheKey({ model: "m", promptVersion: "v1", settings: { temperature: 0 }, text: "hi" });
 * if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(key);
 * ```
 *
 * @param parts Model, prompt version, settings and normalised redacted text.
 * @returns 64 hex characters.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const settings = Object.fromEntries(Object.entries(parts.settings).sort(([a], [b]) => a < b ? -1 : 1));
  return createHash("sha256")
    .update(JSON.stringify([parts.model, parts.promptVersion, settings, parts.text]))
    .digest("hex");
}

function isCachedCorrection(value: unknown): value is CachedCorrection {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.status === "string" && (typeof v.corrected === "string" || v.corrected === null) &&
    typeof v.model === "string" && typeof v.at === "number";
}

function assertKey(key: string): void {
  if (!/^[0-9a-f]{16,128}$/.test(key)) {
    throw new TypeError(`Cannot use cache key as it must be lowercase hex: current length is ${key.length}`);
  }
}

/**
 * Creates a cache of one file per entry under `dir/<first two hex>/<key>.json`.
 *
 * @param dir The cache directory (created on first write).
 * @param options `clock` for entry ages.
 * @returns The cache.
 */
export function createDiskCache(dir: string, options: { clock?: Clock } = {}): CorrectionCache {
  const clock = options.clock ?? systemClock;
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);

  async function* entries(): AsyncGenerator<{ path: string; key: string }> {
    let shards: Deno.DirEntry[];
    try {
      shards = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const shard of shards) {
      if (!shard.isDirectory || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
      for await (const file of Deno.readDir(join(dir, shard.name))) {
        if (file.isFile && file.name.endsWith(".json")) {
          yield { path: join(dir, shard.name, file.name), key: file.name.slice(0, -5) };
        }
      }
    }
  }

  async function readEntry(path: string, key: string): Promise<CachedCorrection | undefined> {
    let raw: string;
    try {
      raw = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(raw) as { key?: unknown; value?: unknown };
      return parsed.key === key && isCachedCorrection(parsed.value) ? parsed.value : undefined;
    } catch {
      return undefined; // A corrupt entry is a miss; the next put overwrites it.
    }
  }

  return {
    async get(key) {
      assertKey(key);
      return await readEntry(pathOf(key), key);
    },
    async put(key, value) {
      assertKey(key);
      const path = pathOf(key);
      await writeFileAtomic(path, JSON.stringify({ v: 1, key, value }));
    },
    async stats() {
      const result: CacheStats = { entries: 0, bytes: 0, oldestMs: null, newestMs: null };
      for await (const { path } of entries()) {
        const info = await Deno.stat(path);
        const at = info.mtime?.getTime() ?? 0;
        result.entries++;
        result.bytes += info.size;
        result.oldestMs = result.oldestMs === null ? at : Math.min(result.oldestMs, at);
        result.newestMs = result.newestMs === null ? at : Math.max(result.newestMs, at);
      }
      return result;
    },
    async prune(olderThanMs) {
      if (!(olderThanMs >= 0)) {
        throw new RangeError(
          `Cannot prune cache as 'olderThanMs' must be a non-negative number: current value is ${olderThanMs}`,
        );
      }
      const cutoff = clock.now() - olderThanMs;
      let removed = 0;
      for await (const { path, key } of entries()) {
        const value = await readEntry(path, key);
        const at = value?.at ?? (await Deno.stat(path)).mtime?.getTime() ?? 0;
        if (at < cutoff) {
          await Deno.remove(path).catch(() => {});
          removed++;
        }
      }
      return removed;
    },
    async clear() {
      let removed = 0;
      for await (const { path } of entries()) {
        await Deno.remove(path).catch(() => {});
        removed++;
      }
      return removed;
    },
  };
}

/**
 * Creates an in-memory cache (tests, `--no-cache` runs).
 *
 * @param options `clock` for entry ages.
 * @returns The cache.
 */
export function createMemoryCache(options: { clock?: Clock } = {}): CorrectionCache {
  const clock = options.clock ?? systemClock;
  const map = new Map<string, string>();
  return {
    get(key) {
      const raw = map.get(key);
      return Promise.resolve(raw === undefined ? undefined : JSON.parse(raw) as CachedCorrection);
    },
    put(key, value) {
      map.set(key, JSON.stringify(value));
      return Promise.resolve();
    },
    stats() {
      let bytes = 0, oldestMs: number | null = null, newestMs: number | null = null;
      for (const raw of map.values()) {
        bytes += raw.length;
        const { at } = JSON.parse(raw) as CachedCorrection;
        oldestMs = oldestMs === null ? at : Math.min(oldestMs, at);
        newestMs = newestMs === null ? at : Math.max(newestMs, at);
      }
      return Promise.resolve({ entries: map.size, bytes, oldestMs, newestMs });
    },
    prune(olderThanMs) {
      const cutoff = clock.now() - olderThanMs;
      let removed = 0;
      for (const [key, raw] of map) {
        if ((JSON.parse(raw) as CachedCorrection).at < cutoff) {
          map.delete(key);
          removed++;
        }
      }
      return Promise.resolve(removed);
    },
    clear() {
      const n = map.size;
      map.clear();
      return Promise.resolve(n);
    },
  };
}
