/**
 * A compact set of string fingerprints (64-bit hashes) for global dedupe across files and runs.
 * A uuid costs 8 bytes instead of a ~80-byte JS string, so a million records fit in ~16 MB of
 * typed array. False positives need a 64-bit collision: about 3e-8 at a million entries.
 *
 * @module
 */

import { fingerprint } from "../ids.ts";

const EMPTY = 0;

/** An open-addressing hash set of 64-bit fingerprints, serialisable to bytes. */
export class FingerprintSet {
  #slots: Uint32Array;
  #size = 0;

  /** Creates an empty set with room for `capacity` entries before it grows. */
  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Uint32Array(slots * 2);
  }

  /** Number of fingerprints held. */
  get size(): number {
    return this.#size;
  }

  /** Returns true when `value`'s fingerprint is present. */
  has(value: string): boolean {
    const [a, b] = fingerprint(value);
    return this.#find(a, b) >= 0;
  }

  /**
   * Adds `value`'s fingerprint.
   *
   * @returns true when it was new, false when already present.
   */
  add(value: string): boolean {
    const [a, b] = fingerprint(value);
    if (this.#find(a, b) >= 0) return false;
    if ((this.#size + 1) * 2 > this.#slots.length / 2) this.#grow();
    this.#insert(a, b);
    this.#size++;
    return true;
  }

  /** Serialises the set (its slot table) to bytes. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.#slots.buffer.slice(0));
  }

  /**
   * Restores a set written by {@linkcode FingerprintSet.toBytes}.
   *
   * @throws {RangeError} When the bytes are not a slot table.
   */
  static fromBytes(bytes: Uint8Array): FingerprintSet {
    const slotsCount = bytes.byteLength / 8;
    if (bytes.byteLength % 8 !== 0 || slotsCount < 16 || (slotsCount & (slotsCount - 1)) !== 0) {
      throw new RangeError(
        `Cannot restore fingerprint set as its size must be a power-of-two table: current size is ${bytes.byteLength} bytes`,
      );
    }
    const set = new FingerprintSet(1);
    set.#slots = new Uint32Array(bytes.slice().buffer);
    let size = 0;
    for (let i = 0; i < set.#slots.length; i += 2) if (set.#slots[i] !== EMPTY) size++;
    // A table this class wrote is at most half full; a fuller one (random bytes) would make every
    // probe for a missing value loop for ever.
    if (size * 2 > slotsCount) {
      throw new RangeError(
        `Cannot restore fingerprint set as its table must be at most half full: current load is ${size} of ${slotsCount} slots`,
      );
    }
    set.#size = size;
    return set;
  }

  #find(a: number, b: number): number {
    const slots = this.#slots;
    const mask = slots.length / 2 - 1;
    let i = (a ^ b) & mask;
    for (;;) {
      const sa = slots[i * 2];
      if (sa === EMPTY) return -1;
      if (sa === a && slots[i * 2 + 1] === b) return i;
      i = (i + 1) & mask;
    }
  }

  #insert(a: number, b: number): void {
    const slots = this.#slots;
    const mask = slots.length / 2 - 1;
    let i = (a ^ b) & mask;
    while (slots[i * 2] !== EMPTY) i = (i + 1) & mask;
    slots[i * 2] = a;
    slots[i * 2 + 1] = b;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.#insert(old[i], old[i + 1]);
  }
}
