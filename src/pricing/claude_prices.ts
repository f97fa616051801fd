/**
 * What a Claude API response cost, from a maintained price dataset (@pydantic/genai-prices) rather
 * than a table written by hand.
 *
 * Claude's usage counts `input_tokens` *excluding* cache reads and writes; the dataset's `input_tokens`
 * is the total *including* them. The dataset's own Anthropic extractor does that mapping, so the usage
 * row is handed to it in the shape Claude writes it, and the price comes from `calcPrice`: uncached
 * input, 5-minute cache writes (1.25x input), 1-hour cache writes (2x input), cache reads, output, web
 * searches, and the long-context tier of the request when there is one.
 *
 * @module
 */
import { calcPrice, extractUsage, findProvider, type Provider } from "@pydantic/genai-prices";
import denoConfig from "../../deno.json" with { type: "json" };

/** The price data ccpipe uses, as reports name it (`@pydantic/genai-prices 0.1.8`). */
export const PRICES_SOURCE: string = (() => {
  const spec = (denoConfig.imports as Record<string, string>)["@pydantic/genai-prices"] ?? "";
  const version = spec.slice(spec.lastIndexOf("@") + 1);
  return `@pydantic/genai-prices ${version}`;
})();

/** The token counts of one API response, as the `usage` table holds them. */
export interface ResponseUsage {
  model: string;
  /** ISO time of the response: prices that changed over time are looked up at that instant. */
  timestamp?: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  /** Null when unknown (rows loaded before ccpipe kept the split): all writes are then priced as 5-minute. */
  cache_creation_1h_input_tokens?: number | null;
  cache_read_input_tokens: number;
  web_search_requests?: number | null;
}

/** Prices Claude API responses; remembers which models had no price. */
export class ClaudePricer {
  #provider: Provider;
  #unpriced = new Set<string>();

  /** Creates a pricer over the bundled Anthropic price data. */
  constructor() {
    const provider = findProvider({ providerId: "anthropic" });
    if (!provider) throw new Error(`${PRICES_SOURCE} has no Anthropic provider`);
    this.#provider = provider;
  }

  /**
   * The cost of one response in USD, or null when the dataset has no price for its model (never 0).
   *
   * @example Sonnet 4.5 at list price
   * ```ts
   * import { ClaudePricer } from "./claude_prices.ts";
   * const cost = new ClaudePricer().costUsd({
   *   model: "claude-sonnet-4-5-20250929", input_tokens: 1000, output_tokens: 2000,
   *   cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
   * });
   * // 1,000 × $3/M + 2,000 × $15/M
   * if (Math.abs(cost! - 0.033) > 1e-12) throw new Error(`unexpected ${cost}`);
   * ```
   */
  costUsd(usage: ResponseUsage): number | null {
    if (this.#unpriced.has(usage.model)) return null;
    const oneHour = usage.cache_creation_1h_input_tokens ?? 0;
    const response = {
      model: usage.model,
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        cache_creation: {
          ephemeral_5m_input_tokens: Math.max(0, usage.cache_creation_input_tokens - oneHour),
          ephemeral_1h_input_tokens: oneHour,
        },
        server_tool_use: { web_search_requests: usage.web_search_requests ?? 0 },
      },
    };
    const extracted = extractUsage(this.#provider, response, "default");
    const timestamp = usage.timestamp ? new Date(usage.timestamp) : undefined;
    const price = calcPrice(extracted.usage, usage.model, { provider: this.#provider, timestamp });
    if (price === null) {
      this.#unpriced.add(usage.model);
      return null;
    }
    return price.total_price;
  }

  /** Models seen without a price, sorted. */
  get unpricedModels(): string[] {
    return [...this.#unpriced].sort();
  }
}
