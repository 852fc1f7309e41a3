import { createTokenAccess } from '@tokenaccess/core';
import type { TokenInfo } from '@tokenaccess/core/store';
import { at, record } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateRedisLayout, redisStore } from '@tokenaccess/redis';
import { encode } from '../src/record';
import { layout } from './layout';
import { commandCalls as countCommands, randomPrefix, usePrivateRedis } from './servers';

// The layout that scales out: bucketed global indexes, the per-parent index, the migration from
// layout v1. A private redis-server, so CONFIG RESETSTAT and KEYS see nobody else's work.
let client: Redis;
usePrivateRedis((c) => void (client = c));

let keyPrefix: string;
beforeEach(() => {
  keyPrefix = randomPrefix();
});

const commandCalls = () => countCommands(client);
const total = (calls: Record<string, number>) => Object.entries(calls).reduce((n, [name, c]) => n + (name === 'info' || name === 'config|resetstat' ? 0 : c), 0);

const HOUR = 3_600_000;

describe('no global key', () => {
  it('files tokens in every bucket, none far above its share, and keeps no v1 {all} / {exp} key', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 8 });
    const n = 800;
    await Promise.all(Array.from({ length: n }, (_, i) => store.insert(record({ subject: `u${i % 20}`, expiresAt: at(HOUR) }))));
    const L = layout(keyPrefix, 8);
    const all = await Promise.all(L.allBuckets.map((k) => client.zcard(k)));
    const exp = await Promise.all(L.expiryBuckets.map((k) => client.zcard(k)));
    expect(all.reduce((a, b) => a + b, 0)).toBe(n);
    expect(exp.reduce((a, b) => a + b, 0)).toBe(n);
    // fnv1a of random ids: each of 8 buckets near 100; 200 would be a broken spread
    for (const c of [...all, ...exp]) expect(c).toBeGreaterThan(40);
    for (const c of [...all, ...exp]) expect(c).toBeLessThan(200);
    expect(await client.exists(L.v1.all, L.v1.expiry)).toBe(0);
    expect(await client.keys(`${keyPrefix}i:{*`)).toEqual([]);
  });

  it('lists every token in creation order across the buckets, page by page with cursors, and by kind', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 8 });
    const made: TokenInfo[] = [];
    for (let i = 0; i < 230; i++) made.push(record({ subject: `u${i % 7}`, ...(i % 5 === 0 ? { kind: 'url' as const, url: { url: 'https://e.x/f', canonical: '/f', methods: ['GET'] } } : {}) }));
    await Promise.all(made.map((r) => store.insert(r)));
    const ids = made.map((r) => r.id).sort();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 37, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(37);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const urls = await store.list({ kind: 'url', limit: 1000 });
    expect(urls.items.map((t) => t.id)).toEqual(made.filter((r) => r.kind === 'url').map((r) => r.id).sort());
    expect(urls.cursor).toBeUndefined();
  });

  it('sweeps every bucket: half of 400 tokens expired, with progress', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 8, sweepConcurrency: 4 });
    const soon = Array.from({ length: 200 }, () => record({ expiresAt: at(HOUR) }));
    const later = Array.from({ length: 200 }, () => record({ expiresAt: at(10 * HOUR) }));
    await Promise.all([...soon, ...later].map((r) => store.insert(r)));
    const progress: number[] = [];
    expect(await store.sweep(at(2 * HOUR), { batchSize: 30, onProgress: (n) => progress.push(n) })).toBe(200);
    expect(progress[progress.length - 1]).toBe(200);
    expect(progress.length).toBeGreaterThan(2);
    const L = layout(keyPrefix, 8);
    const left = (await Promise.all(L.expiryBuckets.map((k) => client.zcard(k)))).reduce((a, b) => a + b, 0);
    expect(left).toBe(200);
    for (const r of soon.slice(0, 20)) expect(await client.hexists(L.idMap(r.id), r.id)).toBe(0);
    for (const r of later.slice(0, 20)) expect(await store.findById(r.id)).toEqual(r);
  });
});

