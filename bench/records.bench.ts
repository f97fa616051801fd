/**
 * Micro-benchmarks of Stages 2–3 per record: envelope validation, classification, text normalisation,
 * id hashing and the global dedupe set. Records come from the 100-message fixture.
 *
 * Run: `deno task microbench bench/records.bench.ts`
 *
 * @module
 */
import { stableId } from "../src/ids.ts";
import { envelopeSchema } from "../src/schema/records.ts";
import { classify } from "../src/stages/classify.ts";
import { normalizeText } from "../src/stages/normalize_text.ts";
import { FingerprintSet } from "../src/state/fingerprint_set.ts";

const FIXTURE = new URL("../fixtures/claude_code_100/projects/", import.meta.url);

/** Every parseable line of the fixture's transcripts, parsed. */
async function fixtureRecords(): Promise<unknown[]> {
  const records: unknown[] = [];
  for await (const path of walk(FIXTURE.pathname)) {
    for (const line of (await Deno.readTextFile(path)).split("\n")) {
      try {
        records.push(JSON.parse(line));
      } catch {
        // Blank or malformed: the extract bench covers those.
      }
    }
  }
  return records;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.name.endsWith(".jsonl")) yield path;
  }
}

const raw = await fixtureRecords();
// Only what the schema accepts (message records and their kin); Stage 2 counts the rest as invalid.
const envelopes = raw.flatMap((r) => {
  const parsed = envelopeSchema.safeParse(r);
  return parsed.success ? [parsed.data] : [];
});
const texts = envelopes.map((e) => classify(e).text).filter((t): t is string => t !== null);
const uuids = Array.from({ length: 100_000 }, (_, i) => crypto.randomUUID() + i);
const full = new FingerprintSet();
for (const u of uuids) full.add(u);

Deno.bench(`envelopeSchema.safeParse() ${raw.length} fixture records`, { group: "records" }, () => {
  for (const r of raw) envelopeSchema.safeParse(r);
});
Deno.bench(`classify() ${envelopes.length} fixture records`, { group: "records" }, () => {
  for (const e of envelopes) classify(e);
});
Deno.bench(`normalizeText() ${texts.length} fixture texts`, { group: "records" }, () => {
  for (const t of texts) normalizeText(t);
});
Deno.bench("stableId() of [session, uuid]", { group: "ids" }, () => {
  stableId(["5f0c1c2e-8a55-4a55-9f5e-2d6f1d1b7a10", "00000000-0000-4000-8000-000000000042"]);
});
Deno.bench("FingerprintSet.add() 10k new uuids", { group: "ids" }, () => {
  const set = new FingerprintSet();
  for (let i = 0; i < 10_000; i++) set.add(uuids[i]!);
});
Deno.bench("FingerprintSet.has() 10k hits in a 100k set", { group: "ids" }, () => {
  for (let i = 0; i < 10_000; i++) full.has(uuids[i]!);
});
