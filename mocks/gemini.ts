/**
 * An MSW mock of the Gemini API (API-key and Vertex AI URL shapes) that behaves like a careful model on
 * ccpipe's correction requests, with seeded latency, sliding-window quotas answering 429 like the service,
 * and injectable faults. Drive it through the real `@google/genai` SDK.
 *
 * @example Usage
 * ```ts ignore
 * import { setupServer } from "msw/node";
 * import { GoogleGenAI } from "@google/genai";
 * import { createGeminiMock } from "./gemini.ts";
 *
 * const mock = createGeminiMock({ quotas: { rpm: 15 }, faults: [{ fault: "http503", calls: [2] }] });
 * const server = setupServer(...mock.handlers);
 * server.listen({ onUnhandledRequest: "error" });
 * const ai = new GoogleGenAI({ apiKey: "test-key" });
 * await ai.models.generateContent({ model: "gemini-2.5-flash-lite", contents: "Fix teh typo" });
 * server.close();
 * ```
 *
 * @module
 */
import { http, HttpResponse, type RequestHandler } from "msw";
import { correctionRequestSchema } from "../src/schema/correction.ts";
import { mixSeed, mulberry32, standardNormal } from "./_random.ts";
import { correctTypos } from "./_gemini_typos.ts";
import { type QuotaViolation, SlidingQuota } from "./_gemini_quota.ts";
import { type AnswerItem, corruptAnswer, type HallucinationFault } from "./_gemini_faults.ts";
import {
  type ErrorBody,
  errorBody,
  generateContentBody,
  modelNotFoundBody,
  modelResource,
  quotaExceededBody,
  tokensFor,
} from "./_gemini_wire.ts";

export { correctTypos, protectedSpans, TYPO_DICTIONARY } from "./_gemini_typos.ts";
export { formatRetryDelay } from "./_gemini_quota.ts";

/** A fault the mock can inject into a generateContent call. */
export type GeminiFault =
  | "http500"
  | "http503"
  | "hang"
  | "malformed_json"
  | "max_tokens"
  | "safety"
  | HallucinationFault;

/** Every {@linkcode GeminiFault}, for loops in tests and benchmarks. */
export const GEMINI_FAULTS: readonly GeminiFault[] = Object.freeze([
  "http500",
  "http503",
  "hang",
  "malformed_json",
  "max_tokens",
  "safety",
  "missing_id",
  "extra_id",
  "duplicate_id",
  "swapped",
  "answered",
  "rewritten",
  "code_altered",
  "url_altered",
  "placeholder_dropped",
]);

/** When to inject one fault: on listed call numbers, and/or at a seeded rate. */
export interface GeminiFaultRule {
  /** The fault to inject. */
  fault: GeminiFault;
  /** Probability per call, 0..1 (seeded: same seed, same calls hit). @default undefined (never by rate) */
  rate?: number;
  /** 1-based generateContent call numbers (every generateContent call counts, 429s included). */
  calls?: number[];
}

/** Latency of one answer, before the per-output-token cost. */
export type GeminiLatency =
  | { kind: "fixed"; ms: number }
  | { kind: "lognormal"; medianMs: number; sigma: number; maxMs?: number };

/** Options of {@linkcode createGeminiMock}. */
export interface GeminiMockOptions {
  /** Seed of every random choice (latency, rate faults, victim items). @default 1 */
  seed?: number;
  /** Known model ids. @default ["gemini-2.5-flash-lite", "gemini-3.1-flash-lite", "gemini-2.5-flash"] */
  models?: string[];
  /** Latency of each answered call, slept with real timers. @default { kind: "fixed", ms: 0 } */
  latency?: GeminiLatency;
  /** Extra latency per output token (a tokens-per-second cost). @default 0 */
  msPerOutputToken?: number;
  /** Per-model limits in sliding 60 s (rpm, tpm) and 24 h (rpd) windows. @default undefined (unlimited) */
  quotas?: { rpm?: number; tpm?: number; rpd?: number };
  /** Fault rules, first match wins. @default [] */
  faults?: GeminiFaultRule[];
  /** Extra base URLs to answer at (endpoint overrides), e.g. `"https://gemini.test"`. @default [] */
  baseUrls?: string[];
  /** Time source for the quota windows and the call log. @default Date.now */
  now?: () => number;
  /** Longest a "hang" fault waits for the client to give up before answering 504. @default 60000 */
  hangMaxMs?: number;
}

