import { createTokenAccess } from '@tokenaccess/core';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { script } from '../src/client';
import { CONSUME } from '../src/lua';
import { useCluster } from './cluster';
import { dropPrefix, isolatedStores, randomPrefix } from './servers';

// A real 3-master Redis Cluster, started from the installed redis-server for this file.
const env = useCluster(3);

storeTestSuite({ name: 'redis cluster (3 masters)', ...isolatedStores(() => env.client) });

describe('redis cluster specifics', () => {
  it('spreads token keys over every master, and lists and revokes across them', async () => {
    const keyPrefix = randomPrefix();
    const tokens = createTokenAccess({ store: redisStore({ client: env.client, keyPrefix }) });
    const issued = await Promise.all(Array.from({ length: 30 }, (_, i) => tokens.issue({ subject: 'user-x', name: `t${i}` })));
    const perNode = await Promise.all(env.client.nodes('master').map(async (n) => (await n.keys(`${keyPrefix}t:*`)).length));
    expect(perNode.every((n) => n > 0)).toBe(true);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);
    const listed = (await tokens.list({ subject: 'user-x', limit: 100 })).items.map((t) => t.id);
    expect(listed).toEqual(issued.map((t) => t.info.id).sort());
    expect(await tokens.revokeAll('user-x')).toBe(30);
    for (const { token } of issued.slice(0, 3)) expect((await tokens.verify(token)).ok).toBe(false);
    await dropPrefix(env.client, keyPrefix);
  });

  it('splits index leaves on the masters that hold their buckets: lists, sweeps and revokes 600 tokens in 3 buckets', async () => {
    const keyPrefix = randomPrefix();
    const store = redisStore({ client: env.client, keyPrefix, buckets: 3 });
    const tokens = createTokenAccess({ store });
    const issued = [];
    for (let i = 0; i < 600; i += 100) issued.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => tokens.issue({ subject: `u${(i + j) % 7}`, name: 't', expiresIn: (i + j) % 2 ? '1h' : '90d' })))));
    const leaves = (await Promise.all(env.client.nodes('master').map((n) => n.keys(`${keyPrefix}{ix:*}:*`)))).flat().filter((k) => !k.endsWith(':n'));
    expect(leaves.length).toBeGreaterThanOrEqual(6); // 200 per bucket: at least 2 leaves each
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tokens.list({ limit: 77, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(issued.map((t) => t.info.id).sort());
    expect(await store.sweep(new Date(Date.now() + 2 * 3_600_000))).toBe(300);
    for (let s = 0; s < 7; s++) await tokens.revokeAll(`u${s}`);
    expect((await Promise.all(env.client.nodes('master').map((n) => n.keys(`${keyPrefix}*`)))).flat()).toEqual([]);
  });

  it('reloads its scripts (NOSCRIPT) after SCRIPT FLUSH on every master', async () => {
    const keyPrefix = randomPrefix();
    const tokens = createTokenAccess({ store: redisStore({ client: env.client, keyPrefix }) });
    const masters = env.client.nodes('master');
    const consumeSha = script(CONSUME).sha;
    const loaded = async () => (await Promise.all(masters.map((n) => n.script('EXISTS', consumeSha) as Promise<number[]>))).flat();
    // counted tokens until every master holds at least one (the slot is set by the random hash)
    const limited: Awaited<ReturnType<typeof tokens.issue>>[] = [];
    const onMaster = async () => Promise.all(masters.map(async (n) => (await n.keys(`${keyPrefix}t:*`)).length));
    while (limited.length < 60 && (await onMaster()).some((k) => k === 0)) limited.push(await tokens.issue({ subject: 's', name: `l${limited.length}`, maxUses: 2 }));
    expect((await onMaster()).every((k) => k > 0)).toBe(true);

    for (const { token } of limited) expect((await tokens.verify(token)).ok).toBe(true);
    expect(await loaded()).toEqual([1, 1, 1]);
    await Promise.all(masters.map((n) => n.script('FLUSH')));
    expect(await loaded()).toEqual([0, 0, 0]);
    for (const { token } of limited) {
      const r = await tokens.verify(token);
      expect(r.ok && r.token.uses).toBe(2);
    }
    expect(await loaded()).toEqual([1, 1, 1]); // the NOSCRIPT fallback (EVAL) loaded it on every master
    for (const { token } of limited) {
      const r = await tokens.verify(token);
      expect(r.ok ? 'ok' : r.error.code).toBe('exhausted');
    }
    await dropPrefix(env.client, keyPrefix);
  });
});

describe('the Cluster example of docs/stores/redis.md', () => {
  it('runs on the test cluster', async () => {
    const keyPrefix = randomPrefix();
    const { cluster: example } = await import('./examples/quickstart');
    const r = await example(env.cluster.nodes, keyPrefix);
    expect(r.uses.map((u) => (u.ok ? 'ok' : u.error.code))).toEqual(['ok', 'ok', 'exhausted']);
    expect(r.swept).toBe(1); // the used-up token, kept until now as a tombstone
    expect((await Promise.all(env.client.nodes('master').map((n) => n.keys(`${keyPrefix}*`)))).flat()).toEqual([]);
    await dropPrefix(env.client, keyPrefix);
  });
});
