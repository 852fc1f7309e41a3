import type { TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { at, plain, randomSubject, record, urlRecord } from './fixtures';
import { collect } from './basic';

/** Concurrency: what must hold when many calls race on one token. */
export function atomicTests(store: () => TokenStore, reader: () => TokenStore, concurrency: number): void {
  describe('concurrency', () => {
    it(`${concurrency} parallel consumes of a maxUses 10 token: exactly 10 succeed`, async () => {
      const r = record({ maxUses: 10 });
      await store().insert(r);
      const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => store().consume(r.hash, at(i), plain())));
      const ok = results.filter((x) => x.ok);
      expect(ok).toHaveLength(10);
      expect(ok.map((x) => x.ok && x.record.uses).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(results.filter((x) => !x.ok).map((x) => !x.ok && x.reason)).toEqual(Array(concurrency - 10).fill('exhausted'));
      expect((await reader().findByHash(r.hash))?.uses).toBe(10);
    });

    it('parallel consumes of a one-time URL token: one succeeds, every other one is exhausted', async () => {
      const r = urlRecord('/once', { maxUses: 1 });
      await store().insert(r);
      const results = await Promise.all(Array.from({ length: concurrency }, () => store().consume(r.hash, at(), plain({ url: { canonical: '/once', method: 'GET' } }))));
      expect(results.filter((x) => x.ok)).toHaveLength(1);
      expect(results.filter((x) => !x.ok).map((x) => !x.ok && x.reason)).toEqual(Array(concurrency - 1).fill('exhausted'));
      expect((await reader().findByHash(r.hash))?.uses).toBe(1);
    });

    it('parallel consumes with the wrong URL spend nothing: the one with the right URL still gets the use', async () => {
      // maxUses 2 and one right request: the token is never used up here, so each wrong one is
      // url_mismatch whatever the interleaving
      const r = urlRecord('/once', { maxUses: 2 });
      await store().insert(r);
      const right = Math.floor(concurrency / 2);
      const results = await Promise.all(
        Array.from({ length: concurrency }, (_, i) => store().consume(r.hash, at(), plain({ url: { canonical: i === right ? '/once' : '/other', method: 'GET' } }))),
      );
      expect(results[right]).toMatchObject({ ok: true, record: { uses: 1 } });
      expect(results.filter((_, i) => i !== right).map((x) => !x.ok && x.reason)).toEqual(Array(concurrency - 1).fill('url_mismatch'));
      expect((await reader().findByHash(r.hash))?.uses).toBe(1);
    });

    it('parallel consumes of an unlimited token all succeed', async () => {
      const r = record();
      await store().insert(r);
      const results = await Promise.all(Array.from({ length: 50 }, () => store().consume(r.hash, at(), plain({ lastUsedResolution: 0 }))));
      expect(results.every((x) => x.ok)).toBe(true);
    });

    it('parallel inserts of one hash: exactly one wins', async () => {
      const first = record();
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => store().insert(record({ hash: first.hash }))));
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      for (const x of results) if (x.status === 'rejected') expect((x.reason as { code?: string }).code).toBe('duplicate');
    });

    it('parallel deletes of one id: exactly one returns the record', async () => {
      const r = record();
      await store().insert(r);
      const results = await Promise.all(Array.from({ length: 20 }, () => store().deleteById(r.id)));
      expect(results.filter((x) => x !== null)).toEqual([r]);
    });

    it('parallel issue and revokeAll of a subject leave nothing, counting each token once', async () => {
      const subject = randomSubject();
      const made = Array.from({ length: 60 }, () => record({ subject }));
      const counts: number[] = [];
      await Promise.all([
        ...made.slice(0, 30).map((r) => store().insert(r)),
        store().deleteBySubject(subject).then((n) => counts.push(n)),
        ...made.slice(30).map((r) => store().insert(r)),
        store().deleteBySubject(subject).then((n) => counts.push(n)),
      ]);
      counts.push(await store().deleteBySubject(subject));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(made.length);
      for (const r of made) expect(await store().findByHash(r.hash)).toBeNull();
      expect(await collect(store(), { subject })).toEqual([]);
    });
  });
}
