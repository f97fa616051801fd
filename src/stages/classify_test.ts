import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { envelopeSchema } from "../schema/mod.ts";
import { classify } from "./classify.ts";

function kindOf(record: Record<string, unknown>) {
  return classify(envelopeSchema.parse({ uuid: "u", ...record }));
}

Deno.test("classify() tells typed prompts from slash commands and command output", () => {
  assertEquals(kindOf({ type: "user", message: { content: "fix teh bug" } }).kind, "human_prompt");
  assertEquals(
    kindOf({
      type: "user",
      message: { content: "<command-name>/clear</command-name>\n<command-message>clear</command-message>" },
    })
      .kind,
    "slash_command",
  );
  assertEquals(
    kindOf({ type: "user", message: { content: "<local-command-stdout>ok</local-command-stdout>" } }).kind,
    "meta",
  );
  assertEquals(kindOf({ type: "user", message: { content: "[Request interrupted by user]" } }).kind, "meta");
  assertEquals(kindOf({ type: "user", isMeta: true, message: { content: "Caveat: ..." } }).kind, "meta");
  assertEquals(
    kindOf({ type: "user", isCompactSummary: true, message: { content: "This session..." } }).kind,
    "compact_summary",
  );
});

Deno.test("classify() reads tool results and text arrays in user records", () => {
  const result = kindOf({
    type: "user",
    message: {
      content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "out" }] }],
    },
  });
  assertEquals(result.kind, "tool_result");
  assertEquals(result.text, "out");
  assertEquals(result.blockTypes, ["tool_result"]);
  const typed = kindOf({
    type: "user",
    message: { content: [{ type: "text", text: "look" }, { type: "image" }] },
  });
  assertEquals(typed.kind, "human_prompt");
  assertEquals(typed.text, "look");
});

Deno.test("classify() names tools and kinds of assistant records", () => {
  const tool = kindOf({
    type: "assistant",
    message: { content: [{ type: "text", text: "reading" }, { type: "tool_use", name: "Read", input: {} }] },
  });
  assertEquals([tool.kind, tool.toolNames, tool.text], ["tool_use", ["Read"], "reading"]);
  assertEquals(
    kindOf({ type: "assistant", message: { content: [{ type: "text", text: "hi" }] } }).kind,
    "assistant_text",
  );
  const thinking = kindOf({
    type: "assistant",
    message: { content: [{ type: "thinking", thinking: "hmm" }] },
  });
  assertEquals([thinking.kind, thinking.text], ["thinking", "hmm"]);
  assertEquals(kindOf({ type: "assistant", message: { content: [] } }).kind, "other");
});

Deno.test("classify() keeps unknown uuid-bearing types as other", () => {
  assertEquals(kindOf({ type: "progress", data: { type: "hook" } }).kind, "other");
  assertEquals(kindOf({ type: "system", subtype: "turn_duration", content: "3s" }).kind, "system");
});

Deno.test("classify() does not count a subagent's Task prompt as typed by a person", () => {
  assertEquals(
    kindOf({ type: "user", isSidechain: true, message: { content: "Find the failing tests" } }).kind,
    "meta",
  );
});
