import { createTokenAccess, memoryStore, rateLimitBounds, rateLimitHeaders, toResponse, verifyError } from '@tokenaccess/core';
import { rateCountAt, rateState } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';

const base = { expiresAt: undefined, idleTimeout: undefined, maxUses: undefined, uses: 0, createdAt: 1_000_000 };

describe('rate limit arithmetic (the rule every store implements)', () => {
  const rateLimit = { limit: 10, window: 60_000 };
  it('rateCountAt: the count of lastUsedAt\'s window, 0 in a later one, 0 before any use', () => {
    expect(rateCountAt({ ...base, lastUsedAt: undefined, rateLimit, rateCount: 4 }, 1_000_500)).toBe(0);
    expect(rateCountAt({ ...base, lastUsedAt: 1_059_999, rateLimit, rateCount: 4 }, 1_059_999)).toBe(4);
    expect(rateCountAt({ ...base, lastUsedAt: 1_059_999, rateLimit, rateCount: 4 }, 1_060_000)).toBe(0);
    // a late request (now before lastUsedAt) counts against lastUsedAt's window
    expect(rateCountAt({ ...base, lastUsedAt: 1_060_000, rateLimit, rateCount: 4 }, 1_059_000)).toBe(4);
    expect(rateCountAt({ ...base, lastUsedAt: 1_000_000, rateLimit: undefined, rateCount: 4 }, 1_000_000)).toBe(0);
  });
  it('rateState: remaining and the end of the window that holds the later of now and lastUsedAt', () => {
    expect(rateState({ ...base, lastUsedAt: 1_010_000, rateLimit, rateCount: 7 }, 1_020_000)).toEqual({ limit: 10, window: 60_000, remaining: 3, resetAt: 1_060_000 });
    expect(rateState({ ...base, lastUsedAt: 1_070_000, rateLimit, rateCount: 12 }, 1_065_000)).toEqual({ limit: 10, window: 60_000, remaining: 0, resetAt: 1_120_000 });
    expect(rateState({ ...base, lastUsedAt: undefined, rateLimit: undefined }, 0)).toBeUndefined();
  });
});

describe('rateLimitBounds (what the CLI and the admin page check before calling core)', () => {
  it('accepts exactly what issue accepts', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const cases: [number, number][] = [[1, 1000], [1_000_000_000, rateLimitBounds.maxWindow], [0, 1000], [1_000_000_001, 1000], [1.5, 1000], [5, 999], [5, 1500], [5, rateLimitBounds.maxWindow + 1000]];
    for (const [limit, window] of cases) {
      const ok = rateLimitBounds.limitOk(limit) && rateLimitBounds.windowOk(window);
      const issued = await tokens.issue({ subject: 'u', name: 'n', rateLimit: { limit, window } }).then(() => true, () => false);
      expect([limit, window, ok]).toEqual([limit, window, issued]);
    }
  });
});

describe('rate limit responses', () => {
  it('rateLimitHeaders: draft-ietf-httpapi-ratelimit-headers structured fields, seconds rounded up', () => {
    expect(rateLimitHeaders({ limit: 100, window: 60_000, remaining: 37, resetIn: 22_400 })).toEqual({ 'ratelimit-policy': '"token";q=100;w=60', ratelimit: '"token";r=37;t=23' });
  });
  it('verifyError(rate_limited): 429, no WWW-Authenticate, Retry-After at least 1 s', () => {
    const e = verifyError('rate_limited', { rate: { limit: 5, window: 3_600_000, remaining: 0, resetIn: 200 } });
    expect(e).toMatchObject({ code: 'rate_limited', status: 429, error: 'rate_limited', retryAfter: 1 });
    expect(e.wwwAuthenticate).toBeUndefined();
    const res = toResponse(e, { headers: { 'x-request-id': 'r1' } });
    expect(Object.fromEntries(res.headers)).toMatchObject({ 'retry-after': '1', ratelimit: '"token";r=0;t=1', 'ratelimit-policy': '"token";q=5;w=3600', 'x-request-id': 'r1' });
  });
  it('the reason for the hook names the count, never the token', async () => {
    const reasons: string[] = [];
    const tokens = createTokenAccess({ store: memoryStore(), onRejected: (e) => void reasons.push(`${e.code}: ${e.reason}`) });
    const { token } = await tokens.issue({ subject: 'u1', name: 'x', rateLimit: { limit: 1, window: '1m' } });
    await tokens.verify(token);
    await tokens.verify(token);
    expect(reasons).toEqual(['rate_limited: 1 of 1 verifications in the current 60000 ms window']);
    expect(reasons.join()).not.toContain(token.slice(4, 12));
  });
  it('a token without a rate limit carries no headers (nothing changes for it)', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'u1', name: 'x' });
    const r = await tokens.verify(token);
    expect(r).toEqual({ ok: true, token: expect.objectContaining({ name: 'x' }) });
    expect(r.ok && 'headers' in r).toBe(false);
  });
});
