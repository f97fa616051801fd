import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { allPassed, type CaseResult, formatTable } from "./_report.ts";
import { memoryRows } from "./_memory.ts";
import type { MemoryReport } from "./_memory_child.ts";

const MiB = 1024 * 1024;

function report(peakRss: number, heapAfter: number): MemoryReport {
  return {
    peakRss,
    heapBefore: 20 * MiB,
    heapAfter,
    heapPeak: heapAfter,
    rssAfter: peakRss,
    externalAfter: 0,
    bytesRead: 1,
    records: 1,
    prompts: 1,
    geminiCalls: 1,
    duckdbRows: null,
    bigqueryRows: null,
    seconds: 1,
  };
}

Deno.test("formatTable() prints one aligned row per result with its verdict", () => {
  const rows: CaseResult[] = [
    { name: "a", measured: "5.00×", target: "≥ 4.75", pass: true, how: "ratio" },
    { name: "longer name", measured: "1", target: "info", pass: null, how: "x" },
    { name: "c", measured: "0.5", target: "≥ 0.9", pass: false, how: "y" },
  ];
  const lines = formatTable(rows).split("\n");
  assertEquals(lines.length, 5);
  assert(lines[2]!.includes("PASS") && lines[3]!.includes("–") && lines[4]!.includes("FAIL"));
  assertEquals(new Set(lines.map((l) => l.length)).size, 1);
});

Deno.test("allPassed() fails on any missed target and ignores info rows", () => {
  const base = { name: "x", measured: "", target: "", how: "" };
  assertEquals(allPassed([{ ...base, pass: true }, { ...base, pass: null }]), true);
  assertEquals(allPassed([{ ...base, pass: true }, { ...base, pass: false }]), false);
});

Deno.test("memoryRows() judges heap growth and the peak RSS ratio between the smallest and largest size", () => {
  const ok = memoryRows([[1_000, report(200 * MiB, 27 * MiB)], [100_000, report(390 * MiB, 32 * MiB)]], 2);
  assertEquals(ok.map((r) => r.pass), [null, null, true, true]);
  const bad = memoryRows([[1_000, report(200 * MiB, 27 * MiB)], [100_000, report(600 * MiB, 34 * MiB)]], 2);
  assertEquals(bad.map((r) => r.pass), [null, null, false, false]);
});
