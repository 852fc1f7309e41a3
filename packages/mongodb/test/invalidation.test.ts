/**
 * The verify cache's MongoDB feed (a change stream on the tokens collection).
 *
 * What runs where: change streams need a replica set (or a sharded cluster). The stand-in
 * (tooling/mongo-standin) has no oplog and answers `aggregate` with CommandNotFound, and a
 * standalone mongod refuses `$changeStream`; on both, these tests show the feed reporting
 * `down` with the server's reason, and the cache then keeping entries only `downTtl`. Delivery
 * itself (a revoke in one service refused by another) runs when TOKENACCESS_MONGODB_URL names a
 * replica set; elsewhere that test is skipped, saying so.
 */
import { createTokenAccess } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mongoInvalidation } from '../src/invalidation';
import { backend, randomName, useClient } from './helpers';

const { db } = useClient();
const collections: string[] = [];
afterAll(async () => {
  for (const c of collections) await db.collection(c).drop().catch(() => {});
});

async function fresh() {
  const collection = randomName();
  collections.push(collection);
  const store = mongoStore({ db, collection });
  await store.ensureIndexes();
  return { collection, store };
}

/** Whether this backend runs change streams: a feed comes up within a few seconds. */
async function changeStreamsRun(collection: string): Promise<{ up: boolean; error: unknown }> {
  const feed = mongoInvalidation({ db, collection, backoff: { min: 100, max: 200 } });
  feed.subscribe(() => {}, () => {});
  try {
    await vi.waitFor(() => expect(feed.state === 'up' || feed.error !== undefined).toBe(true), { timeout: 10_000 });
    return { up: feed.state === 'up', error: feed.error };
  } finally {
    await feed.close();
  }
}

describe(`mongoInvalidation on ${backend.kind}`, () => {
  it('without change streams it reports down, with the server\'s reason', async () => {
    const { collection } = await fresh();
    const probe = await changeStreamsRun(collection);
    if (probe.up) return; // a replica set: the delivery test below is the one that applies
    expect(String((probe.error as Error)?.message ?? probe.error)).toMatch(/aggregate|changeStream|replica set/i);
  });

  it('with the feed down, the cache keeps a record only downTtl: a revoke it never hears of is refused after that', async () => {
    const { collection, store } = await fresh();
    if ((await changeStreamsRun(collection)).up) return; // covered by the delivery test
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => t;
    const feed = mongoInvalidation({ db, collection, backoff: { min: 100, max: 200 } });
    let reads = 0;
    const counted = Object.assign(Object.create(store) as typeof store, { consume: (...a: Parameters<typeof store.consume>) => (reads++, store.consume(...a)) });
    const cached = createTokenAccess({ store: counted, clock, cache: { ttl: '1h', downTtl: '2s', invalidation: feed } });
    const other = createTokenAccess({ store, clock });
    try {
      const { token, info } = await other.issue({ subject: 'u', name: 'n' });
      expect((await cached.verify(token)).ok).toBe(true);
      t += 1000;
      expect((await cached.verify(token)).ok).toBe(true);
      expect(reads).toBe(1); // served from the cache
      await other.revokeById(info.id);
      expect(feed.state).toBe('down');
      t += 1000;
      expect(await cached.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      await feed.close();
    }
  });

  it('on a replica set: a revoke, disable or update in one service is refused by another', async (ctx) => {
    const { collection, store } = await fresh();
    const probe = await changeStreamsRun(collection);
    if (!probe.up) ctx.skip(`no change streams on ${backend.kind}: ${String((probe.error as Error)?.message ?? probe.error)}`);
    const f1 = mongoInvalidation({ db, collection });
    const f2 = mongoInvalidation({ db, collection });
    const one = createTokenAccess({ store, cache: { ttl: '1h', invalidation: f1 } });
    const two = createTokenAccess({ store, cache: { ttl: '1h', invalidation: f2 } });
    try {
      await vi.waitFor(() => expect([f1.state, f2.state]).toEqual(['up', 'up']), { timeout: 10_000 });
      for (const op of ['revokeById', 'disable', 'update'] as const) {
        const { token, info } = await one.issue({ subject: 'u', name: op });
        await vi.waitFor(async () => expect((await two.verify(token)).ok).toBe(true), { timeout: 10_000 });
        if (op === 'revokeById') await one.revokeById(info.id);
        else if (op === 'disable') await one.disable(info.id);
        else await one.update(info.id, { expiresIn: 1 });
        await vi.waitFor(async () => expect((await two.verify(token)).ok).toBe(false), { timeout: 10_000 });
      }
    } finally {
      await f1.close();
      await f2.close();
    }
  }, 60_000);
});
