import { TokenAccessError, createTokenAccess } from '@tokenaccess/core';
import { Redis, type RedisOptions } from 'ioredis';
import { type TcpProxy, beforeTimer, startTcpProxy } from 'test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix, waitFor } from './servers';

// Redis behind a TCP proxy the test can cut: verify must answer 503 within a bound (never hang in
// ioredis's offline queue, never reject unhandled) and recover by itself once the path is back.
const target = new URL(REDIS_URL);
let proxy: TcpProxy;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const clients: Redis[] = [];

beforeAll(async () => {
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => proxy.restore());
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await proxy.close();
  process.off('unhandledRejection', onUnhandled);
});

function setup(options: RedisOptions, storeTimeout?: number) {
  const client = new Redis({ host: '127.0.0.1', port: proxy.port, ...options });
  client.on('error', () => undefined); // an app logs these; without a listener ioredis prints them
  clients.push(client);
  const keyPrefix = randomPrefix();
  const store = redisStore({ client, keyPrefix, ...(storeTimeout !== undefined ? { timeout: storeTimeout } : {}) });
  return { client, keyPrefix, tokens: createTokenAccess({ store }) };
}

/** Resolves with the result, or rejects if it takes longer than `ms` (a hang, not a slow answer). */
function bounded<T>(p: Promise<T>, ms = 15_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

async function expectUnavailable(p: Promise<{ ok: boolean; error?: { code: string; status: number } }>) {
  const r = await bounded(p);
  expect(r.ok).toBe(false);
  expect(r.error).toMatchObject({ code: 'unavailable', status: 503 });
}

describe.each([
  ['recommended client options', clientOptions, undefined],
  ['ioredis defaults (retries forever), bounded by the store timeout', {}, 500],
] as const)('connection cut, %s', (_, options, storeTimeout) => {
  it('answers unavailable (503) while the connection is reset or black-holed, then recovers by itself', async () => {
    const { client, keyPrefix, tokens } = setup(options, storeTimeout);
    const { token } = await tokens.issue({ subject: 'u1', name: 'n' });
    const limited = await tokens.issue({ subject: 'u1', name: 'n', maxUses: 100 });
    expect((await tokens.verify(token)).ok).toBe(true);

    proxy.cut('reset');
    await expectUnavailable(tokens.verify(token));
    await expectUnavailable(tokens.verify(limited.token));
    const issued = await bounded(tokens.issue({ subject: 'u1', name: 'x' }).then(() => null, (e: unknown) => e));
    expect(issued).toMatchObject({ code: 'unavailable' });

    proxy.restore();
    await waitFor(async () => (await tokens.verify(token)).ok, 20_000, 'verify to recover after reset');

    proxy.cut('blackhole');
    await expectUnavailable(tokens.verify(token));
    await expectUnavailable(Promise.all([tokens.verify(token), tokens.verify(limited.token)]).then(([a]) => a));

    proxy.restore();
    await waitFor(async () => (await tokens.verify(limited.token)).ok, 20_000, 'verify to recover after blackhole');
    expect((await tokens.verify(token)).ok).toBe(true);

    await dropPrefix(client, keyPrefix);
    expect(unhandled).toEqual([]);
  });
});

describe('every option at its default (ioredis, store, core)', () => {
  it('fails closed on a black-holed connection: unavailable from the store deadline of 2 s, before a 3 s timer', async () => {
    // ioredis's defaults: no commandTimeout, 20 retries per request, the offline queue
    const client = new Redis({ host: '127.0.0.1', port: proxy.port });
    client.on('error', () => undefined);
    clients.push(client);
    const keyPrefix = randomPrefix();
    const store = redisStore({ client, keyPrefix });
    expect(store.callTimeout).toBe(2000);
    const tokens = createTokenAccess({ store });
    const { token, info } = await tokens.issue({ subject: 'u1', name: 'n' });
    expect((await tokens.verify(token)).ok).toBe(true);

    proxy.cut('blackhole');
    expect(await beforeTimer(tokens.verify(token), 3000)).toMatchObject({ ok: false, error: { code: 'unavailable', status: 503 } });
    const err = await beforeTimer(store.findById(info.id).catch((e: unknown) => e), 3000);
    expect(err).toBeInstanceOf(TokenAccessError);
    expect(err).toMatchObject({ code: 'unavailable', message: '[tokenaccess] [redis] findById failed: no answer within 2000 ms' });

    proxy.restore();
    await waitFor(async () => (await tokens.verify(token)).ok, 20_000, 'verify to recover');
    await dropPrefix(client, keyPrefix);
    expect(unhandled).toEqual([]);
  });
});
