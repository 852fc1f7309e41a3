import { createTokenAccess } from '@tokenaccess/core';
import { createHash } from 'node:crypto';
import type { TokenInfo } from '@tokenaccess/core/store';
import { at, record } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateRedisLayout, redisStore } from '@tokenaccess/redis';
import { LEAF_MAX } from '../src/leaves';
import { encode } from '../src/record';
import { layout, tokenIndex } from './layout';
import { commandCalls as countCommands, randomPrefix, usePrivateRedis } from './servers';

// The layout that scales out: the token index (buckets of small leaves), the per-parent index,
// the migrations from layouts v1 and v2. A private redis-server, so CONFIG RESETSTAT and KEYS see nobody else's work.
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
  it('files tokens in every bucket, none far above its share, in leaves of at most LEAF_MAX (118) kept compact (listpack), and no v1 or v2 key', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 8 });
    const n = 3000;
    const made = Array.from({ length: n }, (_, i) => record({ subject: `u${i % 20}`, ...(i % 3 ? { expiresAt: at(HOUR) } : {}) }));
    for (let i = 0; i < n; i += 200) await Promise.all(made.slice(i, i + 200).map((r) => store.insert(r)));
    const L = layout(keyPrefix, 8);
    const filed = await tokenIndex(client, keyPrefix, 8).all();
    // every token once, with its hash and its due time (seconds; never: inf)
    expect(filed.map((f) => f.id).sort()).toEqual(made.map((r) => r.id).sort());
    const byId = new Map(made.map((r) => [r.id, r]));
    for (const f of filed) {
      const r = byId.get(f.id)!;
      expect([f.hash, f.score]).toEqual([r.hash, r.expiresAt ? String(Math.floor(r.expiresAt.getTime() / 1000)) : 'inf']);
    }
    // fnv1a of random ids: each of 8 buckets near 375; twice that would be a broken spread
    const perBucket = L.indexBuckets.map((dir) => filed.filter((f) => L.index(f.id) === dir).length);
    for (const c of perBucket) expect(c).toBeGreaterThan(150);
    for (const c of perBucket) expect(c).toBeLessThan(750);
    const leaves = (await client.keys(`${keyPrefix}{ix:*}:*`)).filter((k) => !k.endsWith(':n'));
    expect(leaves.length).toBeGreaterThanOrEqual(n / LEAF_MAX);
    for (const leaf of leaves) {
      expect(await client.zcard(leaf)).toBeLessThanOrEqual(LEAF_MAX);
      expect(await client.object('ENCODING', leaf)).toBe('listpack');
    }
    expect(await client.exists(L.v1.all, L.v1.expiry)).toBe(0);
    expect(await client.keys(`${keyPrefix}i:*`)).toEqual([]);
    expect(await client.keys(`${keyPrefix}{all*`)).toEqual([]);
    expect(await client.keys(`${keyPrefix}{exp*`)).toEqual([]);
  });

  it('files a SHA-256 hash as 32 raw bytes (a ULID id makes a 61-byte member), a peppered one with its key id, any other whole', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 1 });
    const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const hashes = [hex(1), `k1:${hex(2)}`, `rot-2024_b:${hex(3)}`, `sha1:${hex(4).slice(0, 40)}`, hex(5).toUpperCase(), `k1:${hex(6)}x`, 'x'.repeat(200), `a:b:${hex(7)}`];
    const made = hashes.map((hash) => record({ hash }));
    for (const r of made) await store.insert(r);
    for (const r of made) expect(await store.findById(r.id)).toEqual(r);
    expect((await store.list({ limit: 100 })).items).toEqual([...made].sort((a, b) => (a.id < b.id ? -1 : 1)));
    const [leaf] = (await client.keys(`${keyPrefix}{ix:0}:*`)).filter((k) => !k.endsWith(':n'));
    const members = await client.zrangeBuffer(leaf!, 0, -1);
    const sizeOf = (r: TokenInfo) => members.find((m) => m.subarray(0, r.id.length + 1).equals(Buffer.from(`${r.id}\u0000`)))!.length;
    expect(made[0]!.id).toHaveLength(26);
    expect(sizeOf(made[0]!)).toBe(26 + 1 + 1 + 1 + 32);
    expect(sizeOf(made[1]!)).toBe(26 + 3 + 'k1:'.length + 32);
    expect(sizeOf(made[6]!)).toBe(26 + 3 + 200);
    for (const r of made) await store.deleteById(r.id);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
  });

  it('files ids in any order: inserted newest first (each below every leaf) and shuffled, every token is found by id, listed once, and every leaf is in its directory', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 1 });
    // ids as an import makes them: from old creation times, after newer ones
    const made = Array.from({ length: 900 }, (_, i) => record({ id: `01M${String(999_999 - i).padStart(7, '0')}${'X'.repeat(16)}` }));
    const leaves = async () => (await client.keys(`${keyPrefix}{ix:*}:*`)).filter((k) => !k.endsWith(':n')).sort();
    for (const r of made.slice(0, 600)) await store.insert(r); // descending ids
    // newest first fills leaves as oldest first does: 6 leaves of at most 118, not 10 half-full ones
    expect((await leaves()).length).toBe(Math.ceil(600 / LEAF_MAX));
    const rest = made.slice(600).sort(() => Math.random() - 0.5);
    for (let i = 0; i < rest.length; i += 20) await Promise.all(rest.slice(i, i + 20).map((r) => store.insert(r)));
    for (const r of made) expect(await store.findById(r.id)).toEqual(r);
    expect((await store.list({ limit: 1000 })).items.map((t) => t.id)).toEqual(made.map((r) => r.id).sort());
    const dir = layout(keyPrefix, 1).indexBuckets[0]!;
    const entries = await client.zrange(dir, 0, -1);
    expect(entries.map((e) => `${dir}:${e.slice(e.indexOf('\u0000') + 1)}`).sort()).toEqual(await leaves());
    for (const e of entries) expect(e).toMatch(/^01M\d{7}X{16}\u0000\d+$/);
    for (const r of made) await store.deleteById(r.id);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
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
    const left = await tokenIndex(client, keyPrefix, 8).all();
    expect(left.map((f) => f.id).sort()).toEqual(later.map((r) => r.id).sort());
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
    // one bucket, and a token that stays, so neither revoke empties a leaf (that costs 3 commands more)
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix, buckets: 1 }) });
    await tokens.issue({ subject: 'u-stays', name: 't' });
    const revokeCost = async () => {
      const { info } = await tokens.issue({ subject: 'u-cost', name: 't', expiresIn: '1h' });
      await client.config('RESETSTAT');
      expect((await tokens.revokeById(info.id))?.id).toBe(info.id);
      return commandCalls();
    };
    await revokeCost(); // loads the scripts
    const small = await revokeCost();
    for (let i = 0; i < 6; i++) await Promise.all(Array.from({ length: 100 }, (_, j) => tokens.issue({ subject: `pop${j % 10}`, name: 'noise', expiresIn: '1h' })));
    const large = await revokeCost();
    expect(large).toEqual(small);
    // EVALSHA index get (+ ZREVRANGEBYLEX, ZRANGE of the leaf), EVALSHA delete (+ its GET, DEL),
    // EVALSHA index compare-and-delete (+ ZREVRANGEBYLEX, ZRANGE, ZREM, EXISTS), ZREM (subject),
    // ZRANGEBYLEX (children): 14
    expect(total(large)).toBeLessThanOrEqual(14);
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
    expect(progress[progress.length - 1]).toBe(32);
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
    // an id stays where fnv1a mod 16 = fnv1a mod 4: a quarter of them
    const L = layout(keyPrefix, 16);
    expect(moved.rebucketed).toBe(made.filter((r) => L.index(r.id) !== layout(keyPrefix, 4).index(r.id)).length);
    expect(moved.rebucketed).toBeGreaterThan(25);
    const index = tokenIndex(client, keyPrefix, 16);
    for (const dir of L.indexBuckets) for (const f of (await index.range(dir, undefined, 1000, 'test')).entries) expect(L.index(f.id)).toBe(dir);
    const store = redisStore({ client, keyPrefix, buckets: 16 });
    expect((await store.list({ limit: 100 })).items.map((t) => t.id)).toEqual(made.map((r) => r.id).sort());
    expect(await store.sweep(at(2 * HOUR))).toBe(60);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
  });
});

