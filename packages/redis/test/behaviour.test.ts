import { createTokenAccess } from '@tokenaccess/core';
import { TOMBSTONE_MS } from '@tokenaccess/core/store';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { record, urlRecord } from '@tokenaccess/test-suite';
import { sec, tokenIndex } from './layout';
import { commandCalls as countCommands, randomPrefix, usePrivateRedis, waitFor } from './servers';

// A private redis-server, so SCRIPT FLUSH and CONFIG RESETSTAT touch nobody else.
let client: Redis;
usePrivateRedis((c) => void (client = c));

const commandCalls = () => countCommands(client);

let now = Date.UTC(2030, 0, 1);
const clock = () => now;
let keyPrefix: string;
beforeEach(() => {
  keyPrefix = randomPrefix();
  now = Date.now();
});

describe('writes', () => {
  it('a stream of verifies of an unlimited token makes no writes: plain GETs only', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), clock });
    const { token } = await tokens.issue({ subject: 'u1', name: 'n' });
    expect((await tokens.verify(token)).ok).toBe(true); // the first use touches lastUsedAt
    await client.config('RESETSTAT');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? tokens.verify(token) : tokens.verify(token, { scopes: ['x:read'] }))));
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = await commandCalls();
    // reads only: the 200 GETs of one turn go as a few MGETs (batchReads, below)
    expect((calls.get ?? 0) + (calls.mget ?? 0)).toBeGreaterThanOrEqual(1);
    for (const write of ['set', 'evalsha', 'eval', 'del', 'pexpireat', 'hset', 'zadd']) expect(calls[write]).toBeUndefined();
  });

  it('batchReads: the read-first GETs of one turn are one MGET per 256 keys; batchReads: false sends one GET each; a lone verify is one GET', async () => {
    for (const batchReads of [true, false]) {
      const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix, batchReads }), clock });
      const issued = await Promise.all(Array.from({ length: 20 }, (_, i) => tokens.issue({ subject: 'u1', name: `n${i}` })));
      for (const t of issued) expect((await tokens.verify(t.token)).ok).toBe(true); // touch lastUsedAt once
      await client.config('RESETSTAT');
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => tokens.verify(issued[i % 20]!.token)));
      // each answer is its own token's (an MGET reply is matched to its keys in order)
      expect(results.map((r) => r.ok && r.token.id)).toEqual(Array.from({ length: 300 }, (_, i) => issued[i % 20]!.info.id));
      const calls = await commandCalls();
      expect([calls.get, calls.mget]).toEqual(batchReads ? [undefined, 2] : [300, undefined]);
      await client.config('RESETSTAT');
      expect((await tokens.verify(issued[0]!.token)).ok).toBe(true);
      const one = await commandCalls();
      expect([one.get, one.mget]).toEqual([1, undefined]);
    }
  });

  it('touches lastUsedAt once per resolution, in one script', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), clock, lastUsedResolution: '60s' });
    const { token } = await tokens.issue({ subject: 'u1', name: 'n' });
    await client.config('RESETSTAT');
    for (let i = 0; i < 50; i++) {
      now += 1000; // 50 s in all: within the resolution after the first touch
      expect((await tokens.verify(token)).ok).toBe(true);
    }
    expect((await commandCalls()).evalsha).toBe(1);
    now += 61_000;
    const r = await tokens.verify(token);
    expect(r.ok && r.token.lastUsedAt?.getTime()).toBe(now);
    const calls = await commandCalls();
    expect(calls.evalsha).toBe(2);
    expect(calls.set).toBe(2); // the script's own SETs
  });

  it('with readFirst: false every verify is one EVALSHA, which still writes nothing when nothing changes', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix, readFirst: false }), clock });
    const { token } = await tokens.issue({ subject: 'u1', name: 'n' });
    expect((await tokens.verify(token)).ok).toBe(true);
    await client.config('RESETSTAT');
    await Promise.all(Array.from({ length: 100 }, () => tokens.verify(token)));
    const calls = await commandCalls();
    expect(calls.evalsha).toBe(100);
    expect(calls.get).toBe(100); // the script's own GETs
    expect(calls.set).toBeUndefined();
  });
});

