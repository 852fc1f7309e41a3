import type { TokenInfo, TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { at, plain, randomSubject, record, scopes } from './fixtures';

const HOUR = 3_600_000;

/**
 * What the lifecycle capabilities (update, disable, rotate, refill, derive, expiring-soon) need
 * from a store: an atomic `update` of the mutable fields by id, `list` by `parentId` and by
 * `expiringBefore`. Results are read back through the second reader.
 */
export function updateTests(store: () => TokenStore, reader: () => TokenStore): void {
  const update = (id: string, patch: Parameters<NonNullable<TokenStore['update']>>[1]) => {
    const s = store();
    if (typeof s.update !== 'function') throw new Error('[tokenaccess] [test-suite] the store has no update(id, patch)');
    return s.update(id, patch);
  };

  describe('update(id, patch)', () => {
    it('replaces the named fields, keeps the rest, and a second reader sees the new record', async () => {
      const r = record({ scopes: ['a'], metadata: { v: 1 }, maxUses: 5, uses: 2, lastUsedAt: at(-HOUR) });
      await store().insert(r);
      const out = await update(r.id, { name: 'renamed', scopes: ['b:*', 'c'], metadata: { v: 2, list: [1, 'x'] } });
      const want: TokenInfo = { ...r, name: 'renamed', scopes: ['b:*', 'c'], metadata: { v: 2, list: [1, 'x'] } };
      expect(out).toEqual(want);
      expect(await reader().findById(r.id)).toEqual(want);
      expect(await reader().findByHash(r.hash)).toEqual(want);
    });

    it('null clears a field; absent keeps it', async () => {
      const r = record({ expiresAt: at(HOUR), idleTimeout: 60_000, maxUses: 3, metadata: { k: 'v' } });
      await store().insert(r);
      const out = await update(r.id, { expiresAt: null, idleTimeout: null, maxUses: null, metadata: null });
      const { expiresAt: _e, idleTimeout: _i, maxUses: _m, metadata: _d, ...rest } = r;
      expect(out).toEqual(rest);
      expect(await reader().findById(r.id)).toEqual(rest);
    });

    it('an unknown id answers null and writes nothing', async () => {
      expect(await update(record().id, { name: 'x' })).toBeNull();
    });

    it('consume follows the new limits: a shorter expiry expires it, a lower maxUses uses it up, a higher one revives it', async () => {
      const r = record({ maxUses: 5, uses: 2 });
      await store().insert(r);
      await update(r.id, { expiresAt: at(HOUR) });
      expect(await reader().consume(r.hash, at(2 * HOUR), plain())).toMatchObject({ ok: false, reason: 'expired' });
      await update(r.id, { expiresAt: null, maxUses: 2 });
      expect(await reader().consume(r.hash, at(2 * HOUR), plain())).toMatchObject({ ok: false, reason: 'exhausted' });
      await update(r.id, { maxUses: 3 });
      expect(await reader().consume(r.hash, at(2 * HOUR), plain())).toMatchObject({ ok: true, record: { uses: 3, maxUses: 3 } });
      expect(await reader().consume(r.hash, at(2 * HOUR), plain())).toMatchObject({ ok: false, reason: 'exhausted' });
    });

    it('scopes take effect on the next consume (the store checks them natively)', async () => {
      const r = record({ scopes: ['files:read'] });
      await store().insert(r);
      expect((await reader().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:read') }))).ok).toBe(false);
      await update(r.id, { scopes: ['users:*'] });
      expect((await reader().consume(r.hash, at(), plain({ scopes: scopes('all', 'users:read') }))).ok).toBe(true);
    });

    it('an expiry set later is honoured by the store’s own expiry (sweep removes it once past)', async () => {
      const r = record();
      await store().insert(r);
      await update(r.id, { expiresAt: at(HOUR) });
      expect(await store().sweep(at(2 * HOUR))).toBe(1);
      expect(await reader().findById(r.id)).toBeNull();
    });

    it('is atomic with concurrent consumes: each sees the record before or after, never a mix, and no use is lost', async () => {
      const r = record({ name: 'before', scopes: ['old'], maxUses: 1000 });
      await store().insert(r);
      const first = Array.from({ length: 30 }, () => reader().consume(r.hash, at(), plain()));
      const patched = update(r.id, { name: 'after', scopes: ['new'] });
      const then = Array.from({ length: 30 }, () => reader().consume(r.hash, at(), plain()));
      const results = await Promise.all([...first, ...then]);
      for (const res of results) {
        expect(res.ok).toBe(true);
        const rec = (res as { record: TokenInfo }).record;
        expect([rec.name, rec.scopes]).toEqual(rec.name === 'before' ? ['before', ['old']] : ['after', ['new']]);
      }
      expect(await patched).toMatchObject({ name: 'after', scopes: ['new'] });
      expect(await reader().findById(r.id)).toMatchObject({ name: 'after', scopes: ['new'], uses: 60 });
    });
  });

  describe('list by parentId and expiringBefore', () => {
    it('lists the children of a token, in creation order, with a cursor', async () => {
      const parent = record();
      await store().insert(parent);
      const kids: TokenInfo[] = [];
      for (let i = 0; i < 5; i++) {
        const kid = record({ parentId: parent.id, subject: parent.subject, createdAt: at(i) });
        kids.push(kid);
        await store().insert(kid);
      }
      await store().insert(record({ subject: parent.subject }));
      const first = await reader().list({ parentId: parent.id, limit: 3 });
      expect(first.items.map((t) => t.id)).toEqual(kids.slice(0, 3).map((k) => k.id));
      expect(first.items[0]!.parentId).toBe(parent.id);
      const second = await reader().list({ parentId: parent.id, limit: 3, cursor: first.cursor! });
      expect(second.items.map((t) => t.id)).toEqual(kids.slice(3).map((k) => k.id));
      expect(second.cursor).toBeUndefined();
    });

    it('lists tokens of a subject expiring before a date, and no others', async () => {
      const subject = randomSubject();
      const soon = record({ subject, expiresAt: at(HOUR), createdAt: at(0) });
      const later = record({ subject, expiresAt: at(48 * HOUR), createdAt: at(1) });
      const never = record({ subject, createdAt: at(2) });
      const idle = record({ subject, idleTimeout: 1000, createdAt: at(3) });
      for (const r of [soon, later, never, idle]) await store().insert(r);
      const page = await reader().list({ subject, expiringBefore: at(24 * HOUR), limit: 10 });
      expect(page.items.map((t) => t.id)).toEqual([soon.id]);
      await update(never.id, { expiresAt: at(2 * HOUR) });
      expect((await reader().list({ subject, expiringBefore: at(24 * HOUR), limit: 10 })).items.map((t) => t.id)).toEqual([soon.id, never.id]);
    });
  });
}