describe('migrating from layout v2', () => {
  /** Writes a token the way layout v2 did: a field in the id map, an `all` and an `exp` bucket. */
  async function insertV2(r: TokenInfo, buckets: number) {
    const L = layout(keyPrefix, buckets);
    const member = `${r.id}\u0000${r.kind === 'url' ? 'u' : 'a'}`;
    await client.zadd(L.v2.all(r.id), 0, member);
    if (r.subject !== undefined) await client.zadd(L.subject(r.subject), 0, member);
    if (r.parentId !== undefined) await client.zadd(L.parent(r.parentId), 0, member);
    const tail = r.parentId !== undefined ? `\u0000${r.subject ?? ''}\u0000${r.parentId}` : r.subject === undefined ? '' : `\u0000${r.subject}`;
    if (r.expiresAt !== undefined) await client.zadd(L.v2.expiry(r.id), r.expiresAt.getTime(), `${member}${tail}`);
    await client.set(L.token(r.hash), encode(r));
    await client.hset(L.v2.idMap(r.id), r.id, L.final(r.hash));
  }

  it('serves v2 data before the migration (id lookups fall back to the id map), then moves it all, with the number of buckets changed', async () => {
    const subject = 'u-v2';
    const parent = record({ subject });
    const child = record({ subject, parentId: parent.id, expiresAt: at(HOUR) });
    const plain = Array.from({ length: 300 }, (_, i) => record({ subject, ...(i % 2 ? { expiresAt: at(HOUR) } : {}) }));
    for (const r of [parent, child, ...plain]) await insertV2(r, 4);
    // an insert that crashed under v2: a claim in the id map and an `all` entry, no token
    const crashed = record();
    await client.zadd(layout(keyPrefix, 4).v2.all(crashed.id), 0, `${crashed.id}\u0000a`);
    await client.hset(layout(keyPrefix, 4).v2.idMap(crashed.id), crashed.id, layout(keyPrefix).pending(crashed.hash, Date.now() - 60_000));

    const store = redisStore({ client, keyPrefix, buckets: 8 });
    expect(await store.findById(child.id)).toEqual(child);
    expect((await store.list({ subject, limit: 1000 })).items.length).toBe(302);
    await expect(store.insert({ ...record(), id: plain[0]!.id })).rejects.toMatchObject({ code: 'duplicate' });
    // a revoke before the migration: found through the id map, and its v2 field goes with it
    expect((await store.deleteById(plain[299]!.id))?.id).toBe(plain[299]!.id);
    expect(await client.hget(layout(keyPrefix).v2.idMap(plain[299]!.id), plain[299]!.id)).toBeNull();

    const moved = await migrateRedisLayout({ client, keyPrefix, buckets: 8, fromBuckets: 4 });
    expect(moved).toEqual({ tokens: 301, expiring: 150, children: 0, rebucketed: 0 });
    expect(await client.keys(`${keyPrefix}i:*`)).toEqual([]);
    expect(await client.keys(`${keyPrefix}{all*`)).toEqual([]);
    expect(await client.keys(`${keyPrefix}{exp*`)).toEqual([]);

    const after = redisStore({ client, keyPrefix, buckets: 8 });
    const live = [parent, child, ...plain.slice(0, 299)];
    expect((await after.list({ limit: 1000 })).items.map((t) => t.id)).toEqual(live.map((r) => r.id).sort());
    expect((await after.list({ parentId: parent.id, limit: 10 })).items).toEqual([child]);
    expect(await after.findById(crashed.id)).toBeNull();
    await after.insert({ ...record(), id: crashed.id }); // the crashed insert's id is free
    expect(await after.sweep(at(2 * HOUR))).toBe(150);
    expect(await migrateRedisLayout({ client, keyPrefix, buckets: 8 })).toEqual({ tokens: 0, expiring: 0, children: 0, rebucketed: 0 });
  });
});

describe('options', () => {
  it('refuses a bucket count or sweep concurrency out of range', () => {
    expect(() => redisStore({ client, buckets: 0 })).toThrow(/buckets/);
    expect(() => redisStore({ client, buckets: 2.5 })).toThrow(/buckets/);
    expect(() => redisStore({ client, sweepConcurrency: 0 })).toThrow(/sweepConcurrency/);
  });
});
