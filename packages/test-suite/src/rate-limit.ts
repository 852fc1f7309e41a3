import { createTokenAccess, toResponse } from '@tokenaccess/core';
import type { TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { HOUR, at, plain, randomSubject, record, scopes as requireScopes, urlRecord } from './fixtures';

const DAY = 24 * HOUR;

/**
 * Per-token rate limits (`rateLimit: { limit, window }`, counted in `rateCount` for the fixed
 * window of `lastUsedAt`), natively atomic in every store: exact under concurrency, refused as
 * `rate_limited` before a use is counted, and reported in the `RateLimit` headers.
 */
export function rateLimitTests(store: () => TokenStore, reader: () => TokenStore, concurrency: number): void {
  describe('rate limits: the store', () => {
    it('round-trips rateLimit and rateCount; update sets and clears the limit (the count is kept)', async () => {
      const r = record({ rateLimit: { limit: 10, window: 60_000 }, rateCount: 3, lastUsedAt: at(-5) });
      await store().insert(r);
      expect(await reader().findById(r.id)).toEqual(r);
      expect(await store().update!(r.id, { rateLimit: { limit: 20, window: 120_000 } })).toEqual({ ...r, rateLimit: { limit: 20, window: 120_000 } });
      const { rateLimit: _l, ...cleared } = r;
      expect(await store().update!(r.id, { rateLimit: null })).toEqual(cleared);
      expect(await reader().findByHash(r.hash)).toEqual(cleared);
      const plainRecord = record();
      await store().insert(plainRecord);
      expect(await store().update!(plainRecord.id, { rateLimit: { limit: 1, window: 1000 } })).toEqual({ ...plainRecord, rateLimit: { limit: 1, window: 1000 } });
    });

    it('counts each verification in fixed windows from createdAt; a full window refuses as rate_limited and writes nothing', async () => {
      const created = at();
      const r = record({ createdAt: created, rateLimit: { limit: 2, window: HOUR } });
      await store().insert(r);
      const t = (ms: number) => new Date(created.getTime() + ms);
      // a rate-limited token records lastUsedAt on every counted verification (its count belongs to that window)
      const p = plain({ lastUsedResolution: DAY });
      expect(await store().consume(r.hash, t(1000), p)).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: t(1000), uses: 0 } });
      expect(await store().consume(r.hash, t(2000), p)).toMatchObject({ ok: true, record: { rateCount: 2, lastUsedAt: t(2000) } });
      const refused = await store().consume(r.hash, t(3000), p);
      expect(refused).toMatchObject({ ok: false, reason: 'rate_limited', record: { id: r.id, rateCount: 2, lastUsedAt: t(2000) } });
      expect(await store().consume(r.hash, t(HOUR - 1), p)).toMatchObject({ ok: false, reason: 'rate_limited' });
      expect(await reader().findById(r.id)).toMatchObject({ rateCount: 2, lastUsedAt: t(2000) });
      expect(await reader().consume(r.hash, t(HOUR), p)).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: t(HOUR) } });
      // a skipped window banks nothing
      expect(await store().consume(r.hash, t(5 * HOUR + 7), p)).toMatchObject({ ok: true, record: { rateCount: 1 } });
      expect(await store().consume(r.hash, t(5 * HOUR + 8), p)).toMatchObject({ ok: true, record: { rateCount: 2 } });
      expect(await store().consume(r.hash, t(5 * HOUR + 9), p)).toMatchObject({ ok: false, reason: 'rate_limited' });
    });

    it('a rate-limited request spends no use; a used-up, expired, disabled or out-of-scope request counts no rate', async () => {
      const limited = record({ maxUses: 5, rateLimit: { limit: 2, window: HOUR } });
      await store().insert(limited);
      const now = at();
      expect(await store().consume(limited.hash, now, plain())).toMatchObject({ ok: true, record: { uses: 1, rateCount: 1 } });
      expect(await store().consume(limited.hash, now, plain())).toMatchObject({ ok: true, record: { uses: 2, rateCount: 2 } });
      expect(await store().consume(limited.hash, now, plain())).toMatchObject({ ok: false, reason: 'rate_limited' });
      expect(await reader().findById(limited.id)).toMatchObject({ uses: 2, rateCount: 2 });

      const scoped = record({ scopes: ['users:read'], rateLimit: { limit: 1, window: HOUR } });
      await store().insert(scoped);
      expect(await store().consume(scoped.hash, now, plain({ scopes: requireScopes('all', 'billing:write') }))).toMatchObject({ ok: false, reason: 'insufficient_scope' });
      expect(await store().consume(scoped.hash, now, plain({ scopes: requireScopes('all', 'users:read') }))).toMatchObject({ ok: true, record: { rateCount: 1 } });

      const spent = record({ maxUses: 1, uses: 1, lastUsedAt: at(-10), rateLimit: { limit: 1, window: HOUR }, rateCount: 1 });
      await store().insert(spent);
      expect(await store().consume(spent.hash, now, plain())).toMatchObject({ ok: false, reason: 'exhausted' });
      const off = record({ disabledAt: at(-5), rateLimit: { limit: 1, window: HOUR } });
      await store().insert(off);
      expect(await store().consume(off.hash, now, plain())).toMatchObject({ ok: false, reason: 'disabled' });
      expect(await reader().findById(off.id)).toEqual(off);
    });

    it('a share link with a rate limit: url_mismatch counts nothing, the right URL counts', async () => {
      const r = urlRecord('/feed?id=1', { rateLimit: { limit: 1, window: HOUR } });
      await store().insert(r);
      const now = at();
      expect(await store().consume(r.hash, now, plain({ url: { canonical: '/feed?id=2', method: 'GET' } }))).toMatchObject({ ok: false, reason: 'url_mismatch' });
      expect(await store().consume(r.hash, now, plain({ url: { canonical: '/feed?id=1', method: 'GET' } }))).toMatchObject({ ok: true, record: { rateCount: 1 } });
      expect(await store().consume(r.hash, now, plain({ url: { canonical: '/feed?id=1', method: 'GET' } }))).toMatchObject({ ok: false, reason: 'rate_limited' });
    });

    it(`${concurrency} parallel verifications of a limit of 50: exactly 50 pass, the rest are rate_limited`, async () => {
      const r = record({ rateLimit: { limit: 50, window: HOUR } });
      await store().insert(r);
      const now = at();
      const results = await Promise.all(Array.from({ length: concurrency }, () => store().consume(r.hash, now, plain())));
      expect(results.filter((x) => x.ok)).toHaveLength(50);
      expect(results.filter((x) => !x.ok).map((x) => !x.ok && x.reason)).toEqual(Array(concurrency - 50).fill('rate_limited'));
      expect((await reader().findById(r.id))?.rateCount).toBe(50);
    });

    it(`${concurrency} parallel verifications with maxUses 30 under a limit of 50: exactly 30 pass (both counts agree)`, async () => {
      const r = record({ maxUses: 30, rateLimit: { limit: 50, window: HOUR } });
      await store().insert(r);
      const now = at();
      const results = await Promise.all(Array.from({ length: concurrency }, () => store().consume(r.hash, now, plain())));
      expect(results.filter((x) => x.ok)).toHaveLength(30);
      expect(results.filter((x) => !x.ok).every((x) => !x.ok && x.reason === 'exhausted')).toBe(true);
      expect(await reader().findById(r.id)).toMatchObject({ uses: 30, rateCount: 30 });
    });

    it(`${concurrency} parallel verifications straddling a window boundary: never more than the limit per window (lastUsedAt never moves back)`, async () => {
      const created = at();
      const r = record({ createdAt: created, rateLimit: { limit: 5, window: HOUR }, rateCount: 3, lastUsedAt: new Date(created.getTime() + 10) });
      await store().insert(r);
      const when = (i: number) => new Date(created.getTime() + (i % 2 === 0 ? HOUR - 1 - (i % 7) : HOUR + (i % 7)));
      const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => store().consume(r.hash, when(i), plain())));
      const ok = results.filter((x) => x.ok).length;
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(7);
      const counts = results.flatMap((x) => (x.ok ? [x.record.rateCount ?? 0] : []));
      expect(Math.max(...counts)).toBeLessThanOrEqual(5);
    });

    it('sweep keeps a rate-limited token (a full window is not the end of a token)', async () => {
      const subject = randomSubject();
      const r = record({ subject, rateLimit: { limit: 1, window: HOUR }, rateCount: 1, lastUsedAt: at(-10) });
      await store().insert(r);
      await store().sweep(at());
      expect((await reader().findById(r.id))?.id).toBe(r.id);
    });
  });

  describe('rate limits: the service', () => {
    it('issue/verify: headers on success, 429 with Retry-After and RateLimit headers when the window is full', async () => {
      let t = Date.now() + DAY;
      const tokens = createTokenAccess({ store: store(), clock: () => t });
      const { token, info } = await tokens.issue({ subject: randomSubject(), name: 'rl', rateLimit: { limit: 2, window: '1m' } });
      expect(info.rateLimit).toEqual({ limit: 2, window: 60_000 });
      t += 20_000;
      const first = await tokens.verify(token);
      expect(first).toMatchObject({ ok: true, headers: { 'ratelimit-policy': '"token";q=2;w=60', ratelimit: '"token";r=1;t=40' } });
      expect(await tokens.verify(token)).toMatchObject({ ok: true, headers: { ratelimit: '"token";r=0;t=40' } });
      t += 5_500;
      const refused = await tokens.verify(token);
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.error).toMatchObject({ code: 'rate_limited', status: 429, error: 'rate_limited', retryAfter: 35 });
      const res = toResponse(refused.error);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('35');
      expect(res.headers.get('ratelimit')).toBe('"token";r=0;t=35');
      expect(res.headers.get('ratelimit-policy')).toBe('"token";q=2;w=60');
      expect(await res.json()).toEqual({ error: 'rate_limited', message: 'Too many requests with this access token.' });
      t += 35_000;
      expect(await tokens.verify(token)).toMatchObject({ ok: true, headers: { ratelimit: '"token";r=1;t=60' } });
    });

    it('defaults apply to issue and issueUrl; null opts out; update changes the limit; a peek (count: false) counts nothing', async () => {
      const tokens = createTokenAccess({
        store: store(),
        defaults: { access: { rateLimit: { limit: 3, window: '1h' } }, url: { rateLimit: { limit: 1, window: '10s' }, maxUses: null } },
      });
      const subject = randomSubject();
      const a = await tokens.issue({ subject, name: 'a' });
      expect(a.info.rateLimit).toEqual({ limit: 3, window: HOUR });
      const b = await tokens.issue({ subject, name: 'b', rateLimit: null });
      expect(b.info).not.toHaveProperty('rateLimit');
      const link = await tokens.issueUrl({ url: '/report?id=9' });
      expect(link.info.rateLimit).toEqual({ limit: 1, window: 10_000 });
      expect(await tokens.verify(a.token, { count: false })).toMatchObject({ ok: true });
      expect((await tokens.get(a.info.id))?.rateCount).toBeUndefined();
      const updated = await tokens.update(a.info.id, { rateLimit: { limit: 1, window: '1h' } });
      expect(updated.rateLimit).toEqual({ limit: 1, window: HOUR });
      expect(await tokens.verify(a.token)).toMatchObject({ ok: true });
      expect(await tokens.verify(a.token)).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(await tokens.verify(a.token, { count: false })).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      await tokens.update(a.info.id, { rateLimit: null });
      expect(await tokens.verify(a.token)).toMatchObject({ ok: true });
      expect(await tokens.verifyUrl(link.url)).toMatchObject({ ok: true });
      expect(await tokens.verifyUrl(link.url)).toMatchObject({ ok: false, error: { code: 'rate_limited', status: 429 } });
    });

    it('bad rate limits are refused with a clear error', async () => {
      const tokens = createTokenAccess({ store: store() });
      const subject = randomSubject();
      for (const rateLimit of [{ limit: 0, window: '1m' }, { limit: 1.5, window: '1m' }, { limit: 5, window: '500ms' }, { limit: 5, window: 1500 }, { limit: 5, window: '400d' }, { limit: 5 }]) {
        await expect(tokens.issue({ subject, name: 'x', rateLimit: rateLimit as never })).rejects.toMatchObject({ code: 'invalid_argument' });
      }
      expect(() => createTokenAccess({ store: store(), defaults: { access: { rateLimit: { limit: -1, window: '1m' } } } })).toThrow(/defaults\.access\.rateLimit\.limit/);
    });

    it('the verify cache never serves a rate-limited token (each verification reaches the store)', async () => {
      const tokens = createTokenAccess({ store: store(), cache: { ttl: '1h' } });
      const { token } = await tokens.issue({ subject: randomSubject(), name: 'c', rateLimit: { limit: 3, window: '1h' } });
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await tokens.verify(token));
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    });

    it('rotate carries the limit to the new token (its own count); derive gives the child the parent\'s limit unless told', async () => {
      const tokens = createTokenAccess({ store: store() });
      const parent = await tokens.issue({ subject: randomSubject(), name: 'p', rateLimit: { limit: 2, window: '1h' } });
      await tokens.verify(parent.token);
      await tokens.verify(parent.token);
      const child = await tokens.derive(parent.info.id, { scopes: ['*'] });
      expect(child.info.rateLimit).toEqual({ limit: 2, window: HOUR });
      expect(await tokens.verify(child.token)).toMatchObject({ ok: true });
      const free = await tokens.derive(parent.info.id, { rateLimit: null });
      expect(free.info).not.toHaveProperty('rateLimit');
      const rotated = await tokens.rotate(parent.info.id, { grace: '1m' });
      expect(rotated.info.rateLimit).toEqual({ limit: 2, window: HOUR });
      expect(await tokens.verify(rotated.token)).toMatchObject({ ok: true, headers: { ratelimit: expect.stringMatching(/^"token";r=1;t=\d+$/) } });
    });
  });
}
