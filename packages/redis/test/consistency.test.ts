import type { TokenInfo, TokenStore } from '@tokenaccess/core';
import { at, plain, randomSubject, record, urlRecord } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { sec, tokenIndex } from './layout';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';

// The indexes live in other slots than the token key and are eventually consistent: these tests
// put them in the states a crash, a TTL or a race leaves behind, and check what readers do.
const client = new Redis(REDIS_URL, clientOptions);
let p: string;
let store: TokenStore;
beforeEach(() => {
  p = randomPrefix();
  store = redisStore({ client, keyPrefix: p });
});
afterEach(() => dropPrefix(client, p));
afterAll(() => client.quit());

const HOUR = 3_600_000;
const tokenKey = (hash: string) => `${p}t:{${hash}}`;
const index = () => tokenIndex(client, p);
/** Whether the token index files this id. */
const hasId = async (id: string) => (await index().entry(id)) !== null;
/** Files an unfinished claim (an insert started at `ms`) in the token index. */
const claimAt = async (r: TokenInfo, ms: number) => {
  const held = await index().add(r.id, r.kind, r.hash, String(-ms), 'test');
  if (held) await index().set(r.id, { hash: held.hash }, r.kind, r.hash, String(-ms), 'test');
};
const member = (id: string, kind = 'a') => `${id}\u0000${kind}`;
const eventually = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 50 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(await check()).toBe(true);
};

describe('index entries whose token is gone', () => {
  it('are skipped by list and findById, then pruned with their id key', async () => {
    const subject = randomSubject();
    const [a, b, c] = [record({ subject }), record({ subject }), record({ subject })];
    for (const r of [a, b, c]) await store.insert(r);
    await client.del(tokenKey(b.hash)); // as Redis's TTL or a used-up consume would
    expect((await store.list({ subject, limit: 10 })).items).toEqual([a, c]);
    expect(await store.findById(b.id)).toBeNull();
    await eventually(async () => (await client.zscore(`${p}s:{${subject}}`, member(b.id))) === null);
    await eventually(async () => !(await hasId(b.id)));
    expect(await index().score(a.id)).toBe('inf');
  });

  it('free their id for a new insert', async () => {
    const a = record();
    await store.insert(a);
    await client.del(tokenKey(a.hash));
    const again = record({ id: a.id });
    await store.insert(again);
    expect(await store.findById(a.id)).toEqual(again);
  });

  it('are cleared (and counted) by sweep when Redis expired the token; its subject entry goes at the next walk of the subject', async () => {
    const subject = randomSubject();
    const a = record({ subject, expiresAt: at(HOUR) });
    await store.insert(a);
    await client.del(tokenKey(a.hash)); // Redis's TTL came first (after expiryGrace, no sweep meanwhile)
    expect(await store.sweep(at(2 * HOUR))).toBe(1);
    // the token index does not say which subject a token had: that entry stays until the subject is walked
    expect(await client.keys(`${p}*`)).toEqual([`${p}s:{${subject}}`]);
    expect((await store.list({ subject, limit: 10 })).items).toEqual([]);
    await eventually(async () => (await client.keys(`${p}*`)).length === 0);
  });

  it('are all cleared by sweep while the dead record is kept (expiryGrace, a day by default)', async () => {
    const subject = randomSubject();
    const a = record({ subject, expiresAt: at(HOUR) });
    await store.insert(a);
    expect(await store.sweep(new Date(a.expiresAt!.getTime() + 1))).toBe(1);
    expect(await client.keys(`${p}*`)).toEqual([]);
  });
});

