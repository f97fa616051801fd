import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type CachedCorrection,
  cacheKey,
  createDiskCache,
  createMemoryCache,
  normalizeForKey,
} from "./disk_cache.ts";
import { FakeClock } from "../testing/fake_clock.ts";

const entry: CachedCorrection = { status: "corrected", corrected: "the fix", model: "m", at: 1_000 };
const key = (text: string) =>
  cacheKey({ model: "m", promptVersion: "v1", settings: { temperature: 0 }, text });

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "ccpipe_cache_test_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("cacheKey() changes with model, prompt version, settings and text", () => {
  const base = { model: "m", promptVersion: "v1", settings: { temperature: 0, a: 1 }, text: "t" };
  const k = cacheKey(base);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(cacheKey({ ...base, settings: { a: 1, temperature: 0 } }), k);
  assert.notEqual(cacheKey({ ...base, model: "n" }), k);
  assert.notEqual(cacheKey({ ...base, promptVersion: "v2" }), k);
  assert.notEqual(cacheKey({ ...base, settings: { temperature: 1, a: 1 } }), k);
  assert.notEqual(cacheKey({ ...base, text: "u" }), k);
});

Deno.test("normalizeForKey() unifies line ends, trailing blanks and Unicode form", () => {
  assert.equal(normalizeForKey("  a \r\nb\t\r\n\n"), "a\nb");
  assert.equal(normalizeForKey("cafe\u0301"), "caf\u00e9");
});

Deno.test("createDiskCache() stores entries in shards and reads them back", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  const k = key("hello");
  assert.equal(await cache.get(k), undefined);
  await cache.put(k, entry);
  assert.deepEqual(await cache.get(k), entry);
  const shard = [...Deno.readDirSync(join(dir.path, k.slice(0, 2)))].map((e) => e.name);
  assert.deepEqual(shard, [`${k}.json`]); // no temp file left behind
  assert.equal((await cache.stats()).entries, 1);
});

Deno.test("createDiskCache() treats a corrupt or foreign entry as a miss", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  const k = key("a");
  await cache.put(k, entry);
  const path = join(dir.path, k.slice(0, 2), `${k}.json`);
  await Deno.writeTextFile(path, '{"v":1,"key":"' + k.slice(0, 10)); // truncated
  assert.equal(await cache.get(k), undefined);
  await Deno.writeTextFile(path, JSON.stringify({ v: 1, key: key("other"), value: entry }));
  assert.equal(await cache.get(k), undefined);
  await cache.put(k, entry);
  assert.deepEqual(await cache.get(k), entry);
});

Deno.test("createDiskCache() prunes by age and clears", async () => {
  await using dir = await tempDir();
  const clock = new FakeClock({ start: 100_000 });
  const cache = createDiskCache(dir.path, { clock });
  await cache.put(key("old"), { ...entry, at: 10_000 });
  await cache.put(key("new"), { ...entry, at: 95_000 });
  assert.equal(await cache.prune(50_000), 1);
  assert.equal(await cache.get(key("old")), undefined);
  assert.ok(await cache.get(key("new")));
  const stats = await cache.stats();
  assert.equal(stats.entries, 1);
  assert.ok(stats.bytes > 0);
  assert.equal(await cache.clear(), 1);
  assert.equal((await cache.stats()).entries, 0);
  await assert.rejects(cache.prune(-1), RangeError);
});

Deno.test("createDiskCache() rejects keys that are not hex", async () => {
  await using dir = await tempDir();
  await assert.rejects(createDiskCache(dir.path).get("../../etc/passwd"), TypeError);
});

Deno.test("createDiskCache() on a missing dir reports empty stats", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(join(dir.path, "absent"));
  assert.deepEqual(await cache.stats(), { entries: 0, bytes: 0, oldestMs: null, newestMs: null });
});

Deno.test("createMemoryCache() behaves like the disk cache", async () => {
  const clock = new FakeClock({ start: 100_000 });
  const cache = createMemoryCache({ clock });
  await cache.put(key("old"), { ...entry, at: 10_000 });
  await cache.put(key("new"), { ...entry, at: 95_000 });
  assert.deepEqual(await cache.get(key("new")), { ...entry, at: 95_000 });
  assert.equal((await cache.stats()).oldestMs, 10_000);
  assert.equal(await cache.prune(50_000), 1);
  assert.equal(await cache.clear(), 1);
});

Deno.test("cacheKey() is sha256 of the JSON list [model, prompt version, settings by key, text]", () => {
  const parts = { model: "m", promptVersion: "v1", settings: { temperature: 0, a: 1, b: 2 }, text: "t" };
  const expected = createHash("sha256").update('["m","v1",{"a":1,"b":2,"temperature":0},"t"]').digest("hex");
  assert.equal(cacheKey(parts), expected);
  assert.equal(cacheKey({ ...parts, settings: { b: 2, temperature: 0, a: 1 } }), expected);
});

Deno.test("normalizeForKey() trims every line's end and turns a lone CR into a line break", () => {
  assert.equal(normalizeForKey("a  \nb\t \nc d"), "a\nb\nc d");
  assert.equal(normalizeForKey("a\rb"), "a\nb");
});

Deno.test("createDiskCache() reads only well-formed entries as hits", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  const k = key("shape");
  const path = join(dir.path, k.slice(0, 2), `${k}.json`);
  await cache.put(k, { ...entry, corrected: null, status: "unchanged" });
  assert.deepEqual(await cache.get(k), { ...entry, corrected: null, status: "unchanged" });
  const bad: Record<string, unknown> = {
    "null value": null,
    "string value": "corrected",
    "numeric status": { ...entry, status: 1 },
    "numeric text": { ...entry, corrected: 5 },
    "no text": { status: "corrected", model: "m", at: 1 },
    "numeric model": { ...entry, model: 2 },
    "string time": { ...entry, at: "1000" },
  };
  for (const [name, value] of Object.entries(bad)) {
    await Deno.writeTextFile(path, JSON.stringify({ v: 1, key: k, value }));
    assert.equal(await cache.get(k), undefined, name);
  }
});