describe('the per-parent index', () => {
  it('list({ parentId }) is exact: the children only, in order, paged, after revokes and sweeps', async () => {
    const store = redisStore({ client, keyPrefix });
    const tokens = createTokenAccess({ store });
    const parent = await tokens.issue({ subject: 'u1', name: 'parent', scopes: ['a:*'] });
    const other = await tokens.issue({ subject: 'u1', name: 'other', scopes: ['a:*'] });
    const kids = [];
    for (let i = 0; i < 5; i++) kids.push(await tokens.derive(parent.info.id, { scopes: ['a:read'], name: `k${i}` }));
    const short = await tokens.derive(parent.info.id, { scopes: ['a:read'], name: 'short', expiresIn: 50 });
    await tokens.derive(other.info.id, { scopes: ['a:read'], name: 'cousin' });
    const grandchild = await tokens.derive(kids[0]!.info.id, { scopes: ['a:read'], name: 'g' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => tokens.issue({ subject: `x${i}`, name: 'noise' })));

    const ids = (items: TokenInfo[]) => items.map((t) => t.id);
    const expected = [...kids.map((k) => k.info.id), short.info.id];
    expect(ids((await store.list({ parentId: parent.info.id, limit: 100 })).items)).toEqual(expected);
    const first = await store.list({ parentId: parent.info.id, limit: 4 });
    expect(ids(first.items)).toEqual(expected.slice(0, 4));
    expect(ids((await store.list({ parentId: parent.info.id, limit: 4, cursor: first.cursor! })).items)).toEqual(expected.slice(4));
    expect(ids((await store.list({ parentId: kids[0]!.info.id, limit: 10 })).items)).toEqual([grandchild.info.id]);
    expect(ids((await store.list({ parentId: parent.info.id, subject: 'nobody', limit: 10 })).items)).toEqual([]);
    expect(ids((await store.list({ parentId: parent.info.id, subject: 'u1', limit: 10 })).items)).toEqual(expected);

    // a revoke of a child takes it out of its parent's index; a sweep of an expired one too
    await tokens.revokeById(kids[4]!.info.id);
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.sweep(new Date())).toBe(1);
    const L = layout(keyPrefix);
    expect(await client.zcard(L.parent(parent.info.id))).toBe(4);
    expect(ids((await store.list({ parentId: parent.info.id, limit: 100 })).items)).toEqual(expected.slice(0, 4));
    // revoking the parent revokes its descendants (core's cascade reads this index)
    await tokens.revokeById(parent.info.id);
    expect(await client.exists(L.parent(parent.info.id), L.parent(kids[0]!.info.id))).toBe(0);
    expect((await tokens.verify(grandchild.token)).ok).toBe(false);
  });

  it('a revoke of a parentless token does the same Redis work whatever the population (O(1): no scan)', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });
    const revokeCost = async () => {
      const { info } = await tokens.issue({ subject: 'u-cost', name: 't', expiresIn: '1h' });
      await client.config('RESETSTAT');
      expect((await tokens.revokeById(info.id))?.id).toBe(info.id);
      return commandCalls();
    };
    const small = await revokeCost();
    for (let i = 0; i < 6; i++) await Promise.all(Array.from({ length: 100 }, (_, j) => tokens.issue({ subject: `pop${j % 10}`, name: 'noise', expiresIn: '1h' })));
    const large = await revokeCost();
    expect(large).toEqual(small);
    // HGET (id map), EVALSHA delete (+ its GET, DEL), EVALSHA id-map compare-and-delete (+ HGET,
    // HDEL), 3 ZREM (all bucket, exp bucket, subject), 1 ZRANGEBYLEX (children): 11
    expect(total(large)).toBeLessThanOrEqual(11);
    // the children are asked of the token's own (empty) parent index: one ZRANGEBYLEX
    expect(large.zrangebylex).toBe(1);
  });
});

