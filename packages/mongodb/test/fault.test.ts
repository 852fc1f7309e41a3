import net from 'node:net';
import { TokenAccessError, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { startStallProxy } from 'mongo-standin';
import { MongoClient } from 'mongodb';
import { beforeTimer, startTcpProxy } from 'test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_NAME, backend, randomName } from './helpers';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => expect(unhandled).toEqual([]));

/**
 * The one server the fault drills put a proxy in front of (the client then connects to it
 * directly): the backend itself when its URL names one host; for a replica set, its primary; for
 * several mongos, the first.
 */
async function faultTarget(): Promise<{ host: string; port: number }> {
  const hostPort = (s: string) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) });
  if (!backend.url.includes(',') && !backend.url.startsWith('mongodb+srv')) {
    const { hostname, port } = new URL(backend.url.replace(/^mongodb:/, 'http:'));
    return { host: hostname, port: Number(port || 27017) };
  }
  const probe = new MongoClient(backend.url, { serverSelectionTimeoutMS: 5000 });
  try {
    const hello = await probe.db('admin').command({ hello: 1 });
    const first = backend.url.replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?/, '').split(/[/?]/)[0]!.split(',')[0]!;
    return hostPort(String(hello.primary ?? hello.me ?? first));
  } finally {
    await probe.close();
  }
}

/** A URL for a proxy on 127.0.0.1:`port`, with the backend's credentials and authSource, and `query`. */
function viaProxy(port: number, query: string): string {
  const auth = /^mongodb(?:\+srv)?:\/\/([^@/]*@)/.exec(backend.url)?.[1] ?? '';
  const authSource = new URLSearchParams(backend.url.split('?')[1] ?? '').get('authSource');
  return `mongodb://${auth}127.0.0.1:${port}/?${query}${authSource ? `&authSource=${authSource}` : ''}`;
}

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

/** Calls `verify` until it answers ok, 100 ms apart. */
async function until<T extends { ok: boolean }>(verify: () => Promise<T>): Promise<T> {
  for (;;) {
    const r = await verify();
    if (r.ok) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a network path that goes dead mid-run', () => {
  /** The backend behind a TCP proxy; `query` is the client's URL options. */
  const proxied = async (query = 'directConnection=true&serverSelectionTimeoutMS=1000') => {
    // the proxy covers one host: fail rather than pass without having run
    const proxy = await startTcpProxy(await faultTarget());
    const client = new MongoClient(viaProxy(proxy.port, query));
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

  it('recovers after a blackout in which several calls were given up (the monitor restarts on the network error)', async () => {
    // Before the stand-in answered hello with a topologyVersion, the driver (polling, not
    // streaming) ignored monitor.reset() here and its heartbeat waited on a dead socket: with two
    // or more calls given up, no new connection for 45 s and more. A 4.4+ mongod sends one.
    const p = await proxied();
    try {
      const tokens = createTokenAccess({ store: mongoStore({ db: p.client.db(DB_NAME), collection: p.collection }), timeout: 300 });
      const { token } = await tokens.issue({ subject: 'u', name: 'n' });
      expect((await tokens.verify(token)).ok).toBe(true);
      p.proxy.cut('blackhole');
      // one after the other, each given up by core's 300 ms (the sequence that used to hang)
      for (let i = 0; i < 3; i++) expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      p.proxy.restore();
      // well within one heartbeatFrequencyMS (10 s): the reset, not the next poll, brings it back
      expect(await beforeTimer(until(() => tokens.verify(token)), 8000)).toMatchObject({ ok: true });
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

describe('a blackout that closes nothing (packets dropped, every socket left open)', () => {
  /** The backend behind mongo-standin's stall proxy; `query` is the client's URL options. */
  const stalled = async (query: string) => {
    const proxy = await startStallProxy(await faultTarget());
    const client = new MongoClient(viaProxy(proxy.port, `directConnection=true&serverSelectionTimeoutMS=1000&${query}`));
    const collection = randomName();
    const store = mongoStore({ db: client.db(DB_NAME), collection, timeout: 300 });
    return {
      proxy,
      client,
      tokens: createTokenAccess({ store }),
      close: async () => {
        proxy.heal();
        await client.db(DB_NAME).collection(collection).drop().catch(() => {});
        await client.close(true);
        await proxy.close();
      },
    };
  };

  for (const reset of [false, true]) {
    it(`answers unavailable within the store timeout, then recovers when the path comes back${reset ? ' after TCP gave up (old connections reset)' : ' (held bytes delivered late)'}`, async () => {
      const p = await stalled('');
      try {
        const { token } = await p.tokens.issue({ subject: 'u', name: 'n' });
        expect((await p.tokens.verify(token)).ok).toBe(true);
        const open = p.proxy.connections;
        p.proxy.blackhole();
        for (let i = 0; i < 3; i++) expect(await beforeTimer(p.tokens.verify(token), 1500)).toMatchObject({ ok: false, error: { code: 'unavailable', status: 503 } });
        const parallel = await beforeTimer(Promise.all(Array.from({ length: 10 }, () => p.tokens.verify(token))), 1500);
        expect(parallel).not.toBe('timer fired first');
        expect((parallel as { ok: boolean; error?: { code: string } }[]).map((r) => r.error?.code)).toEqual(Array(10).fill('unavailable'));
        expect(p.proxy.connections).toBeGreaterThanOrEqual(open); // nothing was closed: only the deadline answered
        expect(p.proxy.held).toBeGreaterThan(0);
        p.proxy.heal({ reset });
        expect(await beforeTimer(until(() => p.tokens.verify(token)), 8000)).toMatchObject({ ok: true });
      } finally {
        await p.close();
      }
    });
  }

  it('socketTimeoutMS and connectTimeoutMS close every connection a blackout holds, so none stays taken from the pool (maxPoolSize)', async () => {
    // The store's deadline answers the caller, but the driver keeps the connection it sent on
    // (waiting for a reply that cannot come) and one it is still opening (its handshake cannot
    // finish): socketTimeoutMS closes the first, connectTimeoutMS the second.
    const p = await stalled('maxPoolSize=2&waitQueueTimeoutMS=500&socketTimeoutMS=1000&connectTimeoutMS=1000');
    const created: number[] = [];
    const closed: number[] = [];
    p.client.on('connectionCreated', (e) => void created.push(e.connectionId as number));
    p.client.on('connectionClosed', (e) => void closed.push(e.connectionId as number));
    try {
      const { token } = await p.tokens.issue({ subject: 'u', name: 'n' });
      expect((await p.tokens.verify(token)).ok).toBe(true);
      p.proxy.blackhole();
      const given = await Promise.all(Array.from({ length: 4 }, () => p.tokens.verify(token)));
      expect(given.map((r) => !r.ok && r.error.code)).toEqual(Array(4).fill('unavailable'));
      expect(created.length).toBeGreaterThanOrEqual(2); // the one in use, one being opened
      const allClosed = async () => {
        while (!created.every((id) => closed.includes(id))) await new Promise((resolve) => setTimeout(resolve, 50));
        return 'all closed';
      };
      expect(await beforeTimer(allClosed(), 6000)).toBe('all closed');
      p.proxy.heal();
      expect(await beforeTimer(until(() => p.tokens.verify(token)), 8000)).toMatchObject({ ok: true });
    } finally {
      await p.close();
    }
  });
});
