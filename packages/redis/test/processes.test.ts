import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTokenAccess } from '@tokenaccess/core';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { type TestCluster, useCluster } from './cluster';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';

// Atomicity across processes, not just across promises of one event loop.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const keyPrefix = randomPrefix();

function worker(token: string, parallel: number, clusterNodes?: TestCluster['nodes'], clock?: number, rounds = 1): { child: ChildProcess; ready: Promise<void>; done: Promise<Record<string, number>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./workers/verify-worker.ts')], {
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: here('./workers/tsconfig.json'),
      REDIS_URL,
      ...(clusterNodes ? { CLUSTER_NODES: JSON.stringify(clusterNodes) } : {}),
      KEY_PREFIX: keyPrefix,
      TOKEN: token,
      PARALLEL: String(parallel),
      ...(clock !== undefined ? { CLOCK: String(clock) } : {}),
      ROUNDS: String(rounds),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const done = new Promise<Record<string, number>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${out}`));
      resolve(JSON.parse(out.split('\n').filter(Boolean).pop()!) as Record<string, number>);
    });
  });
  return { child, ready, done };
}

/**
 * Runs 4 workers (100 verifies each, in `rounds` parallel rounds, worker i with clock
 * `clocks[i]`) and returns the count per code.
 */
async function fourWorkers(token: string, clusterNodes?: TestCluster['nodes'], clocks: (number | undefined)[] = [], rounds = 1) {
  const workers = Array.from({ length: 4 }, (_, i) => worker(token, 100, clusterNodes, clocks[i], rounds));
  try {
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.write('go\n');
    const counts = await Promise.all(workers.map((w) => w.done));
    const total = (code: string) => counts.reduce((n, c) => n + (c[code] ?? 0), 0);
    expect(counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0)).toBe(400);
    return total;
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
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
