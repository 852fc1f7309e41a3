import { TokenAccessError, createTokenAccess } from '@tokenaccess/core';
import type { TokenInfo, TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { HOUR, at, plain, randomSubject, record, urlRecord } from './fixtures';

const DAY = 24 * HOUR;

/**
 * A clock for `createTokenAccess` that starts a day ahead of the real one and can be moved, so
 * records' deadlines lie in the real future (no server TTL removes them under the test) while
 * the service sees time pass.
 */
function movingClock() {
  let t = Date.now() + DAY;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/**
 * The lifecycle (`disabledAt`, `refill`, and core's update / disable / enable / rotate / derive /
 * expiring-soon on top of the store's `update` and `list`), natively atomic in every store.
 */
export function lifecycleTests(store: () => TokenStore, reader: () => TokenStore, concurrency: number): void {
  const update = (id: string, patch: Parameters<NonNullable<TokenStore['update']>>[1]) => store().update!(id, patch);

  describe('lifecycle: disabledAt', () => {
    it('a disabled token is refused as disabled, first, and spends and touches nothing', async () => {
      const r = record({ maxUses: 3, uses: 1, expiresAt: at(-1000 + 2 * HOUR), disabledAt: at(-1000) });
      await store().insert(r);
      const out = await store().consume(r.hash, at(3 * HOUR), plain({ lastUsedResolution: 0 }));
      expect(out).toMatchObject({ ok: false, reason: 'disabled', record: { id: r.id } });
      expect(await reader().findById(r.id)).toEqual(r);
    });

    it('a disabled URL token is refused as disabled, and enabling it (disabledAt: null) makes it work again', async () => {
      const r = urlRecord('/d?x=1', { maxUses: 1 });
      await store().insert(r);
      const disabled = await update(r.id, { disabledAt: at() });
      expect(disabled?.disabledAt).toBeInstanceOf(Date);
      expect(await reader().consume(r.hash, at(), plain({ url: { canonical: '/d?x=1', method: 'GET' } }))).toMatchObject({ ok: false, reason: 'disabled' });
      expect((await reader().findById(r.id))?.uses).toBe(0);
      const enabled = await update(r.id, { disabledAt: null });
      expect(enabled).not.toHaveProperty('disabledAt');
      expect(await reader().findById(r.id)).toEqual(r);
      expect(await reader().consume(r.hash, at(), plain({ url: { canonical: '/d?x=1', method: 'GET' } }))).toMatchObject({ ok: true, record: { uses: 1 } });
    });

    it('an unlimited disabled token is refused on the read path too (no write needed to refuse it)', async () => {
      const r = record({ lastUsedAt: at(), disabledAt: at(-5) });
      await store().insert(r);
      expect(await reader().consume(r.hash, at(), plain())).toMatchObject({ ok: false, reason: 'disabled' });
    });
  });

  describe('lifecycle: refill', () => {
    it('round-trips refill and clears it with null', async () => {
      const r = record({ maxUses: 2, refill: { every: HOUR } });
      await store().insert(r);
      expect(await reader().findById(r.id)).toEqual(r);
      expect(await update(r.id, { refill: { every: 2 * HOUR } })).toEqual({ ...r, refill: { every: 2 * HOUR } });
      const { refill: _r, ...cleared } = r;
      expect(await update(r.id, { refill: null })).toEqual(cleared);
      expect(await reader().findByHash(r.hash)).toEqual(cleared);
    });

    it('the budget renews each period counted from createdAt', async () => {
      const created = at();
      const r = record({ createdAt: created, maxUses: 2, refill: { every: HOUR } });
      await store().insert(r);
      const t = (ms: number) => new Date(created.getTime() + ms);
      // lastUsedResolution is long: a refilling counted token still records lastUsedAt on each use
      const p = plain({ lastUsedResolution: DAY });
      expect(await store().consume(r.hash, t(1000), p)).toMatchObject({ ok: true, record: { uses: 1, lastUsedAt: t(1000) } });
      expect(await store().consume(r.hash, t(2000), p)).toMatchObject({ ok: true, record: { uses: 2, lastUsedAt: t(2000) } });
      expect(await store().consume(r.hash, t(3000), p)).toMatchObject({ ok: false, reason: 'exhausted' });
      expect(await store().consume(r.hash, t(HOUR - 1), p)).toMatchObject({ ok: false, reason: 'exhausted' });
      expect(await reader().consume(r.hash, t(HOUR), p)).toMatchObject({ ok: true, record: { uses: 1, lastUsedAt: t(HOUR) } });
      expect(await store().consume(r.hash, t(HOUR + 1), p)).toMatchObject({ ok: true, record: { uses: 2 } });
      expect(await store().consume(r.hash, t(2 * HOUR - 1), p)).toMatchObject({ ok: false, reason: 'exhausted' });
      // a skipped period does not bank uses
      expect(await store().consume(r.hash, t(5 * HOUR + 7), p)).toMatchObject({ ok: true, record: { uses: 1 } });
      expect((await reader().findById(r.id))?.uses).toBe(1);
    });

    it(`${concurrency} parallel consumes just after a period boundary: exactly maxUses succeed`, async () => {
      const created = at();
      const r = record({ createdAt: created, maxUses: 10, uses: 10, lastUsedAt: new Date(created.getTime() + HOUR - 1), refill: { every: HOUR } });
      await store().insert(r);
      const results = await Promise.all(
        Array.from({ length: concurrency }, (_, i) => store().consume(r.hash, new Date(created.getTime() + HOUR + (i % 50)), plain())),
      );
      expect(results.filter((x) => x.ok)).toHaveLength(10);
      expect(results.filter((x) => !x.ok).map((x) => !x.ok && x.reason)).toEqual(Array(concurrency - 10).fill('exhausted'));
      expect((await reader().findById(r.id))?.uses).toBe(10);
    });

    it(`${concurrency} parallel consumes straddling a boundary never pass more than maxUses per period (lastUsedAt never moves back)`, async () => {
      const created = at();
      const r = record({ createdAt: created, maxUses: 5, uses: 3, lastUsedAt: new Date(created.getTime() + 10), refill: { every: HOUR } });
      await store().insert(r);
      const when = (i: number) => new Date(created.getTime() + (i % 2 === 0 ? HOUR - 1 - (i % 7) : HOUR + (i % 7)));
      const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => store().consume(r.hash, when(i), plain())));
      const ok = results.filter((x) => x.ok).length;
      // at most 2 left in the first period and 5 in the second; at least the second period's 5
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(7);
      const records = results.flatMap((x) => (x.ok ? [x.record] : []));
      expect(Math.max(...records.map((x) => x.uses))).toBeLessThanOrEqual(5);
    });

    it('sweep keeps a refilling token that is used up for this period, and sweeps one that is used up for good', async () => {
      const subject = randomSubject();
      const refilling = record({ subject, maxUses: 1, uses: 1, lastUsedAt: at(-10), refill: { every: HOUR } });
      const spent = record({ subject, maxUses: 1, uses: 1, lastUsedAt: at(-10) });
      await store().insert(refilling);
      await store().insert(spent);
      await store().sweep(at());
      expect((await reader().findById(refilling.id))?.id).toBe(refilling.id);
      expect(await reader().findById(spent.id)).toBeNull();
      expect(await reader().consume(refilling.hash, at(HOUR + 1000), plain())).toMatchObject({ ok: true, record: { uses: 1 } });
    });

    it('a disabled refilling token spends nothing in a new period', async () => {
      const created = at();
      const r = record({ createdAt: created, maxUses: 1, uses: 1, lastUsedAt: created, refill: { every: HOUR }, disabledAt: created });
      await store().insert(r);
      expect(await store().consume(r.hash, new Date(created.getTime() + HOUR), plain())).toMatchObject({ ok: false, reason: 'disabled' });
      expect(await reader().findById(r.id)).toEqual(r);
    });
  });

  describe('share-link sessions: the session kind', () => {
    it('a session record round-trips, lists by kind, and is refused as a Bearer or URL token by the binding', async () => {
      const link = urlRecord('/s/1', { maxUses: 1 });
      const { subject: _s, ...session } = record({
        kind: 'session',
        parentId: link.id,
        scopes: ['album:view'],
        expiresAt: at(HOUR),
        url: { url: 'https://example.com/s/1', origin: 'https://example.com', canonical: 'session:/s/1', methods: ['GET', 'HEAD', 'POST'] },
      });
      await store().insert(link);
      await store().insert(session);
      expect(await reader().findByHash(session.hash)).toEqual(session);
      const page = await reader().list({ kind: 'session', parentId: link.id, limit: 10 });
      expect(page.items).toEqual([session]);
      expect(await reader().consume(session.hash, at(), plain())).toMatchObject({ ok: false, reason: 'url_mismatch' });
      expect(await reader().consume(session.hash, at(), plain({ url: { canonical: '/s/1', method: 'GET' } }))).toMatchObject({ ok: false, reason: 'url_mismatch' });
    });
  });

  describe('lifecycle: update vs concurrent consumes', () => {
    it('every consume sees the record before or after an update, never a mix', async () => {
      const r = record({ name: 'before', scopes: ['a'], maxUses: 10_000, metadata: { v: 'before' } });
      await store().insert(r);
      const consumes = Array.from({ length: concurrency }, () => store().consume(r.hash, at(), plain()));
      const updated = update(r.id, { name: 'after', scopes: ['b'], metadata: { v: 'after' } });
      const results = await Promise.all(consumes);
      await updated;
      for (const x of results) {
        expect(x.ok).toBe(true);
        if (!x.ok) continue;
        const seen = [x.record.name, x.record.scopes.join(','), String(x.record.metadata?.v)];
        expect([['before', 'a', 'before'], ['after', 'b', 'after']]).toContainEqual(seen);
      }
      expect(await reader().findById(r.id)).toMatchObject({ name: 'after', scopes: ['b'], uses: concurrency });
    });
  });

  describe('lifecycle behind createTokenAccess', () => {
    const service = (clock = movingClock()) =>
      ({ clock, tokens: createTokenAccess({ store: store(), clock: clock.now }), other: createTokenAccess({ store: reader(), clock: clock.now }) });

    it('update: validated like issue, not_found for an unknown id, the raw token and hash unchanged', async () => {
      const { tokens, other } = service();
      const { token, info } = await tokens.issue({ subject: randomSubject(), name: 'ci', scopes: ['a'] });
      const out = await tokens.update(info.id, { name: 'ci (renamed)', scopes: ['b:*'], maxUses: 5, expiresIn: '1d', metadata: { team: 'x' } });
      expect(out).toMatchObject({ id: info.id, hash: info.hash, name: 'ci (renamed)', scopes: ['b:*'], maxUses: 5, metadata: { team: 'x' } });
      const r = await other.verify(token, { scopes: ['b:read'] });
      expect(r.ok && r.token.uses).toBe(1);
      await expect(tokens.update(info.id, { scopes: ['bad scope'] })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(tokens.update(info.id, { maxUses: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(tokens.update(info.id, { expiresIn: 'soon' as never })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(tokens.update(info.id, { hash: 'x' } as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      const missing = await tokens.update(`${info.id.slice(0, -4)}zzzz`, { name: 'x' }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(TokenAccessError);
      expect(missing).toMatchObject({ code: 'not_found' });
      expect(await other.update(info.id, { expiresAt: null, maxUses: null })).not.toHaveProperty('expiresAt');
    });

    it('disable / enable: refused as disabled (401 invalid_token), nothing spent; enable restores it', async () => {
      const { tokens, other } = service();
      const { token, info } = await tokens.issue({ subject: randomSubject(), name: 'ci', maxUses: 2 });
      const disabled = await tokens.disable(info.id);
      expect(disabled.disabledAt).toBeInstanceOf(Date);
      const r = await other.verify(token);
      expect(r.ok ? 'ok' : r.error).toMatchObject({ code: 'disabled', status: 401, error: 'invalid_token' });
      expect((await other.inspect(token))?.uses).toBe(0);
      expect((await tokens.disable(info.id)).disabledAt).toEqual(disabled.disabledAt);
      expect(await tokens.enable(info.id)).not.toHaveProperty('disabledAt');
      expect((await other.verify(token)).ok).toBe(true);
    });

    it('rotate with a grace: both tokens work during it, under concurrency; the old one is expired after it', async () => {
      const { clock, tokens, other } = service();
      const subject = randomSubject();
      const { token: oldToken, info } = await tokens.issue({ subject, name: 'deploy', scopes: ['ci:*'], metadata: { repo: 'a/b' }, expiresIn: '30d' });
      const rotated = await tokens.rotate(info.id, { grace: '1h' });
      expect(rotated.token).not.toBe(oldToken);
      expect(rotated.info).toMatchObject({ subject, name: 'deploy', scopes: ['ci:*'], metadata: { repo: 'a/b' } });
      expect(rotated.info.expiresAt!.getTime() - rotated.info.createdAt.getTime()).toBe(30 * DAY);
      expect(rotated.previous.expiresAt!.getTime()).toBe(clock.now() + HOUR);
      const both = await Promise.all(Array.from({ length: concurrency }, (_, i) => other.verify(i % 2 ? oldToken : rotated.token, { scopes: ['ci:run'] })));
      expect(both.every((x) => x.ok)).toBe(true);
      clock.advance(HOUR);
      const old = await other.verify(oldToken);
      expect(old.ok ? 'ok' : old.error.code).toBe('expired');
      expect((await other.verify(rotated.token)).ok).toBe(true);
      // grace 0: refused at once
      const again = await tokens.rotate(rotated.info.id);
      const at0 = await other.verify(rotated.token);
      expect(at0.ok ? 'ok' : at0.error.code).toBe('expired');
      expect((await other.verify(again.token)).ok).toBe(true);
      expect(JSON.stringify(again.previous)).not.toContain(again.token);
    });

    it('rotate a share link: the new link opens the same URL', async () => {
      const { tokens } = service();
      const share = await tokens.issueUrl({ url: 'https://example.com/r?id=1', maxUses: null });
      const next = await tokens.rotate(share.info.id);
      expect(next.url).toContain('https://example.com/r?id=1&token=');
      expect((await tokens.verifyUrl(next.url!)).ok).toBe(true);
      const old = await tokens.verifyUrl(share.url);
      expect(old.ok ? 'ok' : old.error.code).toBe('expired');
    });

    it('refill through issue: the budget comes back next period', async () => {
      const { clock, tokens, other } = service();
      const { token } = await tokens.issue({ subject: randomSubject(), name: 'quota', maxUses: 2, refill: { every: '1h' } });
      expect((await tokens.verify(token)).ok).toBe(true);
      expect((await other.verify(token)).ok).toBe(true);
      const third = await tokens.verify(token);
      expect(third.ok ? 'ok' : third.error.code).toBe('exhausted');
      clock.advance(HOUR);
      expect((await other.verify(token)).ok).toBe(true);
      await expect(tokens.issue({ subject: 'x', name: 'y', refill: { every: '1h' } })).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('derive: scopes covered by the parent, expiry clamped; revoke, disable and rotate of the parent refuse the child', async () => {
      const { clock, tokens, other } = service();
      const parent = await tokens.issue({ subject: randomSubject(), name: 'root', scopes: ['repo:*', 'read'], expiresIn: '1d' });
      const child = await tokens.derive(parent.info.id, { scopes: ['repo:read'], expiresIn: '30d', maxUses: 100 });
      expect(child.info).toMatchObject({ parentId: parent.info.id, subject: parent.info.subject, scopes: ['repo:read'], maxUses: 100 });
      expect(child.info.expiresAt).toEqual(parent.info.expiresAt);
      expect((await other.verify(child.token, { scopes: ['repo:read'] })).ok).toBe(true);
      const over = await other.verify(child.token, { scopes: ['read'] });
      expect(over.ok ? 'ok' : over.error.code).toBe('insufficient_scope');
      await expect(tokens.derive(parent.info.id, { scopes: ['admin'] })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(tokens.derive(parent.info.id, { scopes: ['*'] })).rejects.toMatchObject({ code: 'invalid_argument' });
      expect((await tokens.derive(parent.info.id, { scopes: ['repo:x:*'] })).info.scopes).toEqual(['repo:x:*']);
      expect((await tokens.list({ parentId: parent.info.id })).items.map((t) => t.id)).toContain(child.info.id);

      await tokens.disable(parent.info.id);
      const off = await other.verify(child.token);
      expect(off.ok ? 'ok' : off.error.code).toBe('disabled');
      await tokens.enable(parent.info.id);
      expect((await other.verify(child.token)).ok).toBe(true);

      const grand = await tokens.derive(child.info.id, { scopes: ['repo:read'] });
      await tokens.rotate(parent.info.id, { grace: '1m' });
      clock.advance(60_000);
      for (const t of [child.token, grand.token]) {
        const r = await other.verify(t);
        expect(r.ok ? 'ok' : r.error.code).toBe('expired');
      }

      const p2 = await tokens.issue({ subject: randomSubject(), name: 'root2' });
      const c2 = await tokens.derive(p2.info.id);
      const g2 = await tokens.derive(c2.info.id, { scopes: ['x'] });
      const revoked: TokenInfo[][] = [];
      const watched = createTokenAccess({ store: store(), clock: clock.now, onRevoked: (t) => void (Array.isArray(t) && revoked.push(t)) });
      await watched.revokeById(p2.info.id);
      expect(revoked[0]?.map((t) => t.id).sort()).toEqual([p2.info.id, c2.info.id, g2.info.id].sort());
      for (const t of [c2.token, g2.token]) {
        const r = await other.verify(t);
        expect(r.ok ? 'ok' : r.error.code).toBe('not_found');
      }
    });

    it(`share-link sessions: ${concurrency} concurrent exchanges of a one-time link create exactly one session; revoking the link ends it`, async () => {
      const { tokens, other } = service();
      const share = await tokens.issueUrl({ url: 'https://example.com/shared/doc?id=7' });
      const all = await Promise.all(Array.from({ length: concurrency }, (_, i) => (i % 2 ? tokens : other).exchange(new Request(share.url))));
      const opened = all.filter((r) => r.ok);
      expect(opened).toHaveLength(1);
      expect(all.filter((r) => !r.ok).map((r) => (r.ok ? 'ok' : 'error' in r ? r.error.code : 'pending'))).toEqual(Array(concurrency - 1).fill('exhausted'));
      const sessions = await other.list({ kind: 'session', parentId: share.info.id });
      expect(sessions.items).toHaveLength(1);
      const cookie = opened[0]!.response.headers.get('set-cookie')!.split(';')[0]!;
      const page = () => other.authenticate(new Request('https://example.com/shared/doc/img.png', { headers: { cookie } }), { cookie: 'tka_session' });
      expect((await page()).ok).toBe(true);
      await tokens.revokeById(share.info.id);
      const after = await page();
      expect(after.ok ? 'ok' : after.error.code).toBe('not_found');
    });

    it('list({ expiringBefore }) finds the tokens that expire soon', async () => {
      const { clock, tokens } = service();
      const subject = randomSubject();
      const soon = await tokens.issue({ subject, name: 'soon', expiresIn: '1d' });
      await tokens.issue({ subject, name: 'later', expiresIn: '30d' });
      await tokens.issue({ subject, name: 'never' });
      const page = await tokens.list({ subject, expiringBefore: new Date(clock.now() + 7 * DAY) });
      expect(page.items.map((t) => t.id)).toEqual([soon.info.id]);
    });
  });
}