describe('migrating from layout v1', () => {
  /** Writes a token the way layout v1 did: `i:{id}` string, one `{all}`, one `{exp}`. */
  async function insertV1(r: TokenInfo) {
    const L = layout(keyPrefix);
    const member = `${r.id}\u0000${r.kind === 'url' ? 'u' : 'a'}`;
    await client.zadd(L.v1.all, 0, member);
    if (r.subject !== undefined) await client.zadd(L.subject(r.subject), 0, member);
    if (r.expiresAt !== undefined) await client.zadd(L.v1.expiry, r.expiresAt.getTime(), r.subject === undefined ? member : `${member}\u0000${r.subject}`);
    await client.set(L.token(r.hash), encode(r));
    await client.set(L.v1.id(r.id), r.hash);
  }

  it('serves v1 data before the migration (id lookups fall back to v1 id keys), then moves it all', async () => {
    const subject = 'u-v1';
    const parent = record({ subject });
    const child = record({ subject, parentId: parent.id, expiresAt: at(HOUR) });
    const plain = Array.from({ length: 30 }, (_, i) => record({ subject, ...(i % 2 ? { expiresAt: at(HOUR) } : {}) }));
    for (const r of [parent, child, ...plain]) await insertV1(r);
    const store = redisStore({ client, keyPrefix, buckets: 4 });
    expect(await store.findById(child.id)).toEqual(child);
    expect(await store.findByHash(parent.hash)).toEqual(parent);
    expect((await store.list({ subject, limit: 100 })).items.length).toBe(32);
    // a new insert of an id v1 still holds is a duplicate
    await expect(store.insert({ ...record(), id: plain[0]!.id })).rejects.toMatchObject({ code: 'duplicate' });

    const progress: number[] = [];
    const moved = await migrateRedisLayout({ client, keyPrefix, buckets: 4, onProgress: (n) => progress.push(n) });
    expect(moved).toEqual({ tokens: 32, expiring: 16, children: 1, rebucketed: 0 });
    expect(progress[progress.length - 1]).toBe(48);
    const L = layout(keyPrefix, 4);
    expect(await client.exists(L.v1.all, L.v1.expiry)).toBe(0);
    expect(await client.keys(`${keyPrefix}i:{*`)).toEqual([]);

    const after = redisStore({ client, keyPrefix, buckets: 4 });
    expect((await after.list({ limit: 100 })).items.map((t) => t.id)).toEqual([parent, child, ...plain].map((r) => r.id).sort());
    expect((await after.list({ parentId: parent.id, limit: 10 })).items).toEqual([child]);
    expect(await after.findById(child.id)).toEqual(child);
    expect(await after.sweep(at(2 * HOUR))).toBe(16);
    expect(await client.exists(L.parent(parent.id))).toBe(0);
    // idempotent: a second run finds nothing left to move
    expect(await migrateRedisLayout({ client, keyPrefix, buckets: 4 })).toEqual({ tokens: 0, expiring: 0, children: 0, rebucketed: 0 });
  });

  it('re-files the buckets when their number changes', async () => {
    const old = redisStore({ client, keyPrefix, buckets: 4 });
    const made = Array.from({ length: 60 }, () => record({ expiresAt: at(HOUR) }));
    await Promise.all(made.map((r) => old.insert(r)));
    const moved = await migrateRedisLayout({ client, keyPrefix, buckets: 16, fromBuckets: 4 });
    expect(moved.rebucketed).toBeGreaterThan(60); // most of the 120 entries (all + exp) moved
    const store = redisStore({ client, keyPrefix, buckets: 16 });
    expect((await store.list({ limit: 100 })).items.map((t) => t.id)).toEqual(made.map((r) => r.id).sort());
    expect(await store.sweep(at(2 * HOUR))).toBe(60);
    const L = layout(keyPrefix, 16);
    expect((await Promise.all([...L.allBuckets, ...L.expiryBuckets].map((k) => client.exists(k)))).every((n) => n === 0)).toBe(true);
  });
});

describe('options', () => {
  it('refuses a bucket count or sweep concurrency out of range', () => {
    expect(() => redisStore({ client, buckets: 0 })).toThrow(/buckets/);
    expect(() => redisStore({ client, buckets: 2.5 })).toThrow(/buckets/);
    expect(() => redisStore({ client, sweepConcurrency: 0 })).toThrow(/sweepConcurrency/);
  });
});
