/**
 * A per-process seed, so that which hashes share a slot cannot be known from outside: a client
 * grinding tokens cannot aim many of them at one slot of a cache or store it can fill
 * (the negative cache holds hashes of tokens it sent).
 */
const SEED = globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! | 0;

/** How many characters from the end of a key are mixed into its slot. */
const TAIL = 16;

/**
 * @internal The slot of a key: FNV-1a (seeded) over its last 16 characters, as a 30-bit integer
 * (a small integer to V8, compared inline). Keys are hashes, so their ends are uniform.
 */
export function slotOf(key: string): number {
  let h = SEED;
  for (let i = key.length > TAIL ? key.length - TAIL : 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 2;
}

/**
 * @internal A map from hash strings to values that know their own key, for the lookups every
 * verify makes (the verify cache, the memory store). A `Map` keyed by the strings themselves
 * hashes all 64 characters of the fresh key on every lookup and, in a large map, follows its
 * chain through other keys' strings, a cache miss each: at a million tokens that was most of a
 * memory-store verify. Here the map is keyed by {@link slotOf}, so the chain holds integers,
 * and one string comparison confirms the hit. A slot holds its value, or an array of the values
 * whose keys share it (rare: 30 bits).
 */
export class HashIndex<V> {
  private readonly slots = new Map<number, V | V[]>();
  private count = 0;

  /**
   * @param keyOf the key a value is held under (values are never arrays)
   * @param slot where a key is filed; {@link slotOf} unless a test forces collisions
   */
  constructor(
    private readonly keyOf: (value: V) => string,
    private readonly slot: (key: string) => number = slotOf,
  ) {}

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const v = this.slots.get(this.slot(key));
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.keyOf(v) === key ? v : undefined;
    for (const x of v) if (this.keyOf(x) === key) return x;
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Adds `value` under its key, or replaces the value held under that key. */
  set(value: V): void {
    const key = this.keyOf(value);
    const slot = this.slot(key);
    const v = this.slots.get(slot);
    if (v === undefined) {
      this.slots.set(slot, value);
      this.count++;
    } else if (!Array.isArray(v)) {
      if (this.keyOf(v) === key) this.slots.set(slot, value);
      else {
        this.slots.set(slot, [v, value]);
        this.count++;
      }
    } else {
      const i = v.findIndex((x) => this.keyOf(x) === key);
      if (i >= 0) v[i] = value;
      else {
        v.push(value);
        this.count++;
      }
    }
  }

  /** Removes the value under `key`; returns it, or undefined when there was none. */
  delete(key: string): V | undefined {
    const slot = this.slot(key);
    const v = this.slots.get(slot);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      if (this.keyOf(v) !== key) return undefined;
      this.slots.delete(slot);
      this.count--;
      return v;
    }
    const i = v.findIndex((x) => this.keyOf(x) === key);
    if (i < 0) return undefined;
    const [out] = v.splice(i, 1);
    if (v.length === 1) this.slots.set(slot, v[0]!);
    this.count--;
    return out;
  }

  clear(): void {
    this.slots.clear();
    this.count = 0;
  }

  /** Every value, in no particular order; deleting the value just yielded skips none. */
  *values(): IterableIterator<V> {
    for (const v of this.slots.values()) {
      // a copy: a delete splices the slot's array, which would shift the next value past us
      if (Array.isArray(v)) yield* v.slice();
      else yield v;
    }
  }
}
