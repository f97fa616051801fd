/**
 * The Stage 4 wire contract with the model: what one batch request carries and what the answer
 * must look like. The JSON schema sent as `responseJsonSchema` derives from `correctionAnswerSchema`.
 *
 * Request shape (what the Gemini mock parses too): `systemInstruction` holds the versioned prompt;
 * `contents` holds one user turn whose single text part is `JSON.stringify({ items: CorrectionItem[] })`.
 *
 * @module
 */
import { z } from "zod";

/** One prompt in a batch request: a short id (unique in the batch) and the redacted text. */
export const correctionItemSchema = z.object({
  id: z.string().min(1).max(8),
  text: z.string(),
});
/** A request item. */
export type CorrectionItem = z.infer<typeof correctionItemSchema>;

/** The body of one batch request's user part. */
export const correctionRequestSchema = z.object({ items: z.array(correctionItemSchema).min(1) });
/** A request body. */
export type CorrectionRequest = z.infer<typeof correctionRequestSchema>;

/** The model's answer: one entry per item sent, same id, the corrected text. */
export const correctionAnswerSchema = z.object({
  items: z.array(z.object({ id: z.string(), corrected: z.string() })),
});
/** A parsed answer. */
export type CorrectionAnswer = z.infer<typeof correctionAnswerSchema>;

/**
 * Returns the JSON schema for `responseJsonSchema` derived from {@linkcode correctionAnswerSchema}.
 *
 * @returns A draft 2020-12 JSON schema object.
 */
export function correctionAnswerJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(correctionAnswerSchema) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}