describe('scripts', () => {
  it('falls back to loading the script when the server answers NOSCRIPT (after SCRIPT FLUSH)', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), clock });
    const { token } = await tokens.issue({ subject: 'u1', name: 'n', maxUses: 3 });
    expect((await tokens.verify(token)).ok).toBe(true);
    await client.script('FLUSH');
    await client.config('RESETSTAT');
    const r = await tokens.verify(token);
    expect(r.ok && r.token.uses).toBe(2);
    const calls = await commandCalls();
    expect(calls.evalsha).toBe(1); // refused with NOSCRIPT …
    expect(calls.eval).toBe(1); // … then EVAL, which loads it
    const again = await tokens.verify(token);
    expect(again.ok && again.token.uses).toBe(3);
    expect((await commandCalls()).eval).toBe(1); // cached again: EVALSHA only
  });
});

describe('expiry by Redis itself', () => {
  const tokenKey = (hash: string) => `${keyPrefix}t:{${hash}}`;

  it('sets PEXPIREAT to the absolute expiry, and to the idle deadline, sliding it on use', async () => {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix, expiryGrace: 0 }), clock });
    const abs = await tokens.issue({ subject: 'u1', name: 'abs', expiresIn: '1h' });
    expect(await client.pexpiretime(tokenKey(abs.info.hash))).toBe(abs.info.expiresAt!.getTime());
    // the token index (small sorted sets per bucket) leads to the token, filed under its deadline
    // in seconds; its entries have no TTL: sweep removes those of expired tokens, and a reader
    // that finds one dangling prunes it
    expect(await tokenIndex(client, keyPrefix).entry(abs.info.id)).toEqual({ id: abs.info.id, kind: 'access', hash: abs.info.hash, score: sec(abs.info.expiresAt!.getTime()) });

    const idle = await tokens.issue({ subject: 'u1', name: 'idle', idleTimeout: '10m', expiresIn: '1h' });
    const created = idle.info.createdAt.getTime();
    expect(await client.pexpiretime(tokenKey(idle.info.hash))).toBe(created + 600_000);
    now += 300_000;
    expect((await tokens.verify(idle.token)).ok).toBe(true);
    expect(await client.pexpiretime(tokenKey(idle.info.hash))).toBe(now + 600_000); // slid
    for (let i = 0; i < 6; i++) {
      now += 540_000; // 9 min steps keep it alive, up to 1 min before the absolute expiry
      expect((await tokens.verify(idle.token)).ok).toBe(true);
    }
    expect(await client.pexpiretime(tokenKey(idle.info.hash))).toBe(idle.info.expiresAt!.getTime());

    const forever = await tokens.issue({ subject: 'u1', name: 'forever' });
    expect(await client.pexpiretime(tokenKey(forever.info.hash))).toBe(-1);
  });

  it('lets Redis delete an expired token with no sweep', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const tokens = createTokenAccess({ store });
    const { info, token } = await tokens.issue({ subject: 'u1', name: 'short', expiresIn: 300 });
    expect(await client.exists(tokenKey(info.hash))).toBe(1);
    await waitFor(async () => (await client.exists(tokenKey(info.hash))) === 0, 10_000, 'Redis to expire the key');
    expect(await store.findById(info.id)).toBeNull();
    const r = await tokens.verify(token);
    expect(!r.ok && r.error.code).toBe('not_found');
  });

  it('keeps a used-up token as a tombstone until its deadline, or 30 days after its last use without one: exhausted, never not_found', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const tokens = createTokenAccess({ store, clock });
    const exp = (id: string) => tokenIndex(client, keyPrefix).score(id);

    // a one-time link (7 days by default): kept until it expires, as its TTL already says
    const share = await tokens.issueUrl({ url: 'https://example.com/f?id=1', subject: 'u1' });
    expect((await tokens.verifyUrl(share.url)).ok).toBe(true);
    expect(await client.pexpiretime(tokenKey(share.info.hash))).toBe(share.info.expiresAt!.getTime());
    const again = await tokens.verifyUrl(share.url);
    expect(again.ok ? 'ok' : again.error.code).toBe('exhausted');

    // no deadline: kept for TOMBSTONE_MS (30 days) after its last use, and filed in the index as
    // dead from the use that used it up, so sweep finds it
    const counted = await tokens.issue({ subject: 'u1', name: 'twice', maxUses: 2 });
    expect(await client.pexpiretime(tokenKey(counted.info.hash))).toBe(-1);
    expect(await exp(counted.info.id)).toBe('inf');
    const firstUse = now;
    expect((await tokens.verify(counted.token)).ok).toBe(true);
    expect(await client.pexpiretime(tokenKey(counted.info.hash))).toBe(-1); // not used up yet
    now += 1000; // within lastUsedResolution: lastUsedAt stays at the first use
    expect((await tokens.verify(counted.token)).ok).toBe(true);
    expect(TOMBSTONE_MS).toBe(30 * 86_400_000);
    expect(await client.pexpiretime(tokenKey(counted.info.hash))).toBe(firstUse + TOMBSTONE_MS);
    await waitFor(async () => (await exp(counted.info.id)) === '0', 5_000, 'the index entry due now');
    const refused = await tokens.verify(counted.token);
    expect(refused.ok ? 'ok' : refused.error.code).toBe('exhausted');

    // a record like any other meanwhile: inspected, listed, revoked by id, with its index entries
    expect((await tokens.inspect(counted.token))?.uses).toBe(2);
    expect((await tokens.list({ subject: 'u1' })).items.map((t) => [t.id, t.uses])).toEqual([
      [share.info.id, 1],
      [counted.info.id, 2],
    ]);
    expect((await tokens.revokeById(counted.info.id))?.uses).toBe(2);
    expect((await tokens.revokeById(share.info.id))?.uses).toBe(1);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
  });

  it('keeps a token stored already used up (an import) until 30 days after its last use', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const stored = record({ maxUses: 1, uses: 1, createdAt: new Date(now - 2 * 86_400_000), lastUsedAt: new Date(now - 86_400_000) });
    await store.insert(stored);
    expect(await client.pexpiretime(tokenKey(stored.hash))).toBe(stored.lastUsedAt!.getTime() + TOMBSTONE_MS);
    expect(await store.consume(stored.hash, new Date(), { lastUsedResolution: 0 })).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(await store.sweep(new Date())).toBe(1);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
  });

  for (const [expiryGrace, grace] of [
    [undefined, 86_400_000],
    [3_600_000, 3_600_000],
  ] as const) {
    it(`keeps a dead record for expiryGrace (${expiryGrace === undefined ? 'a day by default' : expiryGrace}), so consume says expired and sweep removes every index entry`, async () => {
      const store = redisStore({ client, keyPrefix, ...(expiryGrace === undefined ? {} : { expiryGrace }) });
      const tokens = createTokenAccess({ store });
      const { info, token } = await tokens.issue({ subject: 'u1', name: 'short', expiresIn: 50 });
      expect(await client.pexpiretime(tokenKey(info.hash))).toBe(info.expiresAt!.getTime() + grace);
      await new Promise((r) => setTimeout(r, 100));
      const r = await tokens.verify(token);
      expect(!r.ok && r.error.code).toBe('expired');
      expect(await store.sweep(new Date())).toBe(1);
      expect(await client.keys(`${keyPrefix}*`)).toEqual([]); // the subject's index too
    });
  }
});

