import { DuplicateTokenError, TokenAccessError, type TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { HOUR, at, randomSubject, record, urlRecord } from './fixtures';

/** Insert, find, duplicates, list with pagination, deletes. */
export function basicTests(store: () => TokenStore): void {
  describe('records', () => {
    it('round-trips every field of an access token exactly', async () => {
      const r = record({
        scopes: ['users:read', 'users:*', 'a.b.c'],
        expiresAt: at(HOUR),
        idleTimeout: 30 * 60_000,
        maxUses: 5,
        uses: 2,
        lastUsedAt: at(-1000),
        metadata: { ip: '10.0.0.1', nested: { list: [1, 'two', null, true], empty: {} }, unicode: 'żółć 💥' },
      });
      await store().insert(r);
      expect(await store().findByHash(r.hash)).toEqual(r);
      expect(await store().findById(r.id)).toEqual(r);
    });

    it('round-trips a URL token and keeps absent fields absent', async () => {
      const r = urlRecord('/files?id=7&tags%5B%5D=a');
      await store().insert(r);
      const got = await store().findById(r.id);
      expect(got).toEqual(r);
      for (const k of ['subject', 'expiresAt', 'idleTimeout', 'maxUses', 'lastUsedAt', 'metadata'] as const) expect(got).not.toHaveProperty(k);
      expect(got!.createdAt).toBeInstanceOf(Date);
    });

    it('round-trips SQL-, Lua- and JSON-significant characters unchanged', async () => {
      const nasty = `O'Brien "x"; DROP TABLE tokens; -- \\ $1 %s {} [] \n\t 💥 ${'x'.repeat(300)}`;
      const r = record({
        subject: `${randomSubject()}'";--`,
        name: nasty,
        scopes: ["it's:read", 'a"b', 'back\\slash', 'semi;colon'],
        metadata: { [nasty]: nasty, 'dotted.key': 1, $dollar: 'x' },
      });
      await store().insert(r);
      expect(await store().findByHash(r.hash)).toEqual(r);
      expect((await store().list({ subject: r.subject!, limit: 10 })).items).toEqual([r]);
      const u = urlRecord(`/a'b?q=${encodeURIComponent(nasty)}`);
      await store().insert(u);
      expect(await store().findByHash(u.hash)).toEqual(u);
    });

    it('answers null for unknown hashes and ids', async () => {
      expect(await store().findByHash('0'.repeat(64))).toBeNull();
      expect(await store().findById('01ZZZZZZZZZZZZZZZZZZZZZZZZ')).toBeNull();
    });

    it('refuses a duplicate hash and a duplicate id with DuplicateTokenError', async () => {
      const r = record();
      await store().insert(r);
      const sameHash = record({ hash: r.hash });
      const sameId = record({ id: r.id });
      for (const dup of [sameHash, sameId]) {
        const err = await store().insert(dup).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(DuplicateTokenError);
        expect(err).toBeInstanceOf(TokenAccessError);
        expect((err as TokenAccessError).code).toBe('duplicate');
      }
      expect(await store().findById(sameHash.id)).toBeNull();
      expect(await store().findByHash(sameId.hash)).toBeNull();
      expect(await store().findById(r.id)).toEqual(r);
    });

    it('returns copies: changing a returned record changes nothing stored', async () => {
      const r = record({ scopes: ['a'], metadata: { k: 'v' } });
      await store().insert(r);
      const got = (await store().findByHash(r.hash))!;
      got.scopes.push('b');
      got.name = 'changed';
      got.createdAt.setTime(0);
      expect(await store().findByHash(r.hash)).toEqual(r);
    });
  });

  describe('list', () => {
    it('lists a subject in creation order, paginated by cursor, without gaps or repeats', async () => {
      const subject = randomSubject();
      const made = [];
      for (let i = 0; i < 7; i++) {
        const r = record({ subject, name: `t${i}`, ...(i % 3 === 0 ? { kind: 'url' as const, url: urlRecord().url } : {}) });
        await store().insert(r);
        made.push(r);
      }
      await store().insert(record()); // another subject
      const seen = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store().list({ subject, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items);
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(made);
    });

    it('filters by kind, with and without a subject', async () => {
      const subject = randomSubject();
      const a = record({ subject });
      const u = urlRecord('/x', { subject });
      await store().insert(a);
      await store().insert(u);
      expect((await store().list({ subject, kind: 'access', limit: 10 })).items).toEqual([a]);
      expect((await store().list({ subject, kind: 'url', limit: 10 })).items).toEqual([u]);
      const urls = await collect(store(), { kind: 'url' });
      expect(urls.map((t) => t.id)).toContain(u.id);
      expect(urls.every((t) => t.kind === 'url')).toBe(true);
    });

    it('lists everything without a filter, in creation order', async () => {
      const made = [record(), urlRecord(), record()];
      for (const r of made) await store().insert(r);
      const ids = (await collect(store(), {})).map((t) => t.id);
      const ours = ids.filter((id) => made.some((m) => m.id === id));
      expect(ours).toEqual(made.map((m) => m.id));
      expect([...ids].sort()).toEqual(ids);
    });

    it('answers an empty page for a subject with no tokens', async () => {
      expect(await store().list({ subject: randomSubject(), limit: 10 })).toEqual({ items: [] });
    });

    it('keeps paginating when the record under the cursor is deleted', async () => {
      const subject = randomSubject();
      const made = [record({ subject }), record({ subject }), record({ subject }), record({ subject })];
      for (const r of made) await store().insert(r);
      const first = await store().list({ subject, limit: 2 });
      expect(first.items).toEqual(made.slice(0, 2));
      await store().deleteById(made[1]!.id);
      const second = await store().list({ subject, limit: 2, cursor: first.cursor! });
      expect(second.items).toEqual(made.slice(2));
    });
  });

  describe('delete', () => {
    it('deletes by id and by hash, returning the record once', async () => {
      const a = record();
      const b = record();
      await store().insert(a);
      await store().insert(b);
      expect(await store().deleteById(a.id)).toEqual(a);
      expect(await store().deleteById(a.id)).toBeNull();
      expect(await store().findByHash(a.hash)).toBeNull();
      expect(await store().deleteByHash(b.hash)).toEqual(b);
      expect(await store().deleteByHash(b.hash)).toBeNull();
      expect(await store().findById(b.id)).toBeNull();
      expect((await store().list({ subject: a.subject!, limit: 10 })).items).toEqual([]);
    });

    it('deletes every token of a subject and nothing else', async () => {
      const subject = randomSubject();
      const mine = [record({ subject }), record({ subject }), urlRecord('/y', { subject })];
      const other = record();
      for (const r of [...mine, other]) await store().insert(r);
      expect(await store().deleteBySubject(subject)).toBe(3);
      for (const r of mine) expect(await store().findByHash(r.hash)).toBeNull();
      expect((await store().list({ subject, limit: 10 })).items).toEqual([]);
      expect(await store().findById(other.id)).toEqual(other);
      expect(await store().deleteBySubject(subject)).toBe(0);
    });
  });
}

/** Every page of a list query. */
export async function collect(store: TokenStore, query: { subject?: string; kind?: 'access' | 'url' }) {
  const out = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}
