import { createTokenAccess } from '@tokenaccess/core';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
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

  it('reloads its scripts (NOSCRIPT) after SCRIPT FLUSH on every master', async () => {
    const keyPrefix = randomPrefix();
    const tokens = createTokenAccess({ store: redisStore({ client: env.client, keyPrefix }) });
    const limited = await Promise.all(Array.from({ length: 6 }, (_, i) => tokens.issue({ subject: 's', name: `l${i}`, maxUses: 2 })));
    for (const { token } of limited) expect((await tokens.verify(token)).ok).toBe(true);
    await Promise.all(env.client.nodes('master').map((n) => n.script('FLUSH')));
    const exists = await Promise.all(env.client.nodes('master').map((n) => n.script('EXISTS', '0'.repeat(40))));
    expect(exists.flat()).toEqual([0, 0, 0]);
    for (const { token } of limited) {
      const r = await tokens.verify(token);
      expect(r.ok && r.token.uses).toBe(2);
    }
    for (const { token } of limited) expect((await tokens.verify(token)).ok).toBe(false);
    await dropPrefix(env.client, keyPrefix);
  });
});

describe('the Cluster example of docs/stores/redis.md', () => {
  it('runs on the test cluster', async () => {
    const keyPrefix = randomPrefix();
    const { cluster: example } = await import('./examples/quickstart');
    const r = await example(env.cluster.nodes, keyPrefix);
    expect(r.uses.map((u) => u.ok)).toEqual([true, true, false]);
    expect(r.swept).toBeGreaterThanOrEqual(0);
    await dropPrefix(env.client, keyPrefix);
  });
});