describe('update', () => {
  const tokenKey = (hash: string) => `${keyPrefix}t:{${hash}}`;
  const exp = (r: { id: string }) => tokenIndex(client, keyPrefix).score(r.id);

  it('re-sets the TTL of the token key and the index entry\'s due time from the new record', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const r = record({ createdAt: new Date(now) });
    await store.insert(r);
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([-1, 'inf']);
    const at = now + 3_600_000;
    await store.update!(r.id, { expiresAt: new Date(at) });
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([at, sec(at)]);
    await store.update!(r.id, { idleTimeout: 60_000 }); // the idle deadline comes first now
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([now + 60_000, sec(now + 60_000)]);
    await store.update!(r.id, { expiresAt: null, idleTimeout: null });
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([-1, 'inf']);
    await store.update!(r.id, { maxUses: 0 }); // used up by the update: a tombstone, filed for the next sweep
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([now + TOMBSTONE_MS, '0']);
  });

  it('keeps every concurrent update (compare-and-set on the JSON) and the JSON as written', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const r = record({ scopes: [], maxUses: 10, metadata: { big: 12345678901234568, tiny: 1e-7 } });
    await store.insert(r);
    expect((await store.consume(r.hash, new Date(), { lastUsedResolution: 0 })).ok).toBe(true); // the script rewrites the record
    await client.config('RESETSTAT');
    const patches = [{ name: 'a' }, { idleTimeout: 600_000 }, { maxUses: 20 }, { expiresAt: new Date(now + 3_600_000) }];
    await Promise.all(patches.map((p) => store.update!(r.id, p)));
    expect((await commandCalls()).evalsha).toBeGreaterThan(patches.length); // some tried again
    expect(await redisStore({ client, keyPrefix, expiryGrace: 0 }).findById(r.id)).toEqual({ ...r, ...Object.assign({}, ...patches), uses: 1, lastUsedAt: expect.any(Date) });
  });
});

