import { createTokenAccess } from '@tokenaccess/core';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { type TestCluster, useCluster } from './cluster';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';
import { total as sum, verifyInProcesses } from './verify-workers';

// Atomicity across processes, not just across promises of one event loop.
const keyPrefix = randomPrefix();

/**
 * Runs 4 workers (100 verifies each, in `rounds` parallel rounds, worker i with clock
 * `clocks[i]`) and returns the count per code.
 */
async function fourWorkers(token: string, clusterNodes?: TestCluster['nodes'], clocks: (number | undefined)[] = [], rounds = 1) {
  const counts = await verifyInProcesses({ token, keyPrefix, parallel: 100, rounds, clocks, ...(clusterNodes ? { clusterNodes } : {}) });
  expect(counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0)).toBe(400);
  return (code: string) => sum(counts, code);
}

async function fourProcesses(client: Redis | Cluster, clusterNodes?: TestCluster['nodes']) {
  const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });
  const { token } = await tokens.issue({ subject: 'u1', name: 'shared', maxUses: 25 });
  try {
    const total = await fourWorkers(token, clusterNodes);
    expect(total('ok')).toBe(25);
    expect(total('exhausted')).toBe(375);
  } finally {
    await dropPrefix(client, keyPrefix);
  }
}

/**
 * A refilling token (200 per hour, 195 spent) verified 400 times by 4 processes whose clocks
 * straddle the period boundary: two 3 ms before it, two 3 ms after. The old period passes at
 * most its 5 left, the new one exactly its 200 (a late use from the old period counts against
 * the new one: lastUsedAt never moves back, or the periods would keep resetting each other).
 */
async function skewedClocks(client: Redis | Cluster, clusterNodes?: TestCluster['nodes']) {
  const HOUR = 3_600_000;
  const created = Date.now();
  const store = redisStore({ client, keyPrefix });
  const tokens = createTokenAccess({ store, clock: () => created + 10 });
  const { token, info } = await tokens.issue({ subject: 'u1', name: 'quota', maxUses: 200, refill: { every: '1h' } });
  expect(info.createdAt.getTime()).toBe(created + 10);
  const boundary = created + 10 + HOUR;
  try {
    expect((await Promise.all(Array.from({ length: 195 }, () => tokens.verify(token)))).every((r) => r.ok)).toBe(true);
    const total = await fourWorkers(token, clusterNodes, [boundary - 3, boundary + 3, boundary - 3, boundary + 3], 25);
    expect(total('ok')).toBeGreaterThanOrEqual(200);
    expect(total('ok')).toBeLessThanOrEqual(205);
    expect(total('exhausted')).toBe(400 - total('ok'));
    expect(await store.findById(info.id)).toMatchObject({ uses: 200, lastUsedAt: new Date(boundary + 3) });
  } finally {
    await dropPrefix(client, keyPrefix);
  }
}

describe('standalone Redis', () => {
  const client = new Redis(REDIS_URL, clientOptions);
  afterAll(() => client.quit());
  it('4 processes x 100 parallel verifies of a maxUses 25 token: exactly 25 succeed in total', () => fourProcesses(client), 60_000);
  it('4 processes with clocks on both sides of a refill boundary: at most 5 + 200 pass, the new period exactly its 200', () => skewedClocks(client), 60_000);
});

describe('Redis Cluster (3 masters)', () => {
  const env = useCluster(3);
  it('4 processes x 100 parallel verifies of a maxUses 25 token: exactly 25 succeed in total', () => fourProcesses(env.client, env.cluster.nodes), 60_000);
  it('4 processes with clocks on both sides of a refill boundary: at most 5 + 200 pass, the new period exactly its 200', () => skewedClocks(env.client, env.cluster.nodes), 60_000);
});