describe('an insert in flight or interrupted', () => {
  it('an unfinished claim with no token yet is skipped but not pruned while young', async () => {
    const subject = randomSubject();
    const a = record({ subject });
    await claimAt(a, Date.now());
    await client.zadd(`${p}s:{${subject}}`, 0, member(a.id));
    expect((await store.list({ subject, limit: 10 })).items).toEqual([]);
    expect(await store.deleteBySubject(subject)).toBe(0);
    expect(await client.zscore(`${p}s:{${subject}}`, member(a.id))).toBe('0');
    await expect(store.insert(a)).rejects.toMatchObject({ code: 'duplicate' });
  });

  it('an old unfinished claim with no token (crashed insert) is pruned, and its id reusable', async () => {
    const subject = randomSubject();
    const a = record({ subject });
    await claimAt(a, Date.now() - 60_000);
    await client.zadd(`${p}s:{${subject}}`, 0, member(a.id));
    expect(await store.deleteBySubject(subject)).toBe(0);
    expect(await client.keys(`${p}*`)).toEqual([]);
    await claimAt(a, Date.now() - 60_000);
    await store.insert(a);
    expect(await store.findById(a.id)).toEqual(a);
  });

  it('a token whose claim was never made final is found, listed and revoked all the same', async () => {
    const subject = randomSubject();
    const a = record({ subject });
    await store.insert(a);
    await claimAt(a, Date.now() - 60_000); // as if step 4 never ran
    expect(await store.findById(a.id)).toEqual(a);
    expect((await store.list({ subject, limit: 10 })).items).toEqual([a]);
    expect(await store.deleteBySubject(subject)).toBe(1);
    expect(await client.keys(`${p}*`)).toEqual([]);
  });

  it('sweep leaves a young claim alone (even when asked about a later time), makes an old one final when its token exists, and clears it when not', async () => {
    const young = record({ expiresAt: at(HOUR) });
    await claimAt(young, Date.now());
    const written = record({ expiresAt: at(HOUR) });
    await store.insert(written);
    await claimAt(written, Date.now() - 60_000); // crashed after its SET, before making the claim final
    const crashed = record({ expiresAt: at(HOUR) });
    await claimAt(crashed, Date.now() - 60_000); // crashed before its SET
    expect(await store.sweep(at(30 * 60_000))).toBe(1); // the crashed insert's entry
    expect(await index().score(young.id)).toMatch(/^-\d+$/); // still in flight
    expect(await index().score(written.id)).toBe(sec(written.expiresAt!.getTime())); // final now
    expect(await hasId(crashed.id)).toBe(false);
    expect(await store.sweep(at(30 * 60_000))).toBe(0);
  });

  it('a duplicate hash leaves no trace of the refused insert', async () => {
    const a = record();
    await store.insert(a);
    const dup = record({ hash: a.hash, subject: randomSubject(), expiresAt: at(HOUR) });
    await expect(store.insert(dup)).rejects.toMatchObject({ code: 'duplicate' });
    expect(await hasId(dup.id)).toBe(false);
    expect(await client.exists(`${p}s:{${dup.subject}}`)).toBe(0);
    expect(await index().all()).toEqual([{ id: a.id, kind: 'access', hash: a.hash, score: 'inf' }]);
  });
});

describe('sweep and idle tokens', () => {
  it('re-files an idle token whose deadline slid, and deletes it once it is really idle', async () => {
    const a = record({ idleTimeout: HOUR });
    await store.insert(a);
    expect(await index().score(a.id)).toBe(sec(a.createdAt.getTime() + HOUR));
    const used = at(50 * 60_000);
    expect((await store.consume(a.hash, used, plain())).ok).toBe(true);
    expect(await store.sweep(at(70 * 60_000))).toBe(0);
    expect(await index().score(a.id)).toBe(sec(used.getTime() + HOUR));
    expect(await store.sweep(at(3 * HOUR))).toBe(1);
    expect(await store.findByHash(a.hash)).toBeNull();
  });
});

describe('larger sets', () => {
  it('revokes a subject of 1,200 tokens across several batches', async () => {
    const subject = randomSubject();
    await Promise.all(Array.from({ length: 1200 }, () => store.insert(record({ subject }))));
    expect(await store.deleteBySubject(subject)).toBe(1200);
    expect(await client.keys(`${p}*`)).toEqual([]);
  });

  it('filters a kind out of many entries of the other kind, page by page', async () => {
    const subject = randomSubject();
    const made = [];
    for (let i = 0; i < 120; i++) {
      const r = i % 40 === 0 ? urlRecord('/x', { subject }) : record({ subject });
      made.push(r);
    }
    for (const r of made) await store.insert(r);
    const urls = made.filter((r) => r.kind === 'url');
    const first = await store.list({ subject, kind: 'url', limit: 2 });
    expect(first.items).toEqual(urls.slice(0, 2));
    const second = await store.list({ subject, kind: 'url', limit: 2, cursor: first.cursor! });
    expect(second).toEqual({ items: urls.slice(2) });
  });
});
