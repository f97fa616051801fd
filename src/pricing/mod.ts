/**
 * What Claude API responses cost, from @pydantic/genai-prices.
 *
 * @module
 */
export * from "./claude_prices.ts";
