/**
 * Test helpers: Claude model ids the price data knows, old and new, for tests that price varied usage.
 *
 * @module
 */

/** Claude models with a price in @pydantic/genai-prices 0.1.8. */
export const PRICED_CLAUDE_MODELS: readonly string[] = [
  "claude-sonnet-4-5-20250929",
  "claude-opus-4-5-20251101",
  "claude-haiku-4-5-20251001",
  "claude-opus-4-6",
  "claude-sonnet-4-6",
  "claude-3-5-haiku-20241022",
];