/** One generateContent call, as logged when its answer was sent. */
export interface GeminiCall {
  /** 1-based call number (the number fault rules refer to). */
  call: number;
  /** Arrival time, from the `now` option. */
  at: number;
  model: string;
  /** Items in a ccpipe request, 0 for other requests. */
  items: number;
  promptTokens: number;
  outputTokens: number;
  /** HTTP status sent; 499 when the client gave up first (abort or timeout). */
  status: number;
  /** The fault actually applied (absent when none, or when the picked one could not apply). */
  fault?: GeminiFault;
  /** The first violated quota of a 429. */
  quotaId?: string;
  /** Latency slept before answering, in milliseconds (hangs excluded). */
  latencyMs: number;
  /** `"gemini"` for the API-key URL shape, `"vertex"` for Vertex AI. */
  style: "gemini" | "vertex";
}

/** Aggregates over the call log; tokens and items count 200 answers only (what a bill would show). */
export interface GeminiCounters {
  requests: number;
  ok: number;
  rateLimited: number;
  faulted: number;
  items: number;
  promptTokens: number;
  outputTokens: number;
  maxConcurrent: number;
}

/** A running Gemini mock: MSW handlers plus its call log and controls. */
export interface GeminiMock {
  /** Handlers to pass to `setupServer(...mock.handlers)`. */
  readonly handlers: RequestHandler[];
  /** generateContent calls only, in completion order. */
  readonly calls: readonly GeminiCall[];
  /** Returns the aggregates over the call log and the highest number of concurrent calls seen. */
  counters(): GeminiCounters;
  /** Changes options between phases of a test (quota windows and the log are kept). */
  configure(options: Partial<GeminiMockOptions>): void;
  /** Clears the call log, counters, call numbering and quota windows, and ends pending hangs. */
  reset(): void;
}

const DEFAULT_MODELS = ["gemini-2.5-flash-lite", "gemini-3.1-flash-lite", "gemini-2.5-flash"];
const KNOWN_HOST =
  /^(?:generativelanguage\.googleapis\.com|aiplatform\.googleapis\.com|[a-z0-9-]+-aiplatform\.googleapis\.com|aiplatform\.[a-z0-9-]+\.rep\.googleapis\.com)$/;
