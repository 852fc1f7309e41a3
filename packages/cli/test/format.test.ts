import { describe, expect, it } from 'vitest';
import type { TokenInfo } from '@tokenaccess/core';
import { count, formatDuration, relative, table, tokenJson } from '../src/format';
import { styleFor } from '../src/io';

const d = 86_400_000;
const h = 3_600_000;
const m = 60_000;
const s = 1000;

describe('formatting', () => {
  it('durations: two units at most, rounded to the smaller', () => {
    expect(formatDuration(90 * d - 2 * s)).toBe('90d');
    expect(formatDuration(d - 2 * s)).toBe('1d');
    expect(formatDuration(d + 6 * h + 5 * m)).toBe('1d 6h');
    expect(formatDuration(30 * m)).toBe('30m');
    expect(formatDuration(90 * s)).toBe('1m 30s');
    expect(formatDuration(45 * s + 400)).toBe('45s');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(h + 59 * m + 59 * s)).toBe('2h');
  });

  it('relative dates and counts', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(relative(new Date(now + 7 * d), now)).toBe('in 7d');
    expect(relative(new Date(now - 3 * m), now)).toBe('3m ago');
    expect(relative(undefined, now)).toBe('never');
    expect(count(100_000)).toBe('100,000');
  });

  it('tables pad columns and cut long cells', () => {
    const style = styleFor({ write: () => true, isTTY: false }, {}, false);
    expect(table(['A', 'LONG HEADER'], [['xyz', 'v'], ['q', 'x'.repeat(50)]], style, 10)).toBe(
      ['A    LONG HEADER', 'xyz  v', `q    ${'x'.repeat(9)}…`, ''].join('\n'),
    );
  });

  it('tokenJson: ISO dates, a status, and no field that could hold a raw token', () => {
    const now = Date.UTC(2026, 0, 1);
    const t: TokenInfo = { id: '01J', kind: 'access', subject: 'a', name: 'n', scopes: ['*'], uses: 2, maxUses: 2, createdAt: new Date(now - d), hint: 'tka_abcd', hash: 'f'.repeat(64) };
    expect(tokenJson(t, now)).toEqual({
      id: '01J', kind: 'access', subject: 'a', name: 'n', scopes: ['*'], maxUses: 2, uses: 2,
      createdAt: '2025-12-31T00:00:00.000Z', hint: 'tka_abcd', hash: 'f'.repeat(64), status: 'exhausted',
    });
  });
});
