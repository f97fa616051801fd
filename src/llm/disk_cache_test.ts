import assert from "node:assert/strict";
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
