import net from 'node:net';
import { TokenAccessError, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { MongoClient } from 'mongodb';
import { beforeTimer, startTcpProxy } from 'test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_NAME, backend, randomName } from './helpers';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => expect(unhandled).toEqual([]));

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('an unreachable server', () => {
  it('answers verify with unavailable (503) once server selection times out', async () => {
    // a well-formed token (from any store): a malformed one would be refused before the store
    const { token } = await createTokenAccess({ store: memoryStore() }).issue({ subject: 'u', name: 'n' });
    const client = new MongoClient(`mongodb://127.0.0.1:${await closedPort()}/?serverSelectionTimeoutMS=500`);
    try {
      const tokens = createTokenAccess({ store: mongoStore({ db: client.db(DB_NAME) }), timeout: 10_000 });
      const r = await tokens.verify(token);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.code).toBe('unavailable');
      expect(!r.ok && r.error.status).toBe(503);
    } finally {
      await client.close();
    }
  });

  it('makes store calls throw TokenAccessError unavailable, with the driver error as cause', async () => {
    const client = new MongoClient(`mongodb://127.0.0.1:${await closedPort()}/?serverSelectionTimeoutMS=500`);
    try {
      const store = mongoStore({ db: client.db(DB_NAME) });
      const err = await store.findByHash('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenAccessError);
      expect((err as TokenAccessError).code).toBe('unavailable');
      expect((err as Error).message).toMatch(/^\[tokenaccess\] \[mongodb\] findByHash failed: /);
      expect((err as Error & { cause: Error }).cause.name).toBe('MongoServerSelectionError');
    } finally {
      await client.close();
    }
  });
});

describe('a network path that goes dead mid-run', () => {
  /** The backend behind a TCP proxy; `query` is the client's URL options. */
  const proxied = async (query = 'directConnection=true&serverSelectionTimeoutMS=1000') => {
    // the proxy covers one host: fail rather than pass without having run
    if (backend.url.includes(',') || backend.url.startsWith('mongodb+srv')) throw new Error(`the fault tests need a single-host MongoDB URL (got ${backend.kind})`);
    const { hostname, port } = new URL(backend.url.replace(/^mongodb:/, 'http:'));
    const proxy = await startTcpProxy({ host: hostname, port: Number(port || 27017) });
    const client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/?${query}`);
    const collection = randomName();
    return {
      proxy,
      client,
      collection,
      close: async () => {
        proxy.restore();
        await client.db(DB_NAME).collection(collection).drop().catch(() => {});
        await client.close(true);
        await proxy.close();
      },
    };
  };

  it('answers verify with unavailable within core timeout while black-holed, and recovers when restored', async () => {
    const p = await proxied();
    try {
      const tokens = createTokenAccess({ store: mongoStore({ db: p.client.db(DB_NAME), collection: p.collection }), timeout: 300 });
      const { token } = await tokens.issue({ subject: 'u', name: 'n' });
      expect((await tokens.verify(token)).ok).toBe(true);
      p.proxy.cut('blackhole');
      const r = await tokens.verify(token);
      expect(!r.ok && r.error.code).toBe('unavailable');
      p.proxy.restore();
      // the driver finds the server again through its monitor (heartbeat, reconnect)
      let back = await tokens.verify(token);
      for (let i = 0; i < 40 && !back.ok; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        back = await tokens.verify(token);
      }
      expect(back.ok).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('with every option at its default, fails closed: unavailable from the store deadline of 2 s, before a 3 s timer', async () => {
    // no serverSelectionTimeoutMS (the driver waits 30 s by default), no store or core timeout
    const p = await proxied('directConnection=true');
    try {
      const store = mongoStore({ db: p.client.db(DB_NAME), collection: p.collection });
      expect(store.callTimeout).toBe(2000);
      const tokens = createTokenAccess({ store });
      const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
      expect((await tokens.verify(token)).ok).toBe(true);
      p.proxy.cut('blackhole');
      // the old default (5 s, the store's or core's) would lose these races
      expect(await beforeTimer(tokens.verify(token), 3000)).toMatchObject({ ok: false, error: { code: 'unavailable', status: 503 } });
      const err = await beforeTimer(store.findById(info.id).catch((e: unknown) => e), 3000);
      expect(err).toBeInstanceOf(TokenAccessError);
      expect(err).toMatchObject({ code: 'unavailable', message: '[tokenaccess] [mongodb] findById failed: no answer within 2000 ms' });
    } finally {
      await p.close();
    }
  });

  it('bounds a store call on its own (an admin script, the CLI) by the store timeout', async () => {
    const p = await proxied();
    try {
      const store = mongoStore({ db: p.client.db(DB_NAME), collection: p.collection, timeout: 300 });
      expect((await store.list({ limit: 10 })).items).toEqual([]);
      p.proxy.cut('blackhole');
      const err = await store.list({ limit: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenAccessError);
      expect((err as TokenAccessError).code).toBe('unavailable');
      expect((err as Error).message).toBe('[tokenaccess] [mongodb] list failed: no answer within 300 ms');
    } finally {
      await p.close();
    }
  });
});
