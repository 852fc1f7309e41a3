import { createTokenAccess, generateToken, isWellFormed, newId } from '@tokenaccess/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/token';
import { countingStore } from './helpers';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('token format', () => {
  it('is <prefix>_<30 base62 random><6 base62 checksum>', () => {
    const t = generateToken('tka');
    expect(t).toMatch(/^tka_[0-9A-Za-z]{36}$/);
    expect(isWellFormed(t, 'tka')).toBe(true);
    expect(30 * Math.log2(62)).toBeGreaterThanOrEqual(160);
  });

  it('computes CRC32 (IEEE) correctly', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });

  it('draws random characters uniformly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const c of generateToken().slice(4, 34)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (4000 * 30) / 62;
    // chi-square with 61 degrees of freedom: p < 1e-6 above ~130
    const chi = [...counts.values()].reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(130);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 10_000 }, () => generateToken()));
    expect(seen.size).toBe(10_000);
  });

  it('rejects wrong prefix, length, charset and checksum', () => {
    const t = generateToken('tka');
    expect(isWellFormed(t, 'abc')).toBe(false);
    expect(isWellFormed(t.slice(0, -1), 'tka')).toBe(false);
    expect(isWellFormed(`${t}x`, 'tka')).toBe(false);
    expect(isWellFormed(t.replace('_', '-'), 'tka')).toBe(false);
    expect(isWellFormed(`${t.slice(0, 10)}!${t.slice(11)}`, 'tka')).toBe(false);
    expect(isWellFormed('', 'tka')).toBe(false);
    expect(isWellFormed(undefined as unknown as string, 'tka')).toBe(false);
  });

  it('property: every single-character change of a valid token is rejected without a store call', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...BASE62, '_', '-', '.', ' ', 'é'), async (pos, ch) => {
        fc.pre(token[pos] !== ch);
        const changed = token.slice(0, pos) + ch + token.slice(pos + 1);
        const before = store.calls.consume ?? 0;
        const r = await tokens.verify(changed);
        expect(r.ok).toBe(false);
        expect(!r.ok && r.error.code).toBe('malformed');
        expect(store.calls.consume ?? 0).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('ids sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newId(1_700_000_000_000 + Math.floor(i / 100)));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
