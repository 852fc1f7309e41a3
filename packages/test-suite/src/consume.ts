import type { ConsumeResult, TokenInfo, TokenStore } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { HOUR, at, plain, record, scopes, urlRecord } from './fixtures';

const MIN = 60_000;

function refused(r: ConsumeResult): string {
  return r.ok ? 'ok' : r.reason;
}

/** The atomic consume: expiry, use limits, last-used throttling, URL binding and scopes. */
export function consumeTests(store: () => TokenStore): void {
  const insert = async (r: TokenInfo) => {
    await store().insert(r);
    return r;
  };

  describe('consume: use limits and last-used', () => {
    it('answers not_found for an unknown hash', async () => {
      expect(refused(await store().consume('f'.repeat(64), at(), plain()))).toBe('not_found');
    });

    it('accepts an unlimited token without counting it, and touches lastUsedAt once', async () => {
      const r = await insert(record());
      const t1 = at(1000);
      const first = await store().consume(r.hash, t1, plain());
      expect(first.ok && first.record).toEqual({ ...r, lastUsedAt: t1 });
      const second = await store().consume(r.hash, at(2000), plain());
      expect(second.ok && second.record.lastUsedAt).toEqual(t1); // within the resolution: untouched
      expect(second.ok && second.record.uses).toBe(0);
      expect(await store().findByHash(r.hash)).toEqual({ ...r, lastUsedAt: t1 });
    });

    it('touches lastUsedAt again once it is older than the resolution', async () => {
      const r = await insert(record({ lastUsedAt: at() }));
      const later = at(MIN + 1);
      const res = await store().consume(r.hash, later, plain());
      expect(res.ok && res.record.lastUsedAt).toEqual(later);
      expect((await store().findByHash(r.hash))!.lastUsedAt).toEqual(later);
    });

    it('touches on every use with a resolution of 0', async () => {
      const r = await insert(record());
      for (const t of [at(1), at(2), at(3)]) {
        const res = await store().consume(r.hash, t, plain({ lastUsedResolution: 0 }));
        expect(res.ok && res.record.lastUsedAt).toEqual(t);
      }
    });

    it('counts uses up to maxUses, then refuses', async () => {
      const r = await insert(record({ maxUses: 3 }));
      for (let i = 1; i <= 3; i++) {
        const res = await store().consume(r.hash, at(i), plain());
        expect(res.ok).toBe(true);
        expect(res.ok && res.record.uses).toBe(i);
      }
      expect(['exhausted', 'not_found']).toContain(refused(await store().consume(r.hash, at(10), plain())));
      expect(['exhausted', 'not_found']).toContain(refused(await store().consume(r.hash, at(11), plain())));
      const left = await store().findByHash(r.hash);
      if (left) expect(left.uses).toBe(3);
    });

    it('refuses a record stored already used up', async () => {
      const r = await insert(record({ maxUses: 2, uses: 2 }));
      expect(refused(await store().consume(r.hash, at(), plain()))).toBe('exhausted');
    });
  });

  describe('consume: expiry', () => {
    it('accepts before expiresAt and refuses from expiresAt on', async () => {
      const r = await insert(record({ expiresAt: at(HOUR) }));
      expect((await store().consume(r.hash, at(HOUR - 1000), plain())).ok).toBe(true);
      expect(refused(await store().consume(r.hash, r.expiresAt!, plain()))).toBe('expired');
      expect(refused(await store().consume(r.hash, at(2 * HOUR), plain()))).toBe('expired');
    });

    it('counts idle time from creation when the token was never used', async () => {
      const r = await insert(record({ idleTimeout: HOUR }));
      expect(refused(await store().consume(r.hash, at(HOUR + 1000), plain()))).toBe('expired');
    });

    it('counts idle time from the last use, and a use keeps it alive', async () => {
      const r = await insert(record({ idleTimeout: HOUR }));
      expect((await store().consume(r.hash, at(HOUR - 2 * MIN), plain())).ok).toBe(true); // touches lastUsedAt
      expect((await store().consume(r.hash, at(2 * HOUR - 3 * MIN), plain())).ok).toBe(true); // alive thanks to the use
      expect(refused(await store().consume(r.hash, at(3 * HOUR), plain()))).toBe('expired');
    });

    it('reports expiry before exhaustion, binding and scopes', async () => {
      const r = await insert(urlRecord('/a', { expiresAt: at(HOUR), maxUses: 1, uses: 1, scopes: [] }));
      const res = await store().consume(r.hash, at(2 * HOUR), plain({ url: { canonical: '/b', method: 'POST' }, scopes: scopes('all', 'x') }));
      expect(refused(res)).toBe('expired');
    });
  });

  describe('consume: URL binding', () => {
    const bound = (canonical: string, method = 'GET', origin?: string) => plain({ url: { canonical, method, ...(origin ? { origin } : {}) } });

    it('accepts the bound URL and method, and counts the use', async () => {
      const r = await insert(urlRecord('/files?id=7', { maxUses: 2 }));
      const res = await store().consume(r.hash, at(), bound('/files?id=7', 'HEAD'));
      expect(res.ok && res.record.uses).toBe(1);
    });

    it('refuses another URL, another method or another origin without spending a use', async () => {
      const r = await insert(urlRecord('/files?id=7', { maxUses: 1 }));
      expect(refused(await store().consume(r.hash, at(), bound('/files?id=8')))).toBe('url_mismatch');
      expect(refused(await store().consume(r.hash, at(), bound('/files?id=7&x=1')))).toBe('url_mismatch');
      expect(refused(await store().consume(r.hash, at(), bound('/files', 'GET')))).toBe('url_mismatch');
      expect(refused(await store().consume(r.hash, at(), bound('/files?id=7', 'POST')))).toBe('url_mismatch');
      expect(refused(await store().consume(r.hash, at(), bound('/files?id=7', 'GET', 'https://evil.test')))).toBe('url_mismatch');
      expect((await store().findByHash(r.hash))!.uses).toBe(0);
      const ok = await store().consume(r.hash, at(), bound('/files?id=7', 'GET', 'https://example.com'));
      expect(ok.ok && ok.record.uses).toBe(1);
    });

    it('ignores the origin when the binding has none', async () => {
      const r = urlRecord('/p');
      delete r.url!.origin;
      await insert(r);
      expect((await store().consume(r.hash, at(), bound('/p', 'GET', 'https://any.test'))).ok).toBe(true);
    });

    it('refuses a URL token presented without a URL, and an access token presented with one', async () => {
      const u = await insert(urlRecord('/files?id=7', { maxUses: 1 }));
      expect(refused(await store().consume(u.hash, at(), plain()))).toBe('url_mismatch');
      expect((await store().findByHash(u.hash))!.uses).toBe(0);
      const a = await insert(record());
      expect(refused(await store().consume(a.hash, at(), bound('/files?id=7')))).toBe('url_mismatch');
    });
  });

  describe('consume: scopes', () => {
    it('accepts held, wildcard and star scopes', async () => {
      const r = await insert(record({ scopes: ['users:*', 'files:read'] }));
      expect((await store().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:read', 'files:read') }))).ok).toBe(true);
      expect((await store().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:*') }))).ok).toBe(true);
      const star = await insert(record({ scopes: ['*'] }));
      expect((await store().consume(star.hash, at(), plain({ scopes: scopes('all', 'anything:at.all') }))).ok).toBe(true);
    });

    it("refuses a missing scope in 'all' mode without spending a use, and accepts one of them in 'any' mode", async () => {
      const r = await insert(record({ scopes: ['users:read'], maxUses: 5 }));
      expect(refused(await store().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:read', 'users:write') })))).toBe('insufficient_scope');
      expect((await store().findByHash(r.hash))!.uses).toBe(0);
      const any = await store().consume(r.hash, at(), plain({ scopes: scopes('any', 'users:write', 'users:read') }));
      expect(any.ok && any.record.uses).toBe(1);
      expect(refused(await store().consume(r.hash, at(), plain({ scopes: scopes('any', 'admin', 'users:write') })))).toBe('insufficient_scope');
    });

    it('treats : and . as ordinary characters and empty scopes as nothing', async () => {
      const r = await insert(record({ scopes: ['users.read'] }));
      expect(refused(await store().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:read') })))).toBe('insufficient_scope');
      const none = await insert(record({ scopes: [] }));
      expect(refused(await store().consume(none.hash, at(), plain({ scopes: scopes('all', 'x') })))).toBe('insufficient_scope');
      expect((await store().consume(none.hash, at(), plain())).ok).toBe(true);
    });
  });
}
