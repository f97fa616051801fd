/**
 * Test helper: the Gemini mock behind an MSW server, disposed with `using`, with every request body
 * captured (to prove what left the machine).
 *
 * @module
 */
import { setupServer } from "msw/node";
import { createGeminiMock, type GeminiMock, type GeminiMockOptions } from "../../mocks/gemini.ts";

/** A running mock server. */
export interface MockServer extends Disposable {
  mock: GeminiMock;
  /** Raw bodies of every request, in arrival order. */
  bodies: string[];
  /** Item texts of every generateContent request, in arrival order. */
  sentTexts(): string[];
}

/**
 * Starts the Gemini mock under MSW with unhandled requests as errors.
 *
 * @param options Mock options.
 * @returns The server handle; dispose it to close.
 */
export function startMock(options: GeminiMockOptions = {}): MockServer {
  const mock = createGeminiMock(options);
  const server = setupServer(...mock.handlers);
  const bodies: string[] = [];
  server.events.on("request:start", ({ request }) => {
    if (request.method !== "POST") return;
    request.clone().text().then((body) => bodies.push(body), () => {});
  });
  server.listen({ onUnhandledRequest: "error" });
  return {
    mock,
    bodies,
    sentTexts() {
      const texts: string[] = [];
      for (const body of bodies) {
        const parsed = JSON.parse(body) as { contents?: { parts?: { text?: string }[] }[] };
        const part = parsed.contents?.[0]?.parts?.[0]?.text;
        if (!part) continue;
        for (const item of (JSON.parse(part) as { items: { text: string }[] }).items) texts.push(item.text);
      }
      return texts;
    },
    [Symbol.dispose]() {
      server.close();
    },
  };
}
