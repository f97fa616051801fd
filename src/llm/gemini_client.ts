/**
 * The Gemini client of Stage 4: one `generateContent` call per batch through `@google/genai`, with
 * structured output, answers validated by the wire schema, and every failure mapped to a typed error.
 * The SDK's own retries stay off: Stage 4's limiter and retry loop are the only ones.
 *
 * @module
 */
import { ApiError, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import {
  type CorrectionAnswer,
  correctionAnswerJsonSchema,
  correctionAnswerSchema,
  type CorrectionItem,
} from "../schema/correction.ts";
import { GeminiRequestError, GeminiResponseError, RateLimitError, TransientServiceError } from "./errors.ts";
import { buildRequestText, SYSTEM_PROMPT } from "./prompt.ts";

/** What one batch call returns. */
export interface BatchAnswer {
  /** The schema-validated answer. */
  answer: CorrectionAnswer;
  /** Tokens from `usageMetadata`. */
  usage: { promptTokens: number; outputTokens: number };
}

/** The port Stage 4 calls; tests inject fakes. */
export interface CorrectionClient {
  /** The model id answers come from. */
  readonly model: string;
  /**
   * Sends one batch.
   *
   * @throws {RateLimitError | TransientServiceError | GeminiResponseError | GeminiRequestError}
   */
  correctBatch(items: CorrectionItem[], options: { signal?: AbortSignal }): Promise<BatchAnswer>;
  /** Checks that the configured model exists (`models.get`), for `ccpipe doctor`. */
  checkModel(): Promise<{ exists: boolean; detail: string }>;
}

/** Options for {@linkcode createGeminiClient}. */
export interface GeminiClientOptions {
  /** Gemini API key (`GEMINI_API_KEY` / `GOOGLE_API_KEY`); omit with `vertex`. */
  apiKey?: string;
  /** Vertex AI project and location (credentials from the application-default chain). */
  vertex?: { project: string; location: string };
  /** Model id. */
  model: string;
  /** Base URL override (gateways, proxies, test servers) → `httpOptions.baseUrl`. */
  endpoint?: string;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /**
   * Sampling temperature.
   * @default {0}
   */
  temperature?: number;
}

/**
 * Creates the Gemini client.
 *
 * @param options Key or Vertex settings, model, endpoint and timeout.
 * @returns The client.
 * @throws {TypeError} If neither `apiKey` nor `vertex` is given.
 */
export function createGeminiClient(options: GeminiClientOptions): CorrectionClient {
  const { apiKey, vertex, model, endpoint, timeoutMs, temperature = 0 } = options;
  if (!apiKey && !vertex) {
    throw new TypeError("Cannot create Gemini client as neither 'apiKey' nor 'vertex' is set");
  }
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot create Gemini client as 'timeoutMs' must be a positive number: current value is ${timeoutMs}`,
    );
  }
  // No `retryOptions`: the SDK then makes exactly one attempt per call.
  const httpOptions = { timeout: timeoutMs, ...(endpoint ? { baseUrl: endpoint } : {}) };
  const ai = vertex
    ? new GoogleGenAI({ vertexai: true, project: vertex.project, location: vertex.location, httpOptions })
    : new GoogleGenAI({ apiKey, httpOptions });
  const responseJsonSchema = correctionAnswerJsonSchema();

  return {
    model,
    async correctBatch(items, { signal }) {
      if (signal?.aborted) throw signal.reason;
      let response: GenerateContentResponse;
      try {
        response = await ai.models.generateContent({
          model,
          contents: [{ role: "user", parts: [{ text: buildRequestText(items) }] }],
          config: {
            systemInstruction: SYSTEM_PROMPT,
            responseMimeType: "application/json",
            responseJsonSchema,
            temperature,
            abortSignal: signal,
          },
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw mapError(error);
      }
      return { answer: parseAnswer(response), usage: usageOf(response) };
    },
    async checkModel() {
      try {
        const found = await ai.models.get({ model });
        return { exists: true, detail: `${found.name ?? model} (${found.displayName ?? "no display name"})` };
      } catch (error) {
        const mapped = mapError(error);
        if (mapped instanceof GeminiRequestError && mapped.status === 404) {
          return { exists: false, detail: `model '${model}' not found` };
        }
        return { exists: false, detail: mapped.message };
      }
    },
  };
}

function usageOf(response: GenerateContentResponse): BatchAnswer["usage"] {
  const meta = response.usageMetadata;
  return {
    promptTokens: meta?.promptTokenCount ?? 0,
    outputTokens: (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0),
  };
}

const BLOCKED = new Set(["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"]);

/**
 * Turns a 200 answer into a validated {@linkcode CorrectionAnswer}.
 *
 * @param response The SDK response.
 * @returns The answer.
 * @throws {GeminiResponseError} When blocked, truncated, empty, malformed or schema-invalid.
 */
export function parseAnswer(response: GenerateContentResponse): CorrectionAnswer {
  if (response.promptFeedback?.blockReason) {
    throw new GeminiResponseError("blocked", { detail: String(response.promptFeedback.blockReason) });
  }
  const candidate = response.candidates?.[0];
  const finish = candidate?.finishReason ? String(candidate.finishReason) : undefined;
  if (finish && BLOCKED.has(finish)) throw new GeminiResponseError("blocked", { detail: finish });
  if (finish === "MAX_TOKENS") throw new GeminiResponseError("truncated", { detail: finish });
  const text = (candidate?.content?.parts ?? [])
    .filter((part) => typeof part.text === "string" && !part.thought)
    .map((part) => part.text)
    .join("");
  if (text.trim() === "") throw new GeminiResponseError("empty");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GeminiResponseError("malformed");
  }
  const parsed = correctionAnswerSchema.safeParse(json);
  if (!parsed.success) {
    throw new GeminiResponseError("schema", { detail: parsed.error.issues[0]?.path.join(".") || "root" });
  }
  return parsed.data;
}

interface GoogleErrorBody {
  error?: { code?: number; status?: string; details?: { "@type"?: string; [key: string]: unknown }[] };
}

/**
 * Parses a protobuf Duration string ("26s", "0.5s") to milliseconds.
 *
 * @param value The duration.
 * @returns Milliseconds, or undefined when unparsable.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/**
 * Maps an SDK or fetch failure to a typed error whose message holds no key and no prompt text
 * (the SDK's own message embeds the whole error body, so it is never passed on).
 *
 * @param error What the SDK threw.
 * @returns The typed error.
 */
export function mapError(error: unknown): Error {
  if (error instanceof ApiError) {
    const status = error.status;
    let body: GoogleErrorBody = {};
    try {
      body = JSON.parse(error.message) as GoogleErrorBody;
    } catch {
      // Non-JSON body: status alone decides.
    }
    const reason = typeof body.error?.status === "string" ? body.error.status : undefined;
    if (status === 429) {
      let quotaId: string | undefined;
      let retryDelayMs: number | undefined;
      for (const detail of body.error?.details ?? []) {
        const type = detail["@type"] ?? "";
        if (type.endsWith("google.rpc.QuotaFailure")) {
          const violations = (detail.violations ?? []) as { quotaId?: string }[];
          // A per-day violation wins: it decides whether the run can go on at all.
          quotaId = violations.find((v) => /PerDay/i.test(v.quotaId ?? ""))?.quotaId ??
            violations[0]?.quotaId;
        } else if (type.endsWith("google.rpc.RetryInfo")) {
          retryDelayMs = parseDuration(detail.retryDelay);
        }
      }
      return new RateLimitError(
        `Gemini answered HTTP 429 ${reason ?? "RESOURCE_EXHAUSTED"}${quotaId ? ` (${quotaId})` : ""}`,
        { quotaId, retryDelayMs },
      );
    }
    if (status >= 500 || status === 408) return new TransientServiceError("http_5xx", { status });
    return new GeminiRequestError(status, { reason });
  }
  if (error instanceof GeminiResponseError) return error;
  if (error instanceof DOMException && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new TransientServiceError("timeout");
  }
  if (error instanceof TypeError) return new TransientServiceError("network", { cause: error });
  return new Error(`Gemini call failed unexpectedly: ${error instanceof Error ? error.name : typeof error}`);
}
