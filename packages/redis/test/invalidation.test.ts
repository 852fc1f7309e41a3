/**
 * The verify cache's Redis feed across real processes: a revoke here is refused by a worker
 * process whose cache holds the token; with the worker's subscriber cut (the TCP fault proxy),
 * the revoke is still refused within the cache's bounds; counted tokens stay exact with the
 * cache on in 4 processes. And on a Redis Cluster: a message published on one node reaches a
 * subscriber on another.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type FeedState, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Redis } from 'ioredis';
import { startCacheWorker, startTcpProxy } from 'test-utils';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { redisInvalidation } from '../src/invalidation';
import { useCluster } from './cluster';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const keyPrefix = randomPrefix();
const channel = `tkatest:inv:${randomBytes(6).toString('hex')}`;
const client = new Redis(REDIS_URL, clientOptions);
const feeds: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const f of feeds) await f.close();
  await dropPrefix(client, keyPrefix);
  await client.quit();
});

/** A worker process (workers/invalidation-worker.ts) and a way to send it commands. */
const worker = (env: Record<string, string> = {}) =>
  startCacheWorker({ file: here('./workers/invalidation-worker.ts'), tsconfig: here('./workers/tsconfig.json'), env: { REDIS_URL, KEY_PREFIX: keyPrefix, CHANNEL: channel, ...env } });

/** The revoking side: a service on the same prefix and channel (its feed closed after the file). */
function service() {
  const feed = redisInvalidation({ client, channel });
  feeds.push(feed);
  return createTokenAccess({ store: redisStore({ client, keyPrefix }), cache: { invalidation: feed } });
}

describe('standalone Redis, two processes', () => {
  it('a revoke here is refused there, though its cache (ttl 1 h) holds the token', async () => {
    const feed = redisInvalidation({ client, channel });
    const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), cache: { invalidation: feed } });
    const w = await worker();
    try {
      for (const op of ['revokeById', 'disable', 'update'] as const) {
        const { token, info } = await tokens.issue({ subject: 'u', name: op, scopes: ['users:read'] });
        expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
        if (op === 'revokeById') await tokens.revokeById(info.id);
        else if (op === 'disable') await tokens.disable(info.id);
        else await tokens.update(info.id, { expiresIn: 1 });
        // an expired record may already be gone from Redis (its key's TTL): not_found then
        const want = op === 'revokeById' ? ['not_found'] : op === 'disable' ? ['disabled'] : ['expired', 'not_found'];
        // no bound on how fast: polled until refused, failing only if it never is (ttl is 1 h)
        const out = await w.send<{ code: string }>({ op: 'until', token, code: want, max: 20_000 });
        expect(want).toContain(out.code);
      }
    } finally {
      w.kill();
      await feed.close();
    }
  }, 60_000);

  it('subscriber cut (connections reset): the worker reports down, and refuses within downTtl', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    const tokens = service();
    const w = await worker({ SUB_PORT: String(proxy.port), TTL: '3600000', DOWN_TTL: '1000' });
    try {
      const { token, info } = await tokens.issue({ subject: 'u', name: 'cut' });
      expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
      proxy.cut('reset');
      await vi.waitFor(async () => expect(await w.send({ op: 'state' })).toEqual({ state: 'down' }), { timeout: 10_000, interval: 50 });
      await tokens.revokeById(info.id); // this message never reaches the worker
      expect(await w.send({ op: 'until', token, code: 'not_found', max: 5_000 })).toMatchObject({ code: 'not_found' });
      // back up: subscribed again, and its messages delivered
      proxy.restore();
      await vi.waitFor(async () => expect(await w.send({ op: 'state' })).toEqual({ state: 'up' }), { timeout: 15_000, interval: 100 });
      const again = await tokens.issue({ subject: 'u', name: 'after' });
      expect(await w.send({ op: 'warm', token: again.token })).toEqual({ code: 'ok', cached: true });
      await tokens.revokeById(again.info.id);
      expect(await w.send({ op: 'until', token: again.token, code: 'not_found', max: 20_000 })).toMatchObject({ code: 'not_found' });
    } finally {
      w.kill();
      await proxy.close();
    }
  }, 60_000);

  it('subscriber silently dead (blackhole, heartbeat off): the worker believes the feed, and ttl alone bounds it', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    const tokens = service();
    // long enough that the entry outlives the warm-up and the revoke on a loaded CI machine (the
    // assertion below is that it is still served after the revoke), short enough to wait out
    const TTL = 8000;
    const w = await worker({ SUB_PORT: String(proxy.port), TTL: String(TTL), HEARTBEAT: '0' });
    try {
      const { token, info } = await tokens.issue({ subject: 'u', name: 'blackhole' });
      expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
      proxy.cut('blackhole');
      await tokens.revokeById(info.id);
      expect(await w.send({ op: 'state' })).toEqual({ state: 'up' }); // nothing told it otherwise
      expect(await w.send({ op: 'verify', token })).toEqual({ code: 'ok', reads: 0 }); // still served
      expect(await w.send({ op: 'until', token, code: 'not_found', max: 3 * TTL })).toMatchObject({ code: 'not_found' });
    } finally {
      w.kill();
      await proxy.close();
    }
  }, 60_000);

  it('with the heartbeat, a blackholed subscriber is reported down', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    const subscriber = new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    const feed = redisInvalidation({ client, subscriber, channel, heartbeat: 200 });
    const states: FeedState[] = [];
    feed.subscribe(() => {}, (s) => states.push(s));
    try {
      await vi.waitFor(() => expect(states).toEqual(['up']), { timeout: 10_000 });
      proxy.cut('blackhole');
      await vi.waitFor(() => expect(states).toEqual(['up', 'down']), { timeout: 10_000 });
      proxy.restore();
      await vi.waitFor(() => expect(states.at(-1)).toBe('up'), { timeout: 15_000 });
    } finally {
      await feed.close();
      subscriber.disconnect();
      await proxy.close();
    }
  }, 60_000);

  it('counted tokens stay exact with the cache on: 4 processes x 50 verifies of a maxUses 100 token', async () => {
    const tokens = service();
    const { token } = await tokens.issue({ subject: 'u', name: 'counted', maxUses: 100 });
    const workers = await Promise.all(Array.from({ length: 4 }, () => worker()));
    try {
      const counts = await Promise.all(workers.map((w) => w.send<Record<string, number>>({ op: 'burst', token, n: 50 })));
      const total = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
      expect(total('ok')).toBe(100);
      expect(total('exhausted')).toBe(100);
    } finally {
      for (const w of workers) w.kill();
    }
  }, 60_000);

  it('publishes and receives keys (large messages split), and close() stops it', async () => {
    const a = redisInvalidation({ client, channel });
    const b = redisInvalidation({ client, channel });
    const got: string[] = [];
    let up = false;
    b.subscribe((keys) => got.push(...keys), (s) => (up = s === 'up'));
    await vi.waitFor(() => expect(up).toBe(true));
    const keys = Array.from({ length: 20_000 }, (_, i) => `${i}`.padStart(64, 'f'));
    await a.publish(keys);
    await vi.waitFor(() => expect(got).toHaveLength(keys.length));
    expect(got).toEqual(keys);
    await b.close();
    expect(b.state).toBe('down');
    await a.publish(['x']);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(keys.length);
    await a.close();
  });
});

