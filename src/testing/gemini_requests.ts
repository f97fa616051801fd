/**
 * Test helper: what left the machine, read from the request bodies `startMocks()` captures.
 *
 * @module
 */

/**
 * Lists the item texts of every `generateContent` request body, in arrival order.
 *
 * @param bodies Raw request bodies (`RunningMocks.bodies`).
 * @returns The texts sent, one per item.
 */
export function sentTexts(bodies: readonly string[]): string[] {
  const texts: string[] = [];
  for (const body of bodies) {
    const parsed = JSON.parse(body) as { contents?: { parts?: { text?: string }[] }[] };
    const part = parsed.contents?.[0]?.parts?.[0]?.text;
    if (!part) continue;
    for (const item of (JSON.parse(part) as { items: { text: string }[] }).items) texts.push(item.text);
  }
  return texts;
}
