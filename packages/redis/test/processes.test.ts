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

function worker(token: string, parallel: number, clusterNodes?: TestCluster['nodes']): { child: ChildProcess; ready: Promise<void>; done: Promise<Record<string, number>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./workers/verify-worker.ts')], {
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: here('./workers/tsconfig.json'),
      REDIS_URL,
      ...(clusterNodes ? { CLUSTER_NODES: JSON.stringify(clusterNodes) } : {}),
      KEY_PREFIX: keyPrefix,
      TOKEN: token,
      PARALLEL: String(parallel),
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

async function fourProcesses(client: Redis | Cluster, clusterNodes?: TestCluster['nodes']) {
  const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });
  const { token } = await tokens.issue({ subject: 'u1', name: 'shared', maxUses: 25 });
  const workers = Array.from({ length: 4 }, () => worker(token, 100, clusterNodes));
  try {
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.write('go\n');
    const counts = await Promise.all(workers.map((w) => w.done));
    const total = (code: string) => counts.reduce((n, c) => n + (c[code] ?? 0), 0);
    expect(counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0)).toBe(400);
    expect(total('ok')).toBe(25);
    expect(total('exhausted')).toBe(375);
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await dropPrefix(client, keyPrefix);
  }
}

describe('standalone Redis', () => {
  const client = new Redis(REDIS_URL, clientOptions);
  afterAll(() => client.quit());
  it('4 processes x 100 parallel verifies of a maxUses 25 token: exactly 25 succeed in total', () => fourProcesses(client), 60_000);
});

describe('Redis Cluster (3 masters)', () => {
  const env = useCluster(3);
  it('4 processes x 100 parallel verifies of a maxUses 25 token: exactly 25 succeed in total', () => fourProcesses(env.client, env.cluster.nodes), 60_000);
});