describe('Redis Cluster (3 masters)', () => {
  const env = useCluster(3);

  it('a message published on one node reaches a subscriber on another (PUBLISH is broadcast cluster-wide)', async () => {
    const [n1, n2] = env.cluster.nodes;
    const pub = new Redis(n1!.port, '127.0.0.1', clientOptions);
    const sub = new Redis(n2!.port, '127.0.0.1', clientOptions);
    const a = redisInvalidation({ client: pub, channel });
    const b = redisInvalidation({ client: pub, subscriber: sub, channel });
    const got: string[][] = [];
    b.subscribe((k) => got.push(k), () => {});
    try {
      await vi.waitFor(() => expect(b.state).toBe('up'));
      await a.publish(['h1', 'h2']);
      await vi.waitFor(() => expect(got).toEqual([['h1', 'h2']]));
    } finally {
      await a.close();
      await b.close();
      sub.disconnect();
      pub.disconnect();
    }
  }, 60_000);

  it('two services on Cluster clients: a revoke in one is refused by the other', async () => {
    const c1 = env.cluster.client();
    const c2 = env.cluster.client();
    const prefix = randomPrefix();
    const f1 = redisInvalidation({ client: c1, channel });
    const f2 = redisInvalidation({ client: c2, channel });
    const one = createTokenAccess({ store: redisStore({ client: c1, keyPrefix: prefix }), cache: { ttl: '1h', invalidation: f1 } });
    const two = createTokenAccess({ store: redisStore({ client: c2, keyPrefix: prefix }), cache: { ttl: '1h', invalidation: f2 } });
    try {
      await vi.waitFor(() => expect([f1.state, f2.state]).toEqual(['up', 'up']), { timeout: 10_000 });
      const { token, info } = await one.issue({ subject: 'u', name: 'n' });
      expect((await two.verify(token)).ok).toBe(true);
      await one.revokeById(info.id);
      await vi.waitFor(async () => expect(await two.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } }), { timeout: 10_000 });
    } finally {
      await f1.close();
      await f2.close();
      await dropPrefix(c1, prefix);
      c1.disconnect();
      c2.disconnect();
    }
  });
});

it('a memory store with the Redis feed: the feed carries any store', async () => {
  const store = memoryStore();
  const f1 = redisInvalidation({ client, channel });
  const f2 = redisInvalidation({ client, channel });
  const one = createTokenAccess({ store, cache: { ttl: '1h', invalidation: f1 } });
  const two = createTokenAccess({ store, cache: { ttl: '1h', invalidation: f2 } });
  try {
    await vi.waitFor(() => expect([f1.state, f2.state]).toEqual(['up', 'up']));
    const { token } = await one.issue({ subject: 'u', name: 'n' });
    expect((await two.verify(token)).ok).toBe(true);
    await one.revokeAll('u');
    await vi.waitFor(async () => expect(await two.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } }));
  } finally {
    await f1.close();
    await f2.close();
  }
});