Deno.test("createDiskCache() accepts only 16 to 128 lowercase hex characters as a key", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  const hex = "0123456789abcdef";
  for (const bad of ["abc", hex.toUpperCase(), `x${hex}`, `${hex}z`, hex.slice(1), hex.repeat(8) + "0"]) {
    await assert.rejects(
      cache.put(bad, entry),
      new TypeError(`Cannot use cache key as it must be lowercase hex: current length is ${bad.length}`),
      bad,
    );
  }
  await cache.put(hex, entry);
  await cache.put(hex.repeat(8), entry);
  assert.equal((await cache.stats()).entries, 2);
});

Deno.test("createDiskCache() counts only entry files in hex shards, and dates them by their files", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  // Six entries, dated in the order the directory lists them (the order stats() reads them): the
  // oldest is read first and the newest last, so neither is simply "the last one read".
  const keys = ["one", "two", "three", "four", "five", "six"].map(key);
  for (const k of keys) await cache.put(k, entry);
  const listed: string[] = [];
  for await (const shard of Deno.readDir(dir.path)) {
    for await (const file of Deno.readDir(join(dir.path, shard.name))) {
      listed.push(join(dir.path, shard.name, file.name));
    }
  }
  const seconds = [1_000, 3_000, 2_000, 2_500, 4_000, 5_000];
  for (const [i, path] of listed.entries()) await Deno.utime(path, seconds[i], seconds[i]);
  const k1 = keys[0];
  // Not entries: a temp file, a folder named like an entry, shards that are not two hex characters.
  await Deno.writeTextFile(join(dir.path, k1.slice(0, 2), `${k1}.json.tmp-1`), "{}");
  await Deno.mkdir(join(dir.path, k1.slice(0, 2), "folder.json"));
  for (const shard of ["zz", "abc", "0"]) {
    await Deno.mkdir(join(dir.path, shard));
    await Deno.writeTextFile(join(dir.path, shard, `${k1}.json`), "{}");
  }
  await Deno.writeTextFile(join(dir.path, "ab"), "a file where a shard could be");
  const stats = await cache.stats();
  assert.deepEqual([stats.entries, stats.oldestMs, stats.newestMs], [6, 1_000_000, 5_000_000]);
  assert.ok(stats.bytes > 6 * JSON.stringify(entry).length);
  assert.equal(await cache.clear(), 6);
});

Deno.test("createDiskCache() passes on errors other than a missing entry", async () => {
  await using dir = await tempDir();
  const cache = createDiskCache(dir.path);
  const k = key("dir");
  await Deno.mkdir(join(dir.path, k.slice(0, 2), `${k}.json`), { recursive: true });
  await assert.rejects(cache.get(k));
  await using file = await tempDir();
  await Deno.writeTextFile(join(file.path, "cache"), "not a directory");
  await assert.rejects(createDiskCache(join(file.path, "cache")).stats());
});

Deno.test("createDiskCache().prune() keeps entries written at the cutoff or later, corrupt ones by file date", async () => {
  await using dir = await tempDir();
  const clock = new FakeClock({ start: 100_000 });
  const cache = createDiskCache(dir.path, { clock });
  await cache.put(key("at cutoff"), { ...entry, at: 60_000 });
  await cache.put(key("before"), { ...entry, at: 59_999 });
  const [oldBroken, newBroken] = [key("old broken"), key("new broken")];
  for (const k of [oldBroken, newBroken]) {
    await Deno.mkdir(join(dir.path, k.slice(0, 2)), { recursive: true });
    await Deno.writeTextFile(join(dir.path, k.slice(0, 2), `${k}.json`), "{");
  }
  await Deno.utime(join(dir.path, oldBroken.slice(0, 2), `${oldBroken}.json`), 1, 1); // 1 s after the epoch
  await Deno.utime(join(dir.path, newBroken.slice(0, 2), `${newBroken}.json`), 70, 70);
  assert.equal(await cache.prune(40_000), 2);
  assert.ok(await cache.get(key("at cutoff")));
  assert.equal((await cache.stats()).entries, 2);
  assert.equal(await cache.prune(0), 2);
  await assert.rejects(
    cache.prune(-1),
    new RangeError("Cannot prune cache as 'olderThanMs' must be a non-negative number: current value is -1"),
  );
});

Deno.test("createMemoryCache() reports misses, sizes, ages and prunes at the cutoff", async () => {
  const clock = new FakeClock({ start: 100_000 });
  const cache = createMemoryCache({ clock });
  assert.equal(await cache.get(key("none")), undefined);
  await cache.put(key("a"), { ...entry, at: 60_000 });
  await cache.put(key("b"), { ...entry, at: 90_000 });
  await cache.put(key("c"), { ...entry, at: 70_000 });
  const stats = await cache.stats();
  assert.deepEqual([stats.entries, stats.oldestMs, stats.newestMs], [3, 60_000, 90_000]);
  assert.equal(stats.bytes, 3 * JSON.stringify({ ...entry, at: 60_000 }).length);
  assert.equal(await cache.prune(40_000), 0); // cutoff 60,000: "a" stays
  assert.equal(await cache.prune(35_000), 1);
  assert.deepEqual(await cache.get(key("b")), { ...entry, at: 90_000 });
});
