/**
 * Rate limits in Redis's own terms (the semantics are the conformance suite's): how `rateLimit`
 * and `rateCount` are stored, that records written before them read and count unchanged, and
 * which commands a verify costs (a full window: one GET, no script, no write).
 */
import { createTokenAccess } from '@tokenaccess/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { record } from '@tokenaccess/test-suite';
import { commandCalls as countCommands, randomPrefix, usePrivateRedis } from './servers';

// A private redis-server, so CONFIG RESETSTAT touches nobody else.
let client: Redis;
usePrivateRedis((c) => void (client = c));

const commandCalls = () => countCommands(client);

const HOUR = 3_600_000;
const plain = { lastUsedResolution: 60_000 };
let keyPrefix: string;
let now: number;
const tokenKey = (hash: string) => `${keyPrefix}t:{${hash}}`;
beforeEach(() => {
  keyPrefix = randomPrefix();
  now = Date.now();
});

describe('encoding', () => {
  it('stores the limit as "q"/"w" in the JSON and the count as a third leading field; a record with neither stores not one byte more', async () => {
    const store = redisStore({ client, keyPrefix });
    const r = record({ createdAt: new Date(now), maxUses: 9 });
    await store.insert(r);
    const before = (await client.get(tokenKey(r.hash)))!;
    expect(before).toMatch(/^0\|\|\{/);
    expect(before).not.toMatch(/"(q|w)":/);

    await store.update!(r.id, { rateLimit: { limit: 5, window: HOUR } });
    const limited = (await client.get(tokenKey(r.hash)))!;
    expect(limited).toMatch(/^0\|\|\{.*"q":5,"w":3600000/);
    expect((await store.consume(r.hash, new Date(now + 10), plain)).ok).toBe(true);
    expect((await store.consume(r.hash, new Date(now + 20), plain)).ok).toBe(true);
    const counted = (await client.get(tokenKey(r.hash)))!;
    // the script rewrote the leading fields only: the JSON is byte for byte what update wrote
    expect(counted).toBe(`2|${now + 20}|2|${limited.slice('0||'.length)}`);

    // removing the limit keeps the count as it is; the JSON is as before the limit
    expect(await store.update!(r.id, { rateLimit: null })).toMatchObject({ rateCount: 2, uses: 2 });
    expect(await client.get(tokenKey(r.hash))).toBe(`2|${now + 20}|2|${before.slice('0||'.length)}`);
    // and a verify of the now unlimited token keeps it too
    expect(await store.consume(r.hash, new Date(now + 30), plain)).toMatchObject({ ok: true, record: { uses: 3, rateCount: 2 } });
  });

  it('reads a record written before rate limits existed, and counts it once update gives it a limit', async () => {
    const store = redisStore({ client, keyPrefix });
    const r = record({ createdAt: new Date(now - 1000), lastUsedAt: new Date(now - 500), uses: 4, metadata: { big: 2 ** 60 + 1 } });
    await store.insert(r); // the id map and indexes
    // the token key as the earlier versions wrote it, `<uses>|<lastUsedAt>|<json>`, by hand
    const json = JSON.stringify({ id: r.id, k: 'a', sub: r.subject, n: r.name, s: r.scopes, c: now - 1000, md: r.metadata, h: r.hint });
    await client.set(tokenKey(r.hash), `4|${now - 500}|${json}`);
    expect(await store.findById(r.id)).toEqual(r);
    expect(await store.consume(r.hash, new Date(now), { lastUsedResolution: HOUR })).toEqual({ ok: true, record: r });

    const limited = await store.update!(r.id, { rateLimit: { limit: 1, window: HOUR } });
    expect(limited).toEqual({ ...r, rateLimit: { limit: 1, window: HOUR } });
    expect(await store.consume(r.hash, new Date(now + 1), plain)).toMatchObject({ ok: true, record: { rateCount: 1, uses: 4, lastUsedAt: new Date(now + 1) } });
    expect(await store.consume(r.hash, new Date(now + 2), plain)).toMatchObject({ ok: false, reason: 'rate_limited' });
    const value = (await client.get(tokenKey(r.hash)))!;
    expect(value.startsWith(`4|${now + 1}|1|{`)).toBe(true);
    expect(value).toContain(`"md":{"big":${2 ** 60 + 1}}`); // the metadata number as written: the script never re-encodes the JSON
  });

  it('a full window is refused from the one GET (no script, no write), and by the script alone with readFirst: false', async () => {
    for (const readFirst of [true, false]) {
      const store = redisStore({ client, keyPrefix, readFirst });
      const r = record({ createdAt: new Date(now - 10), rateLimit: { limit: 3, window: HOUR }, rateCount: 3, lastUsedAt: new Date(now - 5) });
      await store.insert(r);
      const value = await client.get(tokenKey(r.hash));
      await client.config('RESETSTAT');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.consume(r.hash, new Date(now), plain)));
      expect(results.every((x) => !x.ok && x.reason === 'rate_limited' && x.record?.rateCount === 3)).toBe(true);
      const calls = await commandCalls();
      // read first: the 50 reads of one turn are one MGET, and no script runs
      expect([calls.mget, calls.evalsha]).toEqual(readFirst ? [1, undefined] : [undefined, 50]);
      expect(calls.set).toBeUndefined();
      expect(await client.get(tokenKey(r.hash))).toBe(value);
    }
  });

  it('a counted verification of a rate-limited token is one EVALSHA (one SET) once the store has seen it is counted; an unlimited token beside it still writes nothing', async () => {
    let t = now;
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), clock: () => t });
    const limited = await tokens.issue({ subject: 'u', name: 'limited', rateLimit: { limit: 1000, window: '1h' } });
    const free = await tokens.issue({ subject: 'u', name: 'free' });
    expect((await tokens.verify(free.token)).ok).toBe(true); // touches lastUsedAt once
    t += 1000;
    await client.config('RESETSTAT');
    for (let i = 0; i < 20; i++) {
      expect((await tokens.verify(limited.token)).ok).toBe(true);
      expect((await tokens.verify(free.token)).ok).toBe(true);
    }
    const calls = await commandCalls();
    // the unlimited token's 20 GETs, the limited token's first read-first GET (after it the store
    // knows the token is counted and sends it straight to the script), and the scripts' own 20
    expect([calls.get, calls.evalsha, calls.set]).toEqual([41, 20, 20]);
    expect((await tokens.get(limited.info.id))?.rateCount).toBe(20);
  });
});
