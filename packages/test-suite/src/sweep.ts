import type { TokenStore } from '@tokenaccess/core/store';
import { describe, expect, it } from 'vitest';
import { HOUR, at, plain, record, urlRecord } from './fixtures';

/** sweep removes exactly the expired (absolute or idle) and used-up tokens, however they got so. */
export function sweepTests(store: () => TokenStore): void {
  describe('sweep', () => {
    it('removes exactly the expired and used-up tokens', async () => {
      const dead = [
        record({ expiresAt: at(HOUR) }),
        record({ idleTimeout: HOUR }),
        record({ idleTimeout: 3 * HOUR, lastUsedAt: at(-2 * HOUR) }),
        record({ maxUses: 1, uses: 1 }),
        urlRecord('/dead', { expiresAt: at(HOUR), maxUses: 1 }),
        // used up by consume below, not stored so: a store that kept a tombstone must sweep it
        record({ maxUses: 1 }),
        urlRecord('/spent', { maxUses: 2, expiresAt: at(5 * HOUR) }),
      ];
      const live = [
        record(),
        record({ expiresAt: at(5 * HOUR) }),
        record({ idleTimeout: 5 * HOUR }),
        record({ idleTimeout: 3 * HOUR, lastUsedAt: at(1000) }),
        record({ maxUses: 2, uses: 1 }),
        urlRecord('/live', { expiresAt: at(5 * HOUR), maxUses: 3, uses: 2 }),
      ];
      for (const r of [...dead, ...live]) await store().insert(r);
      expect((await store().consume(dead[5]!.hash, at(), plain())).ok).toBe(true);
      for (let i = 0; i < 2; i++) expect((await store().consume(dead[6]!.hash, at(), plain({ url: { canonical: '/spent', method: 'GET' } }))).ok).toBe(true);
      const progress: number[] = [];
      const n = await store().sweep(at(2 * HOUR), { batchSize: 2, onProgress: (d) => progress.push(d) });
      expect(n).toBe(dead.length);
      for (const r of dead) expect(await store().findByHash(r.hash)).toBeNull();
      for (const r of live) expect(await store().findByHash(r.hash)).toEqual(r);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[progress.length - 1]).toBe(dead.length);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
      expect(await store().sweep(at(2 * HOUR))).toBe(0);
    });

    it('keeps a token whose idle deadline a consume moved, and sweeps it once the new deadline passed', async () => {
      const r = record({ idleTimeout: HOUR, createdAt: at(-HOUR / 2) }); // idle deadline: in 30 min
      await store().insert(r);
      expect((await store().consume(r.hash, at(), plain({ lastUsedResolution: 0 }))).ok).toBe(true); // now in 1 h
      expect(await store().sweep(at((3 * HOUR) / 4))).toBe(0);
      expect((await store().findByHash(r.hash))?.id).toBe(r.id);
      expect(await store().sweep(at(2 * HOUR))).toBe(1);
      expect(await store().findByHash(r.hash)).toBeNull();
    });

    it('reports progress the same way on every store: an empty sweep reports 0 once; a bad batchSize is refused', async () => {
      const progress: number[] = [];
      expect(await store().sweep(at(), { onProgress: (n) => progress.push(n) })).toBe(0);
      expect(progress).toEqual([0]);
      for (const batchSize of [0, -1, 1.5, 10_001]) {
        await expect(store().sweep(at(), { batchSize }), String(batchSize)).rejects.toMatchObject({ code: 'invalid_argument' });
      }
    });

    it('removes nothing from a store of live tokens', async () => {
      const live = [record(), record({ expiresAt: at(HOUR) })];
      for (const r of live) await store().insert(r);
      expect(await store().sweep(at())).toBe(0);
      for (const r of live) expect(await store().findByHash(r.hash)).toEqual(r);
    });
  });
}
