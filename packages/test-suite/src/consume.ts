import type { ConsumeResult, TokenInfo, TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { HOUR, at, plain, randomSubject, record, scopes, urlRecord } from './fixtures';

const MIN = 60_000;

function refused(r: ConsumeResult): string {
  return r.ok ? 'ok' : r.reason;
}

/** The atomic consume: expiry, use limits, last-used throttling, URL binding and scopes. */
export function consumeTests(store: () => TokenStore, reader: () => TokenStore): void {
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
      const times = [at(1), at(2), at(3)];
      for (let i = 1; i <= 3; i++) {
        const res = await store().consume(r.hash, times[i - 1]!, plain());
        expect(res.ok).toBe(true);
        expect(res.ok && res.record.uses).toBe(i);
      }
      // within the resolution: lastUsedAt is the first use
      const spent = { ...r, uses: 3, lastUsedAt: times[0] };
      expect(await store().consume(r.hash, at(10), plain())).toEqual({ ok: false, reason: 'exhausted', record: spent });
      expect(await reader().consume(r.hash, at(11), plain())).toEqual({ ok: false, reason: 'exhausted', record: spent });
      expect(await reader().findByHash(r.hash)).toEqual(spent);
    });

    it('refuses a record stored already used up', async () => {
      const r = await insert(record({ maxUses: 2, uses: 2 }));
      expect(refused(await store().consume(r.hash, at(), plain()))).toBe('exhausted');
      expect(refused(await reader().consume(r.hash, at(), plain()))).toBe('exhausted');
    });
  });

  // One answer on every store: a store that deletes a record on its last use must keep a
  // tombstone (DESIGN.md, "Every store answers the same code"), so nothing here says not_found.
  describe('consume: a used-up token', () => {
    const link = (canonical: string, method = 'GET') => plain({ url: { canonical, method } });

    it('answers exhausted on every later use, before the binding and the scopes are looked at', async () => {
      const r = await insert(urlRecord('/once', { maxUses: 1, scopes: ['files:read'] }));
      const used = at(1);
      const first = await store().consume(r.hash, used, link('/once'));
      expect(first).toEqual({ ok: true, record: { ...r, uses: 1, lastUsedAt: used } });
      const spent = { ...r, uses: 1, lastUsedAt: used };
      for (const s of [store(), reader()]) {
        expect(await s.consume(r.hash, at(2), link('/once'))).toEqual({ ok: false, reason: 'exhausted', record: spent });
        expect(refused(await s.consume(r.hash, at(3), link('/elsewhere', 'POST')))).toBe('exhausted');
        expect(refused(await s.consume(r.hash, at(4), plain()))).toBe('exhausted');
        expect(refused(await s.consume(r.hash, at(5), { ...link('/once'), scopes: scopes('all', 'admin') }))).toBe('exhausted');
        expect(refused(await s.consume(r.hash, at(HOUR), link('/once')))).toBe('exhausted');
      }
    });

    it('stays a record like any other: found by hash and id, listed, revoked by id, then not_found', async () => {
      const subject = randomSubject();
      const r = await insert(record({ subject, maxUses: 2 }));
      const t = at(1);
      expect((await store().consume(r.hash, t, plain())).ok).toBe(true);
      expect((await store().consume(r.hash, at(2), plain())).ok).toBe(true);
      const spent = { ...r, uses: 2, lastUsedAt: t };
      expect(await reader().findByHash(r.hash)).toEqual(spent);
      expect(await reader().findById(r.id)).toEqual(spent);
      expect((await reader().list({ subject, limit: 10 })).items).toEqual([spent]);
      expect(await reader().deleteById(r.id)).toEqual(spent);
      expect(refused(await store().consume(r.hash, at(3), plain()))).toBe('not_found');
      expect(await store().findById(r.id)).toBeNull();
    });

    it('is revoked with its subject and by hash, counted once', async () => {
      const subject = randomSubject();
      const a = await insert(record({ subject, maxUses: 1 }));
      const b = await insert(record({ subject, maxUses: 1 }));
      const t = at(1);
      for (const x of [a, b]) expect((await store().consume(x.hash, t, plain())).ok).toBe(true);
      expect(await reader().deleteByHash(a.hash)).toEqual({ ...a, uses: 1, lastUsedAt: t });
      expect(await reader().deleteBySubject(subject)).toBe(1);
      for (const x of [a, b]) expect(refused(await store().consume(x.hash, at(2), plain()))).toBe('not_found');
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
