/**
 * Rate limits are exact across processes: 4 real child processes (node, each with its own
 * `createTokenAccess({ store: redisStore(...) })`) verify one token with `rateLimit: { limit: 100,
 * window: '1h' }` 50 times each, all at once: exactly 100 pass in total, 100 are refused with
 * `rate_limited` (429), and the record holds `rateCount` 100. With the verify cache on in every
 * process too: the cache never serves a rate-limited token, so the count stays exact.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTokenAccess, toResponse } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Cluster, Redis } from 'ioredis';
import { startCacheWorker } from 'test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestCluster, useCluster } from './cluster';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';
import { total, verifyInProcesses } from './verify-workers';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const LIMIT = { limit: 100, window: '1h' } as const;
const HOUR = 3_600_000;

/**
 * What a second reader sees: the record through a store on its own connection, and the raw
 * stored string, whose third field is `rateCount` (`<uses>|<lastUsedAt>|<rateCount>|<json>`).
 */
async function stored(client: Redis | Cluster, keyPrefix: string, id: string, hash: string) {
  const record = await redisStore({ client, keyPrefix }).findById(id);
  const raw = await client.get(`${keyPrefix}t:{${hash}}`);
  return { record, rawCount: raw?.split('|')[2] };
}

/** The 4-process run without a cache, on a standalone Redis or a Cluster. */
async function fourProcesses(client: Redis | Cluster, reader: Redis | Cluster, clusterNodes?: TestCluster['nodes']) {
  const keyPrefix = randomPrefix();
  try {
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'limited', rateLimit: LIMIT });
    const counts = await verifyInProcesses({ token, keyPrefix, parallel: 50, status: true, ...(clusterNodes ? { clusterNodes } : {}) });
    expect(counts.map((c) => Object.values(c).reduce((a, b) => a + b, 0))).toEqual([50, 50, 50, 50]);
    expect(total(counts, 'ok')).toBe(100);
    expect(total(counts, 'rate_limited 429')).toBe(100);
    const { record, rawCount } = await stored(reader, keyPrefix, info.id, info.hash);
    expect(record).toMatchObject({ id: info.id, rateLimit: { limit: 100, window: HOUR }, rateCount: 100, uses: 0 });
    expect(rawCount).toBe('100');
  } finally {
    await dropPrefix(client, keyPrefix);
  }
}

describe('standalone Redis', () => {
  const client = new Redis(REDIS_URL, clientOptions);
  const reader = new Redis(REDIS_URL, clientOptions);
  afterAll(async () => {
    await client.quit();
    await reader.quit();
  });

  it('rate limit exact across 4 processes: 4 x 50 parallel verifies of a 100 per hour token, exactly 100 pass, 100 are 429', () => fourProcesses(client, reader), 60_000);

  it('rate limit exact across 4 processes with the verify cache on (ttl 1 h): still exactly 100, none served from the cache', async () => {
    const keyPrefix = randomPrefix();
    const channel = `tkatest:rl:${randomBytes(6).toString('hex')}`;
    const workers = await Promise.all(
      Array.from({ length: 4 }, () =>
        startCacheWorker({ file: here('./workers/invalidation-worker.ts'), tsconfig: here('./workers/tsconfig.json'), env: { REDIS_URL, KEY_PREFIX: keyPrefix, CHANNEL: channel, TTL: String(HOUR) } }),
      ),
    );
    try {
      const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });
      const { token, info } = await tokens.issue({ subject: 'u', name: 'limited', rateLimit: LIMIT });
      // one verify each first: a cache that kept the token would serve every later one (all ok)
      const first = await Promise.all(workers.map((w) => w.send<{ code: string; reads: number }>({ op: 'verify', token })));
      expect(first).toEqual(Array(4).fill({ code: 'ok', reads: 1 }));
      const counts = await Promise.all(workers.map((w) => w.send<Record<string, number>>({ op: 'burst', token, n: 49 })));
      const all = [...counts, { ok: 4 }];
      expect(total(all, 'ok')).toBe(100);
      expect(total(all, 'rate_limited')).toBe(100);
      expect(Object.keys(Object.assign({}, ...counts)).sort()).toEqual(['ok', 'rate_limited']);
      // each process still asks the store (reads 1), and is refused
      const after = await Promise.all(workers.map((w) => w.send<{ code: string; reads: number }>({ op: 'verify', token })));
      expect(after).toEqual(Array(4).fill({ code: 'rate_limited', reads: 1 }));
      const { record, rawCount } = await stored(reader, keyPrefix, info.id, info.hash);
      expect(record).toMatchObject({ rateCount: 100, uses: 0 });
      expect(rawCount).toBe('100');
      // the refusal as HTTP: 429 with Retry-After (the window ends an hour after createdAt)
      const refused = await tokens.verify(token);
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.error).toMatchObject({ code: 'rate_limited', status: 429 });
      const res = toResponse(refused.error);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
      expect(res.headers.get('ratelimit-policy')).toBe('"token";q=100;w=3600');
    } finally {
      for (const w of workers) w.kill();
      await dropPrefix(client, keyPrefix);
    }
  }, 60_000);
});

describe('Redis Cluster (3 masters)', () => {
  const env = useCluster(3);
  it('rate limit exact across 4 processes: 4 x 50 parallel verifies of a 100 per hour token, exactly 100 pass, 100 are 429', async () => {
    const reader = env.cluster.client();
    try {
      await fourProcesses(env.client, reader, env.cluster.nodes);
    } finally {
      await reader.quit();
    }
  }, 60_000);
});