describe('lifecycle: disabledAt and refill', () => {
  const HOUR = 3_600_000;
  const tokenKey = (hash: string) => `${keyPrefix}t:{${hash}}`;
  const exp = (r: { id: string }) => tokenIndex(client, keyPrefix).score(r.id);
  const plain = { lastUsedResolution: 60_000 };

  it('a record with neither field stores not one byte more, and disable + enable leave it byte for byte as it was', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const r = record({ maxUses: 3 });
    await store.insert(r);
    const before = (await client.get(tokenKey(r.hash)))!;
    expect(before).not.toMatch(/"(d|r)":/);
    await store.update!(r.id, { disabledAt: new Date(now), refill: { every: HOUR } });
    const changed = (await client.get(tokenKey(r.hash)))!;
    expect(changed).toContain(`"d":${now}`);
    expect(changed).toContain(`"r":${HOUR}`);
    await store.update!(r.id, { disabledAt: null, refill: null });
    expect(await client.get(tokenKey(r.hash))).toBe(before);
  });

  it('a disabled token is refused from the one GET (no script, no write), and by the script alone with readFirst: false', async () => {
    for (const readFirst of [true, false]) {
      const store = redisStore({ client, keyPrefix, readFirst, expiryGrace: 0 });
      const r = record({ maxUses: 5, uses: 1, lastUsedAt: new Date(now - HOUR), disabledAt: new Date(now - 1000) });
      await store.insert(r);
      await client.config('RESETSTAT');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.consume(r.hash, new Date(now), plain)));
      expect(results.every((x) => !x.ok && x.reason === 'disabled')).toBe(true);
      const calls = await commandCalls();
      // read first: the 50 reads of one turn are one MGET, and no script runs
      expect([calls.mget, calls.evalsha]).toEqual(readFirst ? [1, undefined] : [undefined, 50]);
      expect(calls.set).toBeUndefined();
      expect(await store.findById(r.id)).toEqual(r);
    }
  });

  it('a refilling token used up for its period keeps no tombstone TTL and an index entry never due; sweep keeps it; its budget comes back', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const created = now;
    const r = record({ createdAt: new Date(created), maxUses: 2, refill: { every: HOUR } });
    await store.insert(r);
    for (const dt of [1, 2]) expect((await store.consume(r.hash, new Date(created + dt), plain)).ok).toBe(true);
    expect(await store.consume(r.hash, new Date(created + 3), plain)).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(await client.pexpiretime(tokenKey(r.hash))).toBe(-1);
    expect(await exp(r)).toBe('inf');
    expect(await store.sweep(new Date(created + HOUR - 1))).toBe(0);
    expect(await store.consume(r.hash, new Date(created + HOUR), plain)).toMatchObject({ ok: true, record: { uses: 1, lastUsedAt: new Date(created + HOUR) } });

    // with an expiry it keeps the PXAT of its deadline, used up or not
    const timed = record({ createdAt: new Date(created), maxUses: 1, refill: { every: HOUR }, expiresAt: new Date(created + 5 * HOUR) });
    await store.insert(timed);
    expect((await store.consume(timed.hash, new Date(created + 1), plain)).ok).toBe(true);
    expect(await client.pexpiretime(tokenKey(timed.hash))).toBe(created + 5 * HOUR);
    expect(await exp(timed)).toBe(sec(created + 5 * HOUR));
  });

  it('update re-files the TTL and index entry when refill comes or goes on a used-up token', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const r = record({ createdAt: new Date(now - HOUR / 2), maxUses: 1, uses: 1, lastUsedAt: new Date(now - 1000) });
    await store.insert(r);
    // used up for good: a tombstone, filed for the next sweep
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([now - 1000 + TOMBSTONE_MS, '0']);
    await store.update!(r.id, { refill: { every: HOUR } }); // its budget comes back: no tombstone
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([-1, 'inf']);
    expect(await store.sweep(new Date(now + 1000))).toBe(0);
    expect(await store.consume(r.hash, new Date(now + HOUR), plain)).toMatchObject({ ok: true, record: { uses: 1 } });
    await store.update!(r.id, { refill: null }); // used up for good again
    expect([await client.pexpiretime(tokenKey(r.hash)), await exp(r)]).toEqual([now + HOUR + TOMBSTONE_MS, '0']);
    expect(await store.sweep(new Date(now + HOUR))).toBe(1);
    expect(await client.keys(`${keyPrefix}*`)).toEqual([]);
  });

  it('a sweep that finds a refilling token used up for its period due in the index (its idle deadline moved) keeps it and re-files it', async () => {
    const store = redisStore({ client, keyPrefix, expiryGrace: 0 });
    const MIN = 60_000;
    const r = record({ createdAt: new Date(now), maxUses: 1, refill: { every: HOUR }, idleTimeout: 30 * MIN });
    await store.insert(r);
    expect(await exp(r)).toBe(sec(now + 30 * MIN));
    expect((await store.consume(r.hash, new Date(now + 20 * MIN), plain)).ok).toBe(true); // used up until now + 1 h
    expect(await store.sweep(new Date(now + 40 * MIN))).toBe(0);
    expect(await exp(r)).toBe(sec(now + 50 * MIN));
    expect(await client.pexpiretime(tokenKey(r.hash))).toBe(now + 50 * MIN);
    expect(await store.consume(r.hash, new Date(now + 45 * MIN), plain)).toMatchObject({ ok: false, reason: 'exhausted' });
  });
});

