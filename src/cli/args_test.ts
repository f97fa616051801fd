import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { formatFlags, parseFlags } from "./args.ts";

const specs = {
  breakdown: {
    type: "string" as const,
    value: "BY",
    bare: "model",
    choices: ["model", "machine", "user"],
    help: "Split rows",
  },
  json: { type: "boolean" as const, help: "JSON" },
};
function parse(args: string[]) {
  const { flags, positionals } = parseFlags(args, specs, { command: "report", positionals: 1 });
  return { flags: { ...flags }, positionals }; // parseArgs gives a null-prototype object
}

Deno.test("parseFlags() gives a flag with a bare value that value alone, or the next word when it is a choice", () => {
  assertEquals(parse(["daily", "--breakdown"]), { flags: { breakdown: "model" }, positionals: ["daily"] });
  assertEquals(parse(["daily", "--breakdown", "machine"]).flags, { breakdown: "machine" });
  assertEquals(parse(["daily", "--breakdown=user", "--json"]).flags, { breakdown: "user", json: true });
  // A word that is not a choice stays a positional.
  assertEquals(parse(["--breakdown", "daily"]), { flags: { breakdown: "model" }, positionals: ["daily"] });
  assertEquals(parse(["--", "--breakdown"]), { flags: {}, positionals: ["--breakdown"] });
  assertThrows(() => parse(["daily", "--breakdown=host"]), /--breakdown must be one of model, machine, user/);
});

Deno.test("formatFlags() shows an optional value as --flag[=VALUE]", () => {
  assertEquals(formatFlags(specs).slice(1, 2).map((l) => l.trim().split(/\s{2,}/)[0]), ["--breakdown[=BY]"]);
});
