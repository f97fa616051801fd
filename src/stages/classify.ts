/**
 * Classifies a conversation record into a {@linkcode MessageKind} and extracts its text and tool names.
 *
 * @module
 */
import type { Envelope, MessageKind } from "../schema/mod.ts";

const SLASH_PREFIXES = ["<command-name>", "<command-message>", "<bash-input>"];
const META_PREFIXES = [
  "<local-command-stdout>",
  "<local-command-stderr>",
  "<bash-stdout>",
  "<bash-stderr>",
  "[Request interrupted",
];

/** What classification finds in a record. */
export interface Classified {
  kind: MessageKind;
  /** The record's readable text (prompt, answer, thinking, tool output), or null. */
  text: string | null;
  /** Names of tools used (tool_use blocks). */
  toolNames: string[];
  /** Content block types found, in order. */
  blockTypes: string[];
}

type Block = Record<string, unknown>;

function blocksOf(content: unknown): Block[] | null {
  if (!Array.isArray(content)) return null;
  return content.filter((b): b is Block => typeof b === "object" && b !== null);
}

function toolResultText(content: unknown): string | null {
  if (typeof content === "string") return content;
  const blocks = blocksOf(content);
  if (!blocks) return null;
  const texts = blocks.filter((b) => b.type === "text" && typeof b.text === "string").map((b) =>
    b.text as string
  );
  return texts.length > 0 ? texts.join("\n") : null;
}

function joinTexts(parts: (string | null)[]): string | null {
  const kept = parts.filter((p): p is string => p !== null && p !== "");
  return kept.length > 0 ? kept.join("\n\n") : null;
}

function startsWithAny(text: string, prefixes: readonly string[]): boolean {
  const head = text.trimStart();
  return prefixes.some((p) => head.startsWith(p));
}

function classifyUser(env: Envelope): Classified {
  const content = env.message?.content;
  if (env.isCompactSummary) {
    return {
      kind: "compact_summary",
      text: typeof content === "string" ? content : null,
      toolNames: [],
      blockTypes: [],
    };
  }
  if (typeof content === "string") {
    // In a sidechain (subagent) the "user" turns are written by Claude (the Task prompt), not typed.
    const kind: MessageKind = env.isMeta || env.isSidechain === true
      ? "meta"
      : startsWithAny(content, SLASH_PREFIXES)
      ? "slash_command"
      : startsWithAny(content, META_PREFIXES)
      ? "meta"
      : "human_prompt";
    return { kind, text: content, toolNames: [], blockTypes: [] };
  }
  const blocks = blocksOf(content) ?? [];
  const blockTypes = blocks.map((b) => String(b.type ?? "unknown"));
  if (blockTypes.includes("tool_result")) {
    const text = joinTexts(
      blocks.filter((b) => b.type === "tool_result").map((b) => toolResultText(b.content)),
    );
    return { kind: "tool_result", text, toolNames: [], blockTypes };
  }
  const text = joinTexts(
    blocks.map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : null)),
  );
  if (env.isMeta) return { kind: "meta", text, toolNames: [], blockTypes };
  if (text !== null && startsWithAny(text, META_PREFIXES)) {
    return { kind: "meta", text, toolNames: [], blockTypes };
  }
  if (text !== null || blockTypes.includes("image")) {
    return { kind: "human_prompt", text, toolNames: [], blockTypes };
  }
  return { kind: "other", text, toolNames: [], blockTypes };
}

function classifyAssistant(env: Envelope): Classified {
  const blocks = blocksOf(env.message?.content) ?? [];
  const blockTypes = blocks.map((b) => String(b.type ?? "unknown"));
  const toolNames = blocks.filter((b) => b.type === "tool_use" && typeof b.name === "string").map((b) =>
    b.name as string
  );
  const text = joinTexts(
    blocks.map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : null)),
  );
  if (blockTypes.includes("tool_use")) return { kind: "tool_use", text, toolNames, blockTypes };
  if (text !== null) return { kind: "assistant_text", text, toolNames, blockTypes };
  const thinking = joinTexts(
    blocks.map((b) => (b.type === "thinking" && typeof b.thinking === "string" ? b.thinking : null)),
  );
  if (blockTypes.includes("thinking") || blockTypes.includes("redacted_thinking")) {
    return { kind: "thinking", text: thinking, toolNames, blockTypes };
  }
  return { kind: "other", text: null, toolNames, blockTypes };
}

/**
 * Classifies one uuid-bearing record.
 *
 * @param env The record's validated envelope.
 * @returns Its kind, text, tool names and content block types.
 */
export function classify(env: Envelope): Classified {
  switch (env.type) {
    case "user":
      return classifyUser(env);
    case "assistant":
      return classifyAssistant(env);
    case "system": {
      const content = (env as Record<string, unknown>).content;
      return {
        kind: "system",
        text: typeof content === "string" ? content : null,
        toolNames: [],
        blockTypes: [],
      };
    }
    default:
      return { kind: "other", text: null, toolNames: [], blockTypes: [] };
  }
}
