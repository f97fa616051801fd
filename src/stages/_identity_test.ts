import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { RawRecord } from "../schema/mod.ts";
import { eventDateOf, isoTimestamp, projectIdOf, sessionIdOf } from "./_identity.ts";

const raw = (file: string): RawRecord => ({ file, line: 1, offset: 0, bytes: 2, type: "user", value: {} });

Deno.test("sessionIdOf() takes the record's sessionId, else the file name without .jsonl", () => {
  assert.equal(sessionIdOf(raw("/p/file-id.jsonl"), { sessionId: "s-1" }), "s-1");
  assert.equal(sessionIdOf(raw("/p/q/file-id.jsonl"), { sessionId: null }), "file-id");
  assert.equal(sessionIdOf(raw("/p/q/file-id.jsonl"), { sessionId: "" }), "file-id");
  assert.equal(sessionIdOf(raw("/p/q/notes.txt"), {}), "notes.txt");
  assert.equal(sessionIdOf(raw("bare.jsonl"), {}), "bare");
});

Deno.test("projectIdOf() is the first 12 hex characters of sha256('project', NUL, cwd)", () => {
  const expected = (key: string) => createHash("sha256").update(`project\0${key}`).digest("hex").slice(0, 12);
  assert.equal(projectIdOf("/home/a/proj"), expected("/home/a/proj"));
  assert.equal(projectIdOf("/home/a/proj"), expected("/home/a/proj")); // the cached answer is the same
  assert.equal(projectIdOf(null), expected("(unknown)"));
  assert.equal(projectIdOf(undefined), expected("(unknown)"));
  assert.notEqual(projectIdOf("/home/a/other"), projectIdOf("/home/a/proj"));
});

Deno.test("isoTimestamp() keeps canonical UTC, rewrites other ISO forms and drops the rest", () => {
  assert.equal(isoTimestamp("2026-05-02T09:00:00.000Z"), "2026-05-02T09:00:00.000Z");
  assert.equal(isoTimestamp("2026-05-02T09:00:00Z"), "2026-05-02T09:00:00.000Z");
  assert.equal(isoTimestamp("2026-05-02T11:00:00.5+02:00"), "2026-05-02T09:00:00.500Z");
  // Canonical-looking but with text around it: parsed (and refused), not passed through.
  assert.equal(isoTimestamp("x2026-05-02T09:00:00.000Z"), null);
  assert.equal(isoTimestamp("2026-05-02T09:00:00.000Zx"), null);
  assert.equal(isoTimestamp("not a date"), null);
  // One field short or not digits: not canonical, and not a date either.
  for (
    const bad of [
      "abcd-05-02T09:00:00.000Z",
      "2-05-02T09:00:00.000Z",
      "2026-ab-02T09:00:00.000Z",
      "2026-5-02T09:00:00.000Z",
      "2026-05-abT09:00:00.000Z",
      "2026-05-2T09:00:00.000Z",
      "2026-05-02Tab:00:00.000Z",
      "2026-05-02T9:00:00.000Z",
      "2026-05-02T09:ab:00.000Z",
      "2026-05-02T09:0:00.000Z",
      "2026-05-02T09:00:ab.000Z",
      "2026-05-02T09:00:0.000Z",
      "2026-05-02T09:00:00.abcZ",
    ]
  ) assert.equal(isoTimestamp(bad), null, bad);
  // One digit of milliseconds is a date, written back in canonical form.
  assert.equal(isoTimestamp("2026-05-02T09:00:00.5Z"), "2026-05-02T09:00:00.500Z");
  // Only strings: an array that prints as a timestamp is not one.
  assert.equal(isoTimestamp(["2026-05-02T09:00:00.000Z"]), null);
  assert.equal(isoTimestamp(1_700_000_000_000), null);
  assert.equal(isoTimestamp(null), null);
});

Deno.test("eventDateOf() gives the calendar day in the zone asked for", () => {
  assert.equal(eventDateOf(null), null);
  assert.equal(eventDateOf("2026-05-02T03:30:00.000Z"), "2026-05-02");
  assert.equal(eventDateOf("2026-05-02T03:30:00.000Z", "UTC"), "2026-05-02");
  assert.equal(eventDateOf("2026-05-02T03:30:00.000Z", "America/Los_Angeles"), "2026-05-01");
  assert.equal(eventDateOf("2026-05-02T03:30:00.000Z", "America/Los_Angeles"), "2026-05-01"); // cached format
  assert.equal(eventDateOf("2026-05-02T12:30:00.000Z", "Pacific/Auckland"), "2026-05-03");
  assert.equal(eventDateOf("2026-01-09T23:00:00.000Z", "Europe/Paris"), "2026-01-10");
  assert.throws(() => eventDateOf("2026-05-02T03:30:00.000Z", "Mars/Olympus"), RangeError);
});
