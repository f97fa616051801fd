/**
 * Seeded pseudo-random helpers for the mocks: the same seed gives the same latencies and faults.
 *
 * @module
 */

/**
 * Returns a generator of floats in [0, 1) from a 32-bit seed (mulberry32: small, fast, good enough for tests).
 *
 * @param seed Any integer; only its low 32 bits are used.
 * @returns A function that yields the next number of the sequence.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes several integers into one 32-bit seed, so a stream can be derived per (seed, call, purpose)
 * and stay the same whatever order concurrent calls arrive in.
 *
 * @param parts Integers to mix.
 * @returns A 32-bit unsigned seed.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

/**
 * Draws a standard normal variate (Box–Muller) from a uniform generator.
 *
 * @param random A generator of floats in [0, 1).
 * @returns A sample of N(0, 1).
 */
export function standardNormal(random: () => number): number {
  const u = 1 - random(); // (0, 1]: keeps log() finite
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
