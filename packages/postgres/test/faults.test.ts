/**
 * Faults: a TCP proxy between the pool and PostgreSQL is cut while verifications run. Every
 * verification answers `unavailable` (503) once the store's timeout passes at the latest;
 * nothing hangs, no promise rejects unhandled, the process survives; once the proxy is back,
 * the same pool and store verify again.
 */
import { TokenAccessError, createTokenAccess } from '@tokenaccess/core';
import pg from 'pg';
import { type TcpProxy, beforeTimer, startTcpProxy } from 'test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, postgresStore } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, testPool } from './helpers';

const STORE_TIMEOUT = 1000;
const direct = testPool();
const schema = randomSchema('faults');
const target = new URL(POSTGRES_URL);

let proxy: TcpProxy;
let pool: pg.Pool;
const poolErrors: Error[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  await migrate(direct, { schema });
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await dropSchema(direct, schema);
  await direct.end();
});

const viaProxy = () => {
  const via = new URL(POSTGRES_URL);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  return via.toString();
};
const makePool = (config: pg.PoolConfig) => {
  pool = new pg.Pool({ connectionString: viaProxy(), max: 6, ...config });
  pool.on('error', (err) => poolErrors.push(err)); // what users must do: see docs/stores/postgres.md
  return pool;
};

beforeEach(async () => {
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  poolErrors.length = 0;
  unhandled.length = 0;
});
afterEach(async () => {
  proxy.restore();
  await pool?.end().catch(() => {});
  await proxy.close();
});

/** Settles with the verify result, or with 'hung' if it takes 10x the store timeout. */
const settle = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10 * STORE_TIMEOUT).unref())]);

async function eventuallyOk(verify: () => Promise<{ ok: boolean }>) {
  for (let attempt = 0; attempt < 20; attempt++) {
    if ((await verify()).ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const POOLS: [string, pg.PoolConfig][] = [
  ['the recommended pool options', { connectionTimeoutMillis: STORE_TIMEOUT, query_timeout: 2 * STORE_TIMEOUT }],
  ["pg's defaults (no timeouts at all)", {}],
];

describe.each((['reset', 'blackhole'] as const).flatMap((mode) => POOLS.map(([label, config]) => [mode, label, config] as const)))('proxy cut (%s) mid-run, %s', (mode, _, config) => {
  it('verify answers unavailable/503 while cut, and works again after restore without restarting anything', async () => {
    const store = postgresStore({ client: makePool(config), schema, timeout: STORE_TIMEOUT });
    const tokens = createTokenAccess({ store, timeout: 5 * STORE_TIMEOUT });
    const { token } = await tokens.issue({ subject: 'faults', name: 'f' });
    const counted = await tokens.issue({ subject: 'faults', name: 'c', maxUses: 1000 });

    // Mid-run: 6 loops verifying continuously, the proxy is cut under them.
    let running = true;
    const seen: string[] = [];
    const loops = Array.from({ length: 6 }, async (_, i) => {
      while (running) {
        const r = await settle(tokens.verify(i % 2 ? token : counted.token));
        seen.push(r === 'hung' ? 'hung' : r.ok ? 'ok' : r.error.code);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    proxy.cut(mode);
    const cutAt = performance.now();
    const during = await Promise.all(Array.from({ length: 10 }, () => settle(tokens.verify(token))));
    // For the report, not asserted (tests never assert on time): how long the slowest one took.
    console.info(`[faults] ${mode}: 10 verifies during the cut settled within ${Math.round(performance.now() - cutAt)} ms (store timeout ${STORE_TIMEOUT} ms)`);
    running = false;
    await Promise.all(loops);

    for (const r of during) {
      expect(r).not.toBe('hung');
      if (r !== 'hung') expect(r).toMatchObject({ ok: false, error: { code: 'unavailable', status: 503 } });
    }
    expect(seen).toContain('ok');
    expect(seen).not.toContain('hung');
    expect(new Set(seen)).toEqual(new Set(['ok', 'unavailable']));

    proxy.restore();
    expect(await eventuallyOk(() => tokens.verify(token))).toBe(true);
    expect((await tokens.verify(counted.token)).ok).toBe(true);
    expect(unhandled).toEqual([]);
  });
});

it('with every option at its default (pg Pool, store, core), a black-holed server answers unavailable from the store deadline of 2 s, before a 3 s timer', async () => {
  const store = postgresStore({ client: makePool({}), schema });
  expect(store.callTimeout).toBe(2000);
  const tokens = createTokenAccess({ store });
  const { token, info } = await tokens.issue({ subject: 'faults', name: 'defaults' });
  expect((await tokens.verify(token)).ok).toBe(true);

  proxy.cut('blackhole');
  // the old default (5 s) loses the store-call race; verify is also bounded by core's own 2 s
  expect(await beforeTimer(tokens.verify(token), 3000)).toMatchObject({ ok: false, error: { code: 'unavailable', status: 503 } });
  const err = await beforeTimer(store.findById(info.id).catch((e: unknown) => e), 3000);
  expect(err).toBeInstanceOf(TokenAccessError);
  expect(err).toMatchObject({ code: 'unavailable', message: '[tokenaccess] [postgres] findById failed: no answer within 2000 ms' });

  proxy.restore();
  expect(await eventuallyOk(() => tokens.verify(token))).toBe(true);
  expect(unhandled).toEqual([]);
});

it('an idle client dying does not crash the process, even when the app forgot pool.on("error")', async () => {
  const bare = new pg.Pool({ connectionString: viaProxy(), max: 3 });
  const errors: Error[] = [];
  postgresStore({ client: bare, schema, timeout: STORE_TIMEOUT, onClientError: (e) => errors.push(e) });
  expect(bare.listenerCount('error')).toBe(1);
  await Promise.all([bare.query('SELECT 1'), bare.query('SELECT 1'), bare.query('SELECT 1')]); // idle clients now
  proxy.cut('reset');
  await new Promise((r) => setTimeout(r, 200));
  expect(errors.length).toBeGreaterThan(0); // the Pool re-emitted the idle clients' errors; we are still here
  expect(bare.idleCount).toBe(0);
  proxy.restore();
  expect((await bare.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  await bare.end();
  expect(unhandled).toEqual([]);
});

it('a store on a pool that has an error listener adds none of its own', () => {
  const pool = makePool({});
  const before = pool.listenerCount('error');
  postgresStore({ client: pool, schema });
  expect(pool.listenerCount('error')).toBe(before);
});