const GEMINI_MODEL_PATH = /^(?:\/(v[\w.]*))?\/models\/([^/:]+)(?::(\w+))?$/;
const VERTEX_MODEL_PATH =
  /^(?:\/(v[\w.]*))?\/(projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\/([^/:]+)(?::(\w+))?$/;
const LIST_PATH = /^(?:\/(v[\w.]*))?\/(projects\/[^/]+\/locations\/[^/]+\/)?(publishers\/google\/)?models$/;

interface Route {
  style: "gemini" | "vertex";
  apiVersion: string;
  model?: string;
  /** Model resource name as the service words it in errors. */
  resource: string;
  method?: string;
}

interface RequestBody {
  contents?: { role?: string; parts?: { text?: unknown }[] }[];
  systemInstruction?: { parts?: { text?: unknown }[] } | string;
  generationConfig?: { responseMimeType?: string; maxOutputTokens?: number };
}

type CallFields = Omit<GeminiCall, "call" | "at" | "model" | "style" | "status">;

interface Outcome {
  response: Response;
  call: CallFields & { status: number };
}

/**
 * Creates a Gemini API mock.
 *
 * @param options Seed, models, latency, quotas, faults, extra base URLs, time source.
 * @returns The mock: handlers for `setupServer`, the call log, counters, `configure` and `reset`.
 * @throws {RangeError} When a number option is out of range (negative latency, rate outside 0..1, ...).
 * @throws {TypeError} When a base URL is not an absolute http(s) URL.
 */
export function createGeminiMock(options: GeminiMockOptions = {}): GeminiMock {
  return new GeminiMockServer(options);
}

class GeminiMockServer implements GeminiMock {
  readonly handlers: RequestHandler[];
  #options: Required<Omit<GeminiMockOptions, "quotas">> & { quotas?: GeminiMockOptions["quotas"] };
  #calls: GeminiCall[] = [];
  #callNumber = 0;
  #inFlight = 0;
  #maxConcurrent = 0;
  #quota = new SlidingQuota();
  #resetController = new AbortController();

  constructor(options: GeminiMockOptions) {
    this.#options = {
      seed: 1,
      models: DEFAULT_MODELS,
      latency: { kind: "fixed", ms: 0 },
      msPerOutputToken: 0,
      faults: [],
      baseUrls: [],
      now: Date.now,
      hangMaxMs: 60_000,
    };
    this.configure(options);
    this.handlers = [
      http.post(/\/models\/[^/]+:\w+$/, ({ request }) => this.#handlePost(request)),
      http.get(/\/models(?:\/[^/:]+)?$/, ({ request }) => this.#handleGet(request)),
    ];
  }

  get calls(): readonly GeminiCall[] {
    return this.#calls;
  }

  counters(): GeminiCounters {
    const counters: GeminiCounters = {
      requests: this.#calls.length,
      ok: 0,
      rateLimited: 0,
      faulted: 0,
      items: 0,
      promptTokens: 0,
      outputTokens: 0,
      maxConcurrent: this.#maxConcurrent,
    };
    for (const call of this.#calls) {
      if (call.status === 429) counters.rateLimited++;
      if (call.fault !== undefined) counters.faulted++;
      if (call.status !== 200) continue;
      counters.ok++;
      counters.items += call.items;
      counters.promptTokens += call.promptTokens;
      counters.outputTokens += call.outputTokens;
    }
    return counters;
  }

  configure(options: Partial<GeminiMockOptions>): void {
    validateOptions(options);
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined || key === "quotas") (this.#options as Record<string, unknown>)[key] = value;
    }
  }

  reset(): void {
    this.#calls = [];
    this.#callNumber = 0;
    this.#maxConcurrent = this.#inFlight;
    this.#quota.clear();
    this.#resetController.abort();
    this.#resetController = new AbortController();
  }

  #route(url: URL): Route | undefined {
    let path: string | undefined;
    for (const base of this.#options.baseUrls) {
      const trimmed = base.replace(/\/+$/, "");
      if (url.href.startsWith(trimmed + "/")) {
        path = url.pathname.slice(new URL(trimmed).pathname.replace(/\/+$/, "").length);
        break;
      }
    }
    if (path === undefined && url.protocol === "https:" && KNOWN_HOST.test(url.hostname)) path = url.pathname;
    if (path === undefined) return undefined;
    let m = VERTEX_MODEL_PATH.exec(path);
    if (m) {
      const prefix = m[2] ?? "";
      return {
        style: "vertex",
        apiVersion: m[1] ?? "",
        model: m[3],
        resource: `${prefix}publishers/google/models/${m[3]}`,
        method: m[4],
      };
    }
    m = GEMINI_MODEL_PATH.exec(path);
    if (m) {
      return {
        style: "gemini",
        apiVersion: m[1] ?? "",
        model: m[2],
        resource: `models/${m[2]}`,
        method: m[3],
      };
    }
    m = LIST_PATH.exec(path);
    if (m) {
      const vertex = m[2] !== undefined || m[3] !== undefined || url.hostname.includes("aiplatform");
      return { style: vertex ? "vertex" : "gemini", apiVersion: m[1] ?? "", resource: "models" };
    }
    return undefined;
  }

  #authError(request: Request, url: URL, route: Route): Response | undefined {
    const key = request.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
    if (key) return undefined;
    if (route.style === "vertex" && request.headers.get("authorization")) return undefined;
    if (route.style === "vertex") {
      return json(
        errorBody(
          401,
          "UNAUTHENTICATED",
          "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or " +
            "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        ),
        401,
      );
    }
    return json(
      errorBody(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or " +
          "other form of API consumer identity to call this API.",
      ),
      403,
    );
  }

  #handleGet(request: Request): Response | undefined {
    const url = new URL(request.url);
    const route = this.#route(url);
    if (route === undefined || route.method !== undefined) return undefined;
    const authError = this.#authError(request, url, route);
    if (authError) return authError;
    if (route.model === undefined) {
      // Vertex's publisher listing names its array `publisherModels`; the SDK reads either.
      const list = this.#options.models.map((model) => modelResource(route.style, model));
      return json(route.style === "vertex" ? { publisherModels: list } : { models: list });
    }
    if (!this.#options.models.includes(route.model)) {
      return json(modelNotFoundBody(route.style, route.resource, route.apiVersion, "get"), 404);
    }
    return json(modelResource(route.style, route.model));
  }

  async #handlePost(request: Request): Promise<Response | undefined> {
    const url = new URL(request.url);
    const route = this.#route(url);
    if (route?.model === undefined) return undefined;
    if (!["generateContent", "streamGenerateContent", "countTokens"].includes(route.method ?? "")) {
      return undefined;
    }
    const authError = this.#authError(request, url, route);
    if (authError) return authError;
    if (route.method === "countTokens") return this.#countTokens(request, route);

    const number = ++this.#callNumber;
    const at = this.#options.now();
    this.#inFlight++;
    this.#maxConcurrent = Math.max(this.#maxConcurrent, this.#inFlight);
    try {
      const outcome = await this.#generate(request, route, number);
      this.#calls.push({ call: number, at, model: route.model, style: route.style, ...outcome.call });
      if (outcome.response.status === 200 && route.method === "streamGenerateContent") {
        const body = await outcome.response.text();
        return new Response(`data: ${body}\r\n\r\n`, { headers: { "content-type": "text/event-stream" } });
      }
      return outcome.response;
    } finally {
      this.#inFlight--;
    }
  }

  async #countTokens(request: Request, route: Route): Promise<Response> {
    if (!this.#options.models.includes(route.model!)) {
      return json(modelNotFoundBody(route.style, route.resource, route.apiVersion, "countTokens"), 404);
    }
    const body = await readBody(request);
    if (body === undefined) return json(invalidJson(), 400);
    const tokens = tokensFor(requestChars(body));
    return json({ totalTokens: tokens, promptTokensDetails: [{ modality: "TEXT", tokenCount: tokens }] });
  }

  async #generate(request: Request, route: Route, number: number): Promise<Outcome> {
    const model = route.model!;
    const empty = { items: 0, promptTokens: 0, outputTokens: 0, latencyMs: 0 };
    if (!this.#options.models.includes(model)) {
      const body = modelNotFoundBody(route.style, route.resource, route.apiVersion, "generateContent");
      return { response: json(body, 404), call: { ...empty, status: 404 } };
    }
    const body = await readBody(request);
    if (body === undefined || !Array.isArray(body.contents) || body.contents.length === 0) {
      const error = body === undefined ? invalidJson() : errorBody(
        400,
        "INVALID_ARGUMENT",
        "* GenerateContentRequest.contents: contents is not specified\n",
      );
      return { response: json(error, 400), call: { ...empty, status: 400 } };
    }
    const items = ccpipeItems(body);
    const promptTokens = tokensFor(requestChars(body));
    const base = { ...empty, items: items?.length ?? 0, promptTokens };

    const now = this.#options.now();
    if (this.#options.quotas) {
      const violations: QuotaViolation[] = this.#quota.check(model, promptTokens, now, this.#options.quotas);
      if (violations.length > 0) {
        const { body: error } = quotaExceededBody(model, violations);
        return { response: json(error, 429), call: { ...base, status: 429, quotaId: violations[0].quotaId } };
      }
    }
    this.#quota.record(model, promptTokens, now);

    const faultRandom = mulberry32(mixSeed(this.#options.seed, number, 2));
    const picked = pickFault(this.#options.faults, number, faultRandom);
    const latencyMs = this.#latency(number);

    if (picked === "hang") return await this.#hang(request, { ...base, fault: "hang" });
    if (picked === "http500" || picked === "http503") {
      const aborted = await sleep(latencyMs, [request.signal, this.#resetController.signal]);
      if (aborted) return gaveUp({ ...base, latencyMs, fault: picked });
      const error = picked === "http500"
        ? errorBody(
          500,
          "INTERNAL",
          "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        )
        : errorBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
      const status = error.error.code;
      return { response: json(error, status), call: { ...base, status, latencyMs, fault: picked } };
    }

    let fault: GeminiFault | undefined;
    let text: string | undefined;
    let finishReason: "STOP" | "MAX_TOKENS" | "SAFETY" = "STOP";
    const wantsJson = body.generationConfig?.responseMimeType === "application/json";
    if (items !== undefined) {
      let answer: AnswerItem[] = items.map((item) => ({ id: item.id, corrected: correctTypos(item.text) }));
      if (picked !== undefined && isHallucination(picked)) {
        const corrupted = corruptAnswer(picked, answer, faultRandom);
        if (corrupted !== undefined) [answer, fault] = [corrupted, picked];
      }
      text = picked === "malformed_json" ? pythonish(answer) : JSON.stringify({ items: answer });
    } else {
      const corrected = correctTypos(userText(body));
      text = wantsJson
        ? JSON.stringify({ text: corrected })
        : `This is a simulated Gemini answer (ccpipe mock). Your message, with its typos fixed, reads: ${corrected}`;
      if (picked === "malformed_json") text = `{'text': '${corrected}'`;
    }
    if (picked === "malformed_json") fault = picked;
    if (picked === "max_tokens") {
      text = text.slice(0, Math.max(1, Math.floor(text.length * 0.6)));
      [finishReason, fault] = ["MAX_TOKENS", picked];
    }
    if (picked === "safety") [text, finishReason, fault] = [undefined, "SAFETY", picked];
    const maxOutput = body.generationConfig?.maxOutputTokens;
    if (
      text !== undefined && maxOutput !== undefined && maxOutput > 0 && tokensFor(text.length) > maxOutput
    ) {
      [text, finishReason] = [text.slice(0, maxOutput * 4), "MAX_TOKENS"];
    }
    const outputTokens = text === undefined ? 0 : tokensFor(text.length);
    const totalLatency = latencyMs + outputTokens * this.#options.msPerOutputToken;
    if (await sleep(totalLatency, [request.signal, this.#resetController.signal])) {
      return gaveUp({ ...base, latencyMs: totalLatency, fault });
    }
    const responseId = (mixSeed(this.#options.seed, number, 3).toString(16) + number.toString(16)).padStart(
      12,
      "0",
    );
    const answer = generateContentBody({ text, finishReason, promptTokens, outputTokens, model, responseId });
    return {
      response: json(answer),
      call: { ...base, status: 200, outputTokens, latencyMs: totalLatency, fault },
    };
  }

  async #hang(request: Request, call: CallFields): Promise<Outcome> {
    const aborted = await sleep(this.#options.hangMaxMs, [request.signal, this.#resetController.signal]);
    if (aborted) return gaveUp(call);
    const error = errorBody(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
    return { response: json(error, 504), call: { ...call, status: 504 } };
  }

  #latency(number: number): number {
    const latency = this.#options.latency;
    if (latency.kind === "fixed") return latency.ms;
    const random = mulberry32(mixSeed(this.#options.seed, number, 1));
    const ms = latency.medianMs * Math.exp(latency.sigma * standardNormal(random));
    return Math.round(Math.min(ms, latency.maxMs ?? Infinity));
  }
}

function pickFault(
  rules: readonly GeminiFaultRule[],
  number: number,
  random: () => number,
): GeminiFault | undefined {
  for (const rule of rules) {
    if (rule.calls?.includes(number)) return rule.fault;
    if (rule.rate !== undefined && random() < rule.rate) return rule.fault;
  }
  return undefined;
}

function isHallucination(fault: GeminiFault): fault is HallucinationFault {
  return GEMINI_FAULTS.indexOf(fault) >= GEMINI_FAULTS.indexOf("missing_id");
}

// The classic malformation: a Python-repr-looking object, which JSON.parse rejects.
function pythonish(items: readonly AnswerItem[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
  return `{'items': [${
    items.map((i) => `{'id': ${quote(i.id)}, 'corrected': ${quote(i.corrected)}}`).join(", ")
  }]}`;
}

function gaveUp(call: CallFields): Outcome {
  return { response: HttpResponse.error(), call: { ...call, status: 499 } };
}

function json(body: unknown, status = 200): Response {
  return HttpResponse.json(body as ErrorBody, { status });
}

function invalidJson(): ErrorBody {
  return errorBody(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.");
}

async function readBody(request: Request): Promise<RequestBody | undefined> {
  try {
    const body = await request.json();
    return typeof body === "object" && body !== null ? body as RequestBody : undefined;
  } catch {
    return undefined;
  }
}

function partsText(parts: { text?: unknown }[] | undefined): string {
  return (parts ?? []).map((p) => typeof p.text === "string" ? p.text : "").join("");
}

function systemText(body: RequestBody): string {
  const system = body.systemInstruction;
  if (typeof system === "string") return system;
  return partsText(system?.parts);
}

function requestChars(body: RequestBody): number {
  const contents = Array.isArray(body.contents) ? body.contents : [];
  return systemText(body).length + contents.reduce((sum, c) => sum + partsText(c.parts).length, 0);
}

function userText(body: RequestBody): string {
  const contents = body.contents ?? [];
  const lastUser = [...contents].reverse().find((c) => (c.role ?? "user") === "user") ?? contents.at(-1);
  return partsText(lastUser?.parts);
}

// A ccpipe request: the user turn's text is JSON {items:[{id,text}]} (src/schema/correction.ts).
function ccpipeItems(body: RequestBody): { id: string; text: string }[] | undefined {
  try {
    const parsed = correctionRequestSchema.safeParse(JSON.parse(userText(body)));
    return parsed.success ? parsed.data.items : undefined;
  } catch {
    return undefined;
  }
}

// Sleeps with a real timer; resolves true as soon as any signal aborts.
function sleep(ms: number, signals: readonly AbortSignal[]): Promise<boolean> {
  if (signals.some((s) => s.aborted)) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (aborted: boolean) => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener("abort", onAbort);
      resolve(aborted);
    };
    const onAbort = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    for (const s of signals) s.addEventListener("abort", onAbort);
  });
}

function validateOptions(options: Partial<GeminiMockOptions>): void {
  const { seed, latency, msPerOutputToken, quotas, faults, baseUrls, hangMaxMs, models } = options;
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new RangeError(`Cannot create Gemini mock as 'seed' must be an integer: current value is ${seed}`);
  }
  if (models !== undefined && models.length === 0) {
    throw new RangeError("Cannot create Gemini mock as 'models' must not be empty: current value is []");
  }
  if (latency?.kind === "fixed") nonNegative("latency.ms", latency.ms);
  if (latency?.kind === "lognormal") {
    nonNegative("latency.medianMs", latency.medianMs);
    nonNegative("latency.sigma", latency.sigma);
    if (latency.maxMs !== undefined) nonNegative("latency.maxMs", latency.maxMs);
  }
  if (msPerOutputToken !== undefined) nonNegative("msPerOutputToken", msPerOutputToken);
  if (hangMaxMs !== undefined) nonNegative("hangMaxMs", hangMaxMs);
  for (const [name, value] of Object.entries(quotas ?? {})) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new RangeError(
        `Cannot create Gemini mock as 'quotas.${name}' must be a positive integer: current value is ${value}`,
      );
    }
  }
  for (const rule of faults ?? []) {
    if (!GEMINI_FAULTS.includes(rule.fault)) {
      throw new TypeError(
        `Cannot create Gemini mock as 'fault' must be a GeminiFault: current value is ${rule.fault}`,
      );
    }
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
      throw new RangeError(
        `Cannot create Gemini mock as 'rate' must be between 0 and 1: current value is ${rule.rate}`,
      );
    }
    for (const call of rule.calls ?? []) {
      if (!(Number.isInteger(call) && call >= 1)) {
        throw new RangeError(
          `Cannot create Gemini mock as 'calls' must hold positive integers: current value is ${call}`,
        );
      }
    }
  }
  for (const base of baseUrls ?? []) {
    if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
      throw new TypeError(
        `Cannot create Gemini mock as 'baseUrls' must hold http(s) URLs: current value is ${base}`,
      );
    }
  }
}

function nonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(
      `Cannot create Gemini mock as '${name}' must be a non-negative number: current value is ${value}`,
    );
  }
}
