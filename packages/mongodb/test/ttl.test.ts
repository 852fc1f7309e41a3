import { TOMBSTONE_MS } from '@tokenaccess/core/store';
import { mongoStore } from '@tokenaccess/mongodb';
import { at, plain, record } from '@tokenaccess/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, useClient } from './helpers';

/**
 * The TTL index at work, not only the value of `purgeAt`: the server's TTL monitor deletes what
 * has passed its `purgeAt`, and leaves what must keep answering (a used-up token's tombstone, a
 * refilling token). On the stand-in the monitor runs every second; on a real mongod the test
 * shortens `ttlMonitorSleepSecs` to 1 when it may (and puts it back), else waits out MongoDB's 60 s.
 */
const { client, db } = useClient();
let sleepMs = 60_000;
let restore: number | undefined;

beforeAll(async () => {
  const admin = client.db('admin');
  try {
    const was = (await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).ttlMonitorSleepSecs as number;
    await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 1 });
    restore = was;
    sleepMs = 1000;
  } catch {
    // a mongos, Atlas, or no privilege: MongoDB's default interval, 60 s
  }
});
afterAll(async () => {
  if (restore !== undefined) await client.db('admin').command({ setParameter: 1, ttlMonitorSleepSecs: restore });
});

describe('the TTL monitor and the strict refusal codes', () => {
  it('deletes a token past its purgeAt within its interval; a used-up one answers exhausted until its purgeAt, a refilling one stays', { timeout: 200_000 }, async () => {
    const store = mongoStore({ db, collection: randomName(), timeout: 10_000 });
    await store.ensureIndexes();
    try {
      const expired = record({ expiresAt: at(-1000) });
      const tombstone = record({ maxUses: 1, uses: 1, lastUsedAt: at(-5) });
      const refilling = record({ createdAt: at(-10_000), maxUses: 1, uses: 1, lastUsedAt: at(-5), refill: { every: 3_600_000 } });
      const live = record({ expiresAt: at(3_600_000) });
      for (const r of [expired, tombstone, refilling, live]) await store.insert(r);
      expect((await store.collection.findOne({ _id: tombstone.id }))?.purgeAt).toEqual(new Date(tombstone.lastUsedAt!.getTime() + TOMBSTONE_MS));
      expect(await store.collection.findOne({ _id: refilling.id })).not.toHaveProperty('purgeAt');
      expect(await store.consume(expired.hash, at(), plain())).toMatchObject({ ok: false, reason: 'expired' });

      // two monitor intervals and some slack, then it must be gone
      const deadline = Date.now() + 2 * sleepMs + 5000;
      while (Date.now() < deadline && (await store.findById(expired.id)) !== null) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await store.findById(expired.id)).toBeNull();
      expect(await store.consume(expired.hash, at(), plain())).toMatchObject({ ok: false, reason: 'not_found' });

      // the monitor has run at least once: what must stay, stayed, and still answers strictly
      expect(await store.consume(tombstone.hash, at(), plain())).toMatchObject({ ok: false, reason: 'exhausted' });
      expect(await store.consume(refilling.hash, at(), plain())).toMatchObject({ ok: false, reason: 'exhausted' });
      expect(await store.consume(refilling.hash, at(3_600_000), plain())).toMatchObject({ ok: true, record: { uses: 1 } });
      expect((await store.findById(live.id))?.id).toBe(live.id);
    } finally {
      await store.collection.drop();
    }
  });
});
