/**
 * The Stage 4 correction engine's parts: configuration, the versioned prompt, redaction, skip rules,
 * hallucination guards, the shared rate limiter, retry policy, the content-addressed cache, the Gemini
 * client and the run accounting. `src/stages/correct.ts` composes them.
 *
 * @module
 */
export * from "./accounting.ts";
export * from "./config.ts";
export * from "./disk_cache.ts";
export * from "./errors.ts";
export * from "./gemini_client.ts";
export * from "./guards.ts";
export * from "./prompt.ts";
export * from "./rate_limiter.ts";
export * from "./redact.ts";
export * from "./retry.ts";
export * from "./secret_rules.ts";
export * from "./select.ts";
