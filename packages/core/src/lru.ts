import { HashIndex } from './hash-index';

/**
 * @internal A bounded map from hashes to values that forgets its least recently used key first.
 * The layout of `lru-cache` (an index from key to slot, and the recency list as slot numbers in
 * arrays), so a hit moves three numbers and allocates nothing; written here because core takes
 * no runtime dependency. The index is a {@link HashIndex} (keyed by an integer taken from the
 * hash, not by the string). bench/cache measures it against `lru-cache` and against a plain
 * `Map` that re-inserts a key on every hit (docs/caching.md has the figures).
 */
export class Lru<V> {
  private readonly keys: (string | undefined)[] = [];
  private readonly index = new HashIndex<number>((i) => this.keys[i]!);
  private readonly vals: (V | undefined)[] = [];
  /**
   * Slot → the next less recently used slot, and the next more recently used one. Typed arrays,
   * as lru-cache keeps them (a plain array of slot numbers went holey and made each hit's three
   * moves slower), grown by doubling up to `max` so a large `max` costs nothing until it fills.
   */
  private older = new Uint32Array(16);
  private newer = new Uint32Array(16);
  private head = 0; // most recently used
  private tail = 0; // least recently used
  private free: number[] = [];

  constructor(
    readonly max: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.index.size;
  }

  /** The value, marked as just used. */
  get(key: string): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    this.toHead(i);
    return this.vals[i];
  }

  /** Adds or replaces a value, forgetting the coldest key beyond `max`. */
  set(key: string, value: V): void {
    if (this.max <= 0) return;
    const found = this.index.get(key);
    if (found !== undefined) {
      this.vals[found] = value;
      this.toHead(found);
      return;
    }
    let i: number;
    if (this.index.size >= this.max) {
      i = this.tail;
      const oldKey = this.keys[i]!;
      const oldVal = this.vals[i] as V;
      this.index.delete(oldKey);
      this.tail = this.newer[i]!;
      this.onEvict?.(oldKey, oldVal);
    } else {
      i = this.free.length > 0 ? this.free.pop()! : this.keys.length;
      if (i >= this.older.length) this.grow();
    }
    this.keys[i] = key;
    this.vals[i] = value;
    if (this.index.size === 0) {
      this.head = i;
      this.tail = i;
    } else {
      this.older[i] = this.head;
      this.newer[this.head] = i;
      this.head = i;
    }
    this.index.set(i);
  }

  delete(key: string): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const v = this.vals[i];
    this.index.delete(key);
    if (this.index.size > 0) {
      if (i === this.head) this.head = this.older[i]!;
      else if (i === this.tail) this.tail = this.newer[i]!;
      else {
        this.newer[this.older[i]!] = this.newer[i]!;
        this.older[this.newer[i]!] = this.older[i]!;
      }
    }
    this.keys[i] = undefined;
    this.vals[i] = undefined;
    this.free.push(i);
    return v;
  }

  clear(): void {
    this.index.clear();
    this.keys.length = 0;
    this.vals.length = 0;
    this.older = new Uint32Array(16);
    this.newer = new Uint32Array(16);
    this.free = [];
  }

  *values(): IterableIterator<V> {
    for (const i of this.index.values()) yield this.vals[i] as V;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const i of this.index.values()) yield [this.keys[i]!, this.vals[i] as V];
  }

  private grow(): void {
    const size = Math.min(Math.max(this.max, 16), this.older.length * 2);
    const older = new Uint32Array(size);
    const newer = new Uint32Array(size);
    older.set(this.older);
    newer.set(this.newer);
    this.older = older;
    this.newer = newer;
  }

  private toHead(i: number): void {
    if (i === this.head) return;
    if (i === this.tail) this.tail = this.newer[i]!;
    else {
      this.newer[this.older[i]!] = this.newer[i]!;
      this.older[this.newer[i]!] = this.older[i]!;
    }
    this.older[i] = this.head;
    this.newer[this.head] = i;
    this.head = i;
  }
}
