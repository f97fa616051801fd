/**
 * What a Claude API response cost, from a maintained price dataset (@pydantic/genai-prices) rather
 * than a table written by hand.
 *
 * Claude's usage counts `input_tokens` *excluding* cache reads and writes; the dataset's `input_tokens`
 * is the total *including* them (its own Anthropic extractor adds them up the same way; building the
 * dataset's usage directly costs half the time per response). The price comes from `calcPrice`:
 * uncached input, 5-minute cache writes (1.25x input), 1-hour cache writes (2x input), cache reads,
 * output, web searches, and the long-context tier of the request when there is one.
 *
 * @module
 */
import { calcPrice, findProvider, type Provider } from "@pydantic/genai-prices";
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

/** Per-token prices of one model on one day, valid for prompts up to `flatUpTo` tokens. */
export interface UnitRates {
  input: number;
  write5m: number;
  write1h: number;
  read: number;
  output: number;
  webSearch: number;
  /** The smallest long-context tier start: a bigger prompt is priced by `calcPrice` itself. */
  flatUpTo: number;
}

/** Builds the dataset's usage for one response (its `input_tokens` is the whole prompt). */
function datasetUsage(usage: ResponseUsage): Record<string, number> {
  const oneHour = Math.min(usage.cache_creation_1h_input_tokens ?? 0, usage.cache_creation_input_tokens);
  const written = usage.cache_creation_input_tokens;
  return {
    input_tokens: usage.input_tokens + written + usage.cache_read_input_tokens,
    cache_read_tokens: usage.cache_read_input_tokens,
    cache_write_tokens: written,
    cache_write_5m_tokens: written - oneHour,
    cache_write_1h_tokens: oneHour,
    output_tokens: usage.output_tokens,
    web_searches: usage.web_search_requests ?? 0,
  };
}

const zero = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};

/**
 * Prices Claude API responses; remembers which models had no price.
 *
 * `calcPrice` matches the model and checks the usage on every call (tens of µs). Below a model's
 * long-context threshold a price is linear in each count, so the pricer asks `calcPrice` once per model
 * and day for the price of 1,000 units of each part and multiplies; a bigger prompt goes to `calcPrice`.
 */
export class ClaudePricer {
  #provider: Provider;
  #unpriced = new Set<string>();
  #rates = new Map<string, UnitRates | null>();
  /** Rates by the dataset's price entry: a model's prices change on a few days, not every day. */
  #ratesByPrice = new Map<string, UnitRates>();

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
    const rates = this.unitRates(usage.model, usage.timestamp ? usage.timestamp.slice(0, 10) : "");
    if (rates === null) return null;
    const prompt = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
    if (prompt > rates.flatUpTo) return this.exactCostUsd(usage);
    const oneHour = Math.min(usage.cache_creation_1h_input_tokens ?? 0, usage.cache_creation_input_tokens);
    // The DuckDB sink prices in SQL with this same formula, order and rounding (duckdb_report_views.ts).
    const cost = usage.input_tokens * rates.input +
      (usage.cache_creation_input_tokens - oneHour) * rates.write5m +
      oneHour * rates.write1h + usage.cache_read_input_tokens * rates.read +
      usage.output_tokens * rates.output +
      (usage.web_search_requests ?? 0) * rates.webSearch;
    // To a millionth of a cent: products of binary fractions drift in the last digits.
    return Math.round(cost * 1e12) / 1e12;
  }

  /** The cost of one response straight from `calcPrice` (no per-unit shortcut), or null when unpriced. */
  exactCostUsd(usage: ResponseUsage): number | null {
    const timestamp = usage.timestamp ? new Date(usage.timestamp) : undefined;
    const price = calcPrice(datasetUsage(usage), usage.model, { provider: this.#provider, timestamp });
    if (price === null) {
      this.#unpriced.add(usage.model);
      return null;
    }
    return price.total_price;
  }

  /**
   * The per-token prices of `model` on `day` (`YYYY-MM-DD`, or "" when the time is unknown), or null (and
   * the model noted as unpriced) when the dataset has none; {@linkcode costUsd} multiplies them.
   */
  unitRates(model: string, day: string): UnitRates | null {
    const key = `${model}\u0000${day}`;
    const known = this.#rates.get(key);
    if (known !== undefined) return known;
    const at = day ? `${day}T12:00:00.000Z` : null;
    const unit = (part: Partial<ResponseUsage>) =>
      (this.exactCostUsd({ ...zero, ...part, model, timestamp: at }) ?? 0) / 1000;
    let rates: UnitRates | null = null;
    const probe = calcPrice({ input_tokens: 0 }, model, {
      provider: this.#provider,
      ...(at ? { timestamp: new Date(at) } : {}),
    });
    if (probe === null) this.#unpriced.add(model);
    else {
      // A price follows from the price entry alone (calcPrice's own model and usage aside).
      const entry = JSON.stringify(probe.model_price);
      rates = this.#ratesByPrice.get(entry) ?? null;
      if (rates === null) {
        const starts = Object.values(probe.model_price).flatMap((p) =>
          typeof p === "object" && p !== null ? p.tiers.map((t) => t.start) : []
        );
        rates = {
          input: unit({ input_tokens: 1000 }),
          write5m: unit({ cache_creation_input_tokens: 1000 }),
          write1h: unit({ cache_creation_input_tokens: 1000, cache_creation_1h_input_tokens: 1000 }),
          read: unit({ cache_read_input_tokens: 1000 }),
          output: unit({ output_tokens: 1000 }),
          webSearch: unit({ web_search_requests: 1000 }),
          flatUpTo: Math.min(Infinity, ...starts),
        };
        this.#ratesByPrice.set(entry, rates);
      }
    }
    this.#rates.set(key, rates);
    return rates;
  }

  /** Models seen without a price, sorted. */
  get unpricedModels(): string[] {
    return [...this.#unpriced].sort();
  }
}
