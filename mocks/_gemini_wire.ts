/**
 * The Gemini API's JSON shapes as the mock sends them: error bodies, model resources, answers.
 *
 * @module
 */
import { formatRetryDelay, type QuotaViolation } from "./_gemini_quota.ts";

/** The service's error envelope. */
export interface ErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

/**
 * Returns an error body in the service's shape.
 *
 * @param code HTTP status code.
 * @param status The google.rpc code name (NOT_FOUND, INTERNAL, ...).
 * @param message Human-readable message.
 * @returns The error body.
 */
export function errorBody(code: number, status: string, message: string): ErrorBody {
  return { error: { code, message, status } };
}

/**
 * Returns the 429 RESOURCE_EXHAUSTED body with QuotaFailure, Help and RetryInfo details.
 *
 * @param model The model the quota is for.
 * @param violations The violated limits (non-empty).
 * @returns The error body and the retry delay it announces, in milliseconds.
 */
export function quotaExceededBody(
  model: string,
  violations: readonly QuotaViolation[],
): { body: ErrorBody; retryAfterMs: number } {
  const retryAfterMs = Math.max(...violations.map((v) => v.retryAfterMs));
  const lines = violations.map((v) =>
    `* Quota exceeded for metric: ${v.quotaMetric}, limit: ${v.quotaValue}, model: ${model}`
  );
  const message = "You exceeded your current quota, please check your plan and billing details. For more " +
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your " +
    `current usage, head to: https://ai.dev/rate-limit. \n${lines.join("\n")}\n` +
    `Please retry in ${(retryAfterMs / 1000).toFixed(3)}s.`;
  return {
    retryAfterMs,
    body: {
      error: {
        code: 429,
        message,
        status: "RESOURCE_EXHAUSTED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            violations: violations.map((v) => ({
              quotaMetric: v.quotaMetric,
              quotaId: v.quotaId,
              quotaDimensions: { model, location: "global" },
              quotaValue: v.quotaValue,
            })),
          },
          {
            "@type": "type.googleapis.com/google.rpc.Help",
            links: [{
              description: "Learn more about Gemini API quotas",
              url: "https://ai.google.dev/gemini-api/docs/rate-limits",
            }],
          },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: formatRetryDelay(retryAfterMs) },
        ],
      },
    },
  };
}

/**
 * Returns the 404 body for an unknown model, worded per API style.
 *
 * @param style `"gemini"` (API key) or `"vertex"`.
 * @param resource The model resource name as requested.
 * @param apiVersion The API version in the URL.
 * @param method `"generateContent"`, `"get"`, ...
 * @returns The error body.
 */
export function modelNotFoundBody(
  style: "gemini" | "vertex",
  resource: string,
  apiVersion: string,
  method: string,
): ErrorBody {
  if (style === "vertex") {
    return errorBody(
      404,
      "NOT_FOUND",
      `Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure ` +
        "you are using a valid model version. For more information, see: " +
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
    );
  }
  return errorBody(
    404,
    "NOT_FOUND",
    `${resource} is not found for API version ${apiVersion}, or is not supported for ${method}. Call ListModels ` +
      "to see the list of available models and their supported methods.",
  );
}

/**
 * Returns a model resource as models.get / models.list give it.
 *
 * @param style `"gemini"` (API key) or `"vertex"`.
 * @param model The bare model id, e.g. `gemini-2.5-flash-lite`.
 * @returns The model resource.
 */
export function modelResource(style: "gemini" | "vertex", model: string): Record<string, unknown> {
  const version = /(\d+(?:\.\d+)?)/.exec(model)?.[1] ?? "1.0";
  const displayName = model.replace(/^gemini-/, "Gemini ").replace(/-/g, " ").replace(/\blite\b/, "Lite");
  if (style === "vertex") {
    return {
      name: `publishers/google/models/${model}`,
      versionId: "default",
      openSourceCategory: "PROPRIETARY",
      launchStage: "GA",
      publisherModelTemplate: `projects/{project}/locations/{location}/publishers/google/models/${model}`,
    };
  }
  return {
    name: `models/${model}`,
    baseModelId: model,
    version,
    displayName,
    description: `${displayName} (simulated by the ccpipe Gemini mock)`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: [
      "generateContent",
      "countTokens",
      "createCachedContent",
      "batchGenerateContent",
    ],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

/** What one generateContent answer is made of. */
export interface AnswerParts {
  text?: string;
  finishReason: "STOP" | "MAX_TOKENS" | "SAFETY";
  promptTokens: number;
  outputTokens: number;
  model: string;
  responseId: string;
}

/**
 * Returns a GenerateContentResponse body.
 *
 * @param parts Text, finish reason, token counts, model.
 * @returns The response body.
 */
export function generateContentBody(parts: AnswerParts): Record<string, unknown> {
  const candidate: Record<string, unknown> = { finishReason: parts.finishReason, index: 0 };
  if (parts.text !== undefined) candidate.content = { parts: [{ text: parts.text }], role: "model" };
  if (parts.finishReason === "SAFETY") {
    candidate.safetyRatings = [
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
      { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
      { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
      { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
    ];
  }
  const usageMetadata: Record<string, unknown> = {
    promptTokenCount: parts.promptTokens,
    totalTokenCount: parts.promptTokens + parts.outputTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: parts.promptTokens }],
  };
  if (parts.outputTokens > 0) usageMetadata.candidatesTokenCount = parts.outputTokens;
  return {
    candidates: [candidate],
    usageMetadata,
    modelVersion: parts.model,
    responseId: parts.responseId,
  };
}

/**
 * Estimates tokens the way the mock bills them: about four characters per token, at least one for any text.
 *
 * @param chars A character count.
 * @returns The token count.
 */
export function tokensFor(chars: number): number {
  return Math.ceil(chars / 4);
}
