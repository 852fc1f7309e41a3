import type { TokenStore } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { HOUR, at, record, urlRecord } from './fixtures';

/** sweep removes exactly the expired (absolute or idle) and used-up tokens. */
export function sweepTests(store: () => TokenStore): void {
  describe('sweep', () => {
    it('removes exactly the expired and used-up tokens', async () => {
      const dead = [
        record({ expiresAt: at(HOUR) }),
        record({ idleTimeout: HOUR }),
        record({ idleTimeout: 3 * HOUR, lastUsedAt: at(-2 * HOUR) }),
        record({ maxUses: 1, uses: 1 }),
        urlRecord('/dead', { expiresAt: at(HOUR), maxUses: 1 }),
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

    it('removes nothing from a store of live tokens', async () => {
      const live = [record(), record({ expiresAt: at(HOUR) })];
      for (const r of live) await store().insert(r);
      expect(await store().sweep(at())).toBe(0);
      for (const r of live) expect(await store().findByHash(r.hash)).toEqual(r);
    });
  });
}
