import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { PRICED_CLAUDE_MODELS } from "../testing/claude_models.ts";
import { mulberry32 } from "../../mocks/_random.ts";
import { ClaudePricer, PRICES_SOURCE } from "./claude_prices.ts";

const close = (actual: number | null, expected: number) =>
  ok(actual !== null && Math.abs(actual - expected) < 1e-12, `expected ${expected}, got ${actual}`);

const base = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};

Deno.test("ClaudePricer prices each part of a Sonnet 4.5 response at list price, 1-hour writes at 2x input", () => {
  const cost = new ClaudePricer().costUsd({
    ...base,
    model: "claude-sonnet-4-5-20250929",
    input_tokens: 1000,
    output_tokens: 2000,
    cache_creation_input_tokens: 3000,
    cache_creation_1h_input_tokens: 2000,
    cache_read_input_tokens: 4000,
    web_search_requests: 3,
  });
  // $/M: input 3, 5-minute write 3.75, 1-hour write 6, read 0.30, output 15; web search $10 per 1,000.
  // 1000×3 + 1000×3.75 + 2000×6 + 4000×0.30 + 2000×15 = 49,950 µ$ = $0.04995, + 3 × $0.01.
  close(cost, 0.07995);
});

Deno.test("ClaudePricer prices cache writes of unknown lifetime as 5-minute writes", () => {
  const pricer = new ClaudePricer();
  const row = { ...base, model: "claude-sonnet-4-5-20250929", cache_creation_input_tokens: 100_000 };
  close(pricer.costUsd({ ...row, cache_creation_1h_input_tokens: null }), 0.375);
  close(pricer.costUsd({ ...row, cache_creation_1h_input_tokens: 100_000 }), 0.6);
});

Deno.test("ClaudePricer applies Sonnet 4.5's long-context tier to a request over 200k input tokens", () => {
  const pricer = new ClaudePricer();
  // 250k tokens in (cache reads count toward the prompt): every part at the >200k rates, $6/M in, $0.60/M read.
  const long = {
    ...base,
    model: "claude-sonnet-4-5-20250929",
    input_tokens: 50_000,
    cache_read_input_tokens: 200_000,
  };
  close(pricer.costUsd(long), 50_000 * 6e-6 + 200_000 * 0.6e-6);
});

Deno.test("ClaudePricer knows Opus 4.5 and Haiku 4.5 list prices", () => {
  const pricer = new ClaudePricer();
  const million = { ...base, input_tokens: 1e6, output_tokens: 1e6, cache_read_input_tokens: 1e6 };
  // Opus 4.5: $5 in, $25 out, $0.50 read; Haiku 4.5: $1 in, $5 out, $0.10 read.
  close(pricer.costUsd({ ...million, model: "claude-opus-4-5-20251101" }), 30.5);
  close(pricer.costUsd({ ...million, model: "claude-haiku-4-5-20251001" }), 6.1);
});

Deno.test("ClaudePricer gives null, never 0, for a model without a price, and lists it once", () => {
  const pricer = new ClaudePricer();
  assertEquals(pricer.costUsd({ ...base, model: "claude-imaginary-9", output_tokens: 10 }), null);
  assertEquals(pricer.costUsd({ ...base, model: "claude-imaginary-9", output_tokens: 20 }), null);
  assertEquals(pricer.unpricedModels, ["claude-imaginary-9"]);
  assertEquals(PRICES_SOURCE, "@pydantic/genai-prices 0.1.8");
});

Deno.test("ClaudePricer's per-unit shortcut gives calcPrice's own answer on 2,000 varied responses", () => {
  const pricer = new ClaudePricer();
  const reference = new ClaudePricer();
  const models = PRICED_CLAUDE_MODELS;
  const random = mulberry32(7); // the same responses on every run
  const next = (n: number) => Math.floor(random() * n);
  for (let i = 0; i < 2000; i++) {
    const written = next(4) === 0 ? 0 : next(60_000);
    const usage = {
      model: models[next(models.length)],
      // Days around 2026-03-13, when two models' prices change in the dataset.
      timestamp: new Date(Date.parse("2026-03-01T00:00:00Z") + next(30) * 86_400_000 + next(86_400_000))
        .toISOString(),
      input_tokens: next(5000),
      output_tokens: next(8000),
      cache_creation_input_tokens: written,
      cache_creation_1h_input_tokens: next(3) === 0 ? null : next(written + 1),
      // One in ten prompts goes past 200k tokens (the long-context tier, where a model has one).
      cache_read_input_tokens: next(10) === 0 ? 200_000 + next(100_000) : next(150_000),
      web_search_requests: next(5) === 0 ? next(4) : null,
    };
    const exact = reference.exactCostUsd(usage);
    const fast = pricer.costUsd(usage);
    ok(
      exact !== null && fast !== null && Math.abs(fast - exact) < 1e-12,
      `${JSON.stringify(usage)}: ${fast} vs ${exact}`,
    );
  }
});