describe('kinds', () => {
  it('keeps a session token a session (record and index letter s), and list({ kind }) tells the three kinds apart', async () => {
    const store = redisStore({ client, keyPrefix });
    const subject = 'u-kinds';
    const access = record({ subject });
    const link = urlRecord('/f?id=1', { subject });
    const session = { ...urlRecord('/f', { subject }), kind: 'session' as const };
    for (const r of [access, link, session]) await store.insert(r);
    expect(await redisStore({ client, keyPrefix }).findByHash(session.hash)).toEqual(session);
    expect(await client.get(`${keyPrefix}t:{${session.hash}}`)).toContain('"k":"s"');
    for (const r of [access, link, session]) expect((await store.list({ subject, kind: r.kind, limit: 10 })).items).toEqual([r]);
  });
});

describe('options', () => {
  it('refuses a keyPrefix with hash-tag braces and a client that is not ioredis', () => {
    expect(() => redisStore({ client, keyPrefix: 'a{b}:' })).toThrow(/keyPrefix/);
    expect(() => redisStore({ client: {} as Redis })).toThrow(/ioredis/);
  });
});

describe('options', () => {
  it('timeout is a Duration, like every timeout option of tokenaccess; the default is 2 s', () => {
    const client = new Redis({ lazyConnect: true });
    expect(redisStore({ client, timeout: '1s' }).callTimeout).toBe(1000);
    expect(redisStore({ client }).callTimeout).toBe(2000);
    expect(() => redisStore({ client, timeout: 'soon' as never })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    client.disconnect();
  });
});
