import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { envelopeSchema } from "../schema/mod.ts";
import type { MessageKind } from "../schema/mod.ts";
import { type Classified, classify } from "./classify.ts";

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

Deno.test("classify() returns kind, text, tool names and block types of every shape", () => {
  const user = (content: unknown, fields: Record<string, unknown> = {}) => ({
    type: "user",
    message: { role: "user", content },
    ...fields,
  });
  const assistant = (content: unknown) => ({ type: "assistant", message: { role: "assistant", content } });
  const cases: [string, Record<string, unknown>, Classified][] = [
    ["typed prompt", user("fix teh bug"), c("human_prompt", "fix teh bug")],
    [
      "compact summary",
      user("Summary: ...", { isCompactSummary: true }),
      c("compact_summary", "Summary: ..."),
    ],
    [
      "compact summary as blocks",
      user([{ type: "text", text: "s" }], { isCompactSummary: true }),
      c(
        "compact_summary",
        null,
      ),
    ],
    [
      "indented command",
      user("  \n<command-name>/compact</command-name>"),
      c(
        "slash_command",
        "  \n<command-name>/compact</command-name>",
      ),
    ],
    [
      "command message first",
      user("<command-message>clear</command-message>"),
      c(
        "slash_command",
        "<command-message>clear</command-message>",
      ),
    ],
    ["bash input", user("<bash-input>ls</bash-input>"), c("slash_command", "<bash-input>ls</bash-input>")],
    ["command stderr", user("<local-command-stderr>x"), c("meta", "<local-command-stderr>x")],
    ["bash stdout", user(" <bash-stdout>x"), c("meta", " <bash-stdout>x")],
    ["bash stderr", user("<bash-stderr>x"), c("meta", "<bash-stderr>x")],
    [
      "a prompt that mentions a command",
      user("what does <command-name> do"),
      c(
        "human_prompt",
        "what does <command-name> do",
      ),
    ],
    ["meta string", user("Caveat", { isMeta: true }), c("meta", "Caveat")],
    ["sidechain string", user("Find it", { isSidechain: true }), c("meta", "Find it")],
    ["not a sidechain", user("Find it", { isSidechain: false }), c("human_prompt", "Find it")],
    ["no message", { type: "user" }, c("other", null)],
    [
      "tool result text",
      user([{ type: "tool_result", content: "out" }]),
      c("tool_result", "out", [], [
        "tool_result",
      ]),
    ],
    [
      "tool results of blocks",
      user([
        null,
        "stray",
        { type: "tool_result", content: [{ type: "text", text: "a" }, { type: "image", text: "cap" }, 7] },
        {
          type: "tool_result",
          content: [{ type: "text" }, { type: "text", text: 5 }, { type: "text", text: "b" }],
        },
        { type: "tool_result", content: [{ type: "text", text: "c" }, { type: "text", text: "d" }] },
        { type: "tool_result", content: null },
        { type: "tool_result", content: [{ type: "text", text: "" }] },
        { text: "no type" },
      ]),
      c("tool_result", "a\n\nb\n\nc\nd", [], [
        "tool_result",
        "tool_result",
        "tool_result",
        "tool_result",
        "tool_result",
        "unknown",
      ]),
    ],
    [
      "empty tool result",
      user([{ type: "tool_result", content: [{ type: "image" }] }]),
      c("tool_result", null, [], [
        "tool_result",
      ]),
    ],
    [
      "text blocks",
      user([{ type: "text", text: "look" }, { type: "text", text: "" }, { type: "image", text: "x" }, {
        type: "text",
        text: "here",
      }]),
      c("human_prompt", "look\n\nhere", [], ["text", "text", "image", "text"]),
    ],
    ["image only", user([{ type: "image" }]), c("human_prompt", null, [], ["image"])],
    [
      "text only",
      user([{ type: "text", text: "plain" }, { type: "text", text: 7 }]),
      c("human_prompt", "plain", [], [
        "text",
        "text",
      ]),
    ],
    [
      "tool result beside another block with content",
      user([{ type: "tool_result", content: "a" }, { type: "document", content: "doc" }]),
      c("tool_result", "a", [], ["tool_result", "document"]),
    ],
    ["assistant block without a type", assistant([{ text: "x" }]), c("other", null, [], ["unknown"])],
    [
      "meta blocks",
      user([{ type: "text", text: "Caveat" }], { isMeta: true }),
      c("meta", "Caveat", [], ["text"]),
    ],
    [
      "interrupt blocks",
      user([{ type: "text", text: "[Request interrupted by user]" }]),
      c(
        "meta",
        "[Request interrupted by user]",
        [],
        ["text"],
      ),
    ],
    ["unknown blocks", user([{ type: "document" }]), c("other", null, [], ["document"])],
    ["empty text block", user([{ type: "text", text: "" }]), c("other", null, [], ["text"])],
    [
      "tool uses",
      assistant([
        { type: "text", text: "reading" },
        { type: "tool_use", name: "Read" },
        { type: "tool_use", name: 3 },
        { type: "text", name: "NotATool" },
        { type: "tool_use", name: "Bash" },
      ]),
      c("tool_use", "reading", ["Read", "Bash"], ["text", "tool_use", "tool_use", "text", "tool_use"]),
    ],
    [
      "two texts",
      assistant([{ type: "text", text: "a" }, { type: "thinking", text: "x" }, {
        type: "text",
        text: "b",
      }]),
      c("assistant_text", "a\n\nb", [], ["text", "thinking", "text"]),
    ],
    [
      "thinking",
      assistant([{ type: "thinking", thinking: "hmm" }, { type: "redacted_thinking", thinking: "no" }, {
        type: "thinking",
        thinking: "ok",
      }, { type: "tool_result", thinking: "x" }]),
      c("thinking", "hmm\n\nok", [], ["thinking", "redacted_thinking", "thinking", "tool_result"]),
    ],
    [
      "redacted thinking only",
      assistant([{ type: "redacted_thinking", data: "…" }]),
      c("thinking", null, [], [
        "redacted_thinking",
      ]),
    ],
    [
      "thinking without text",
      assistant([{ type: "thinking", signature: "s" }]),
      c("thinking", null, [], [
        "thinking",
      ]),
    ],
    ["no assistant message", { type: "assistant" }, c("other", null)],
    [
      "system text",
      { type: "system", content: "Conversation compacted" },
      c("system", "Conversation compacted"),
    ],
    ["system without text", { type: "system", content: { level: "info" } }, c("system", null)],
    ["other type", { type: "progress", message: { content: "x" } }, c("other", null)],
  ];
  for (const [name, record, expected] of cases) assertEquals(kindOf(record), expected, name);
});

function c(
  kind: MessageKind,
  text: string | null,
  toolNames: string[] = [],
  blockTypes: string[] = [],
): Classified {
  return { kind, text, toolNames, blockTypes };
}
