import { describe, expect, it } from 'vitest';
import { HashIndex, slotOf } from '../src/hash-index';
import { generateToken } from '../src/token';
import { nodeCryptoProvider } from '../src/node-crypto';

interface Rec {
  key: string;
  n: number;
}

/** Random operations on a HashIndex and on a Map, compared after each one. */
function againstMap(slot: ((key: string) => number) | undefined, keys: string[], seed: number) {
  const index = new HashIndex<Rec>((r) => r.key, slot);
  const map = new Map<string, Rec>();
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  for (let step = 0; step < 4000; step++) {
    const key = keys[rand(keys.length)]!;
    const op = rand(4);
    if (op < 2) {
      const r = { key, n: step };
      index.set(r);
      map.set(key, r);
    } else if (op === 2) {
      expect(index.delete(key)).toBe(map.get(key));
      map.delete(key);
    } else {
      expect(index.get(key)).toBe(map.get(key));
      expect(index.has(key)).toBe(map.has(key));
    }
    expect(index.size).toBe(map.size);
  }
  expect(new Set(index.values())).toEqual(new Set(map.values()));
  for (const key of keys) expect(index.get(key)).toBe(map.get(key));
}

describe('HashIndex (the verify cache and memory store index)', () => {
  const hashes = Array.from({ length: 200 }, () => nodeCryptoProvider.sha256Hex(generateToken('tka')) as string);

  it('holds what a Map holds, through sets, replacements and deletes', () => {
    againstMap(undefined, hashes, 1);
  });

  it('keeps keys that share a slot apart (every key in one slot, and a few slots)', () => {
    againstMap(() => 0, hashes.slice(0, 40), 2);
    againstMap((k) => k.charCodeAt(63) % 3, hashes, 3);
  });

  it('a key that only shares a slot is not found, not deleted', () => {
    const index = new HashIndex<Rec>((r) => r.key, () => 7);
    const a = { key: 'a'.repeat(64), n: 1 };
    index.set(a);
    expect(index.get('b'.repeat(64))).toBeUndefined();
    expect(index.delete('b'.repeat(64))).toBeUndefined();
    expect(index.size).toBe(1);
    const b = { key: 'b'.repeat(64), n: 2 };
    index.set(b);
    expect(index.delete('a'.repeat(64))).toBe(a);
    expect(index.get('b'.repeat(64))).toBe(b);
    expect([...index.values()]).toEqual([b]);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.get('b'.repeat(64))).toBeUndefined();
  });

  it('deleting each value while iterating (as a sweep does) reaches every one, sharing a slot or not', () => {
    for (const slot of [() => 0, (k: string) => k.charCodeAt(63) % 3, undefined]) {
      const index = new HashIndex<Rec>((r) => r.key, slot);
      for (const [n, key] of hashes.entries()) index.set({ key, n });
      const seen: string[] = [];
      for (const r of index.values()) {
        seen.push(r.key);
        index.delete(r.key);
      }
      expect(seen.sort()).toEqual([...hashes].sort());
      expect(index.size).toBe(0);
    }
  });

  it('slots are small non-negative integers, spread over hashes of any form', () => {
    const forms = [...hashes, ...hashes.map((h) => `k1:${h}`), 'short', '', '=legacy|hash'];
    for (const k of forms) {
      const s = slotOf(k);
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 30).toBe(true);
    }
    expect(new Set(hashes.map(slotOf)).size).toBeGreaterThan(195);
  });
});
