/**
 * The verify cache's PostgreSQL feed (LISTEN / NOTIFY) across real processes: a revoke here is
 * refused by a worker process whose cache holds the token; with the worker's LISTEN connection
 * cut (the TCP fault proxy) it reports down, refuses within the cache's bounds, reconnects and
 * LISTENs again; counted tokens stay exact with the cache on in 4 processes. PGlite's LISTEN
 * carries it within one process.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type FeedState, createTokenAccess } from '@tokenaccess/core';
import { startCacheWorker, startTcpProxy } from 'test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate, postgresStore } from '../src/index';
import { postgresInvalidation } from '../src/invalidation';
import { POSTGRES_URL, dropSchema, randomSchema, testPool } from './helpers';

const pool = testPool();
const schema = randomSchema('inv');
const channel = `tka_inv_${randomBytes(5).toString('hex')}`;
const feeds: { close(): Promise<void> }[] = [];
beforeAll(() => migrate(pool, { schema }));
afterAll(async () => {
  for (const f of feeds) await f.close();
  await dropSchema(pool, schema);
  await pool.end();
});

/** A worker process (child/invalidation-worker.ts) and a way to send it commands. */
const worker = (env: Record<string, string> = {}) =>
  startCacheWorker({
    file: fileURLToPath(new URL('./child/invalidation-worker.ts', import.meta.url)),
    tsconfig: fileURLToPath(new URL('./child/tsconfig.json', import.meta.url)),
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { POSTGRES_URL, SCHEMA: schema, CHANNEL: channel, ...env },
  });

/** The revoking side: a service on the same schema and channel (its feed closed after the file). */
function service() {
  const feed = postgresInvalidation({ client: pool, channel });
  feeds.push(feed);
  return createTokenAccess({ store: postgresStore({ client: pool, schema }), cache: { invalidation: feed } });
}
const pgPort = Number(new URL(POSTGRES_URL).port || 5432);

describe('PostgreSQL, two processes', () => {
  it('a revoke, disable or narrowing here is refused there, though its cache (ttl 1 h) holds the token', async () => {
    const tokens = service();
    const w = await worker();
    try {
      for (const op of ['revokeById', 'disable', 'update'] as const) {
        const { token, info } = await tokens.issue({ subject: 'u', name: op, scopes: ['users:read'] });
        expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
        if (op === 'revokeById') await tokens.revokeById(info.id);
        else if (op === 'disable') await tokens.disable(info.id);
        else await tokens.update(info.id, { expiresIn: 1 });
        const want = op === 'revokeById' ? 'not_found' : op === 'disable' ? 'disabled' : 'expired';
        // no bound on how fast: polled until refused, failing only if it never is (ttl is 1 h)
        expect(await w.send({ op: 'until', token, code: want, max: 20_000 })).toMatchObject({ code: want });
      }
    } finally {
      w.kill();
    }
  }, 60_000);

  it('LISTEN connection cut: the worker reports down and refuses within downTtl, then LISTENs again', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: pgPort });
    const tokens = service();
    const w = await worker({ LISTEN_PORT: String(proxy.port), TTL: '3600000', DOWN_TTL: '1000' });
    try {
      const { token, info } = await tokens.issue({ subject: 'u', name: 'cut' });
      expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
      proxy.cut('reset');
      await vi.waitFor(async () => expect(await w.send({ op: 'state' })).toEqual({ state: 'down' }), { timeout: 10_000, interval: 50 });
      await tokens.revokeById(info.id); // this NOTIFY never reaches the worker
      expect(await w.send({ op: 'until', token, code: 'not_found', max: 5_000 })).toMatchObject({ code: 'not_found' });
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

  it('LISTEN connection silently dead (blackhole, heartbeat off): ttl alone bounds what the worker serves', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: pgPort });
    const tokens = service();
    // long enough that the entry outlives the warm-up and the revoke on a loaded CI machine (the
    // assertion below is that it is still served after the revoke), short enough to wait out
    const TTL = 8000;
    const w = await worker({ LISTEN_PORT: String(proxy.port), TTL: String(TTL), HEARTBEAT: '0' });
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

  it('counted tokens stay exact with the cache on: 4 processes x 50 verifies of a maxUses 100 token', async () => {
    const tokens = service();
    const { token, info } = await tokens.issue({ subject: 'u', name: 'counted', maxUses: 100 });
    const workers = await Promise.all(Array.from({ length: 4 }, () => worker()));
    try {
      const counts = await Promise.all(workers.map((w) => w.send<Record<string, number>>({ op: 'burst', token, n: 50 })));
      const total = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
      expect(total('ok')).toBe(100);
      expect(total('exhausted')).toBe(100);
      expect((await postgresStore({ client: pool, schema }).findById(info.id))?.uses).toBe(100);
    } finally {
      for (const w of workers) w.kill();
    }
  }, 60_000);
});

describe('the feed itself', () => {
  it('on a Pool (its LISTEN connection from pool.connect()): large messages split under the NOTIFY limit', async () => {
    const a = postgresInvalidation({ client: pool, channel });
    const b = postgresInvalidation({ client: pool, channel });
    const got: string[] = [];
    b.subscribe((keys) => got.push(...keys), () => {});
    try {
      await vi.waitFor(() => expect(b.state).toBe('up'));
      const keys = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(64, 'a')); // ~67 kB: 9 NOTIFYs
      await a.publish(keys);
      await vi.waitFor(() => expect(got).toHaveLength(keys.length));
      expect(got).toEqual(keys);
    } finally {
      await a.close();
      await b.close();
    }
    expect(b.state).toBe('down');
  });

  it('a blackholed LISTEN connection is reported down by the heartbeat, and comes back', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: pgPort });
    const url = new URL(POSTGRES_URL);
    url.port = String(proxy.port);
    const pg = (await import('pg')).default;
    const feed = postgresInvalidation({
      client: pool,
      channel,
      heartbeat: 200,
      backoff: { min: 50, max: 200 },
      listener: async () => {
        const c = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 1000 });
        c.on('error', () => {});
        await c.connect();
        return c;
      },
    });
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
      await proxy.close();
    }
  }, 30_000);

  it('PGlite: LISTEN / NOTIFY within the process carries a revoke between two services', async () => {
    const db = new PGlite();
    await migrate(db);
    const f1 = postgresInvalidation({ client: db });
    const f2 = postgresInvalidation({ client: db });
    const one = createTokenAccess({ store: postgresStore({ client: db }), cache: { ttl: '1h', invalidation: f1 } });
    const two = createTokenAccess({ store: postgresStore({ client: db }), cache: { ttl: '1h', invalidation: f2 } });
    try {
      await vi.waitFor(() => expect([f1.state, f2.state]).toEqual(['up', 'up']));
      const { token, info } = await one.issue({ subject: 'u', name: 'n' });
      await vi.waitFor(async () => expect((await two.verify(token)).ok).toBe(true));
      await one.revokeById(info.id);
      await vi.waitFor(async () => expect(await two.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } }));
    } finally {
      await f1.close();
      await f2.close();
      await db.close();
    }
  });

  it('refuses what it cannot listen on, and a bad channel', () => {
    expect(() => postgresInvalidation({ client: { query: async () => ({ rows: [] }) } })).toThrow(/listener/);
    expect(() => postgresInvalidation({ client: pool, channel: 'a-b; DROP' })).toThrow(/identifier/);
  });
});
