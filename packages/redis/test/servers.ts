import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisStoreOptions, redisStore } from '@tokenaccess/redis';

export const run = promisify(execFile);

/** The shared local Redis (override with TOKENACCESS_REDIS_URL). */
export const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses. */
export const randomPrefix = () => `tkatest:${randomBytes(6).toString('hex')}:`;

/** Client options the docs recommend: fail fast instead of queueing forever. */
export const clientOptions = { maxRetriesPerRequest: 1, commandTimeout: 2000, enableAutoPipelining: true } as const;

/**
 * `createStore` / `reopen` / `cleanup` for the conformance suite: each test gets a store under a
 * fresh key prefix on `client`, dropped afterwards, and `reopen` a second store instance on the
 * same prefix (what another process would have). `client` is a getter, so a Cluster started in
 * `beforeAll` can be passed before it exists.
 */
export function isolatedStores(client: () => Redis | Cluster, options: Omit<RedisStoreOptions, 'client' | 'keyPrefix'> = {}) {
  const prefixes = new WeakMap<object, string>();
  return {
    createStore: () => {
      const keyPrefix = randomPrefix();
      const store = redisStore({ ...options, client: client(), keyPrefix });
      prefixes.set(store, keyPrefix);
      return store;
    },
    reopen: (store: object) => redisStore({ ...options, client: client(), keyPrefix: prefixes.get(store)! }),
    cleanup: (store: object) => dropPrefix(client(), prefixes.get(store)!),
  };
}

/** Deletes every key under `prefix`, on a standalone Redis or on every master of a Cluster. */

export async function dropPrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // one DEL per key: on a Cluster the keys of one node still span many slots
      await Promise.all(found.map((k) => node.del(k)));
    } while (cursor !== '0');
  }
}

/** A port that is free now, whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (port + 10000 < 65536 && (await listenOnce(port + 10000).then(() => true, () => false))) return port;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A redis-server this test started, on a loopback port, in a temp dir, without persistence. */
export interface RedisServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

// Servers still running when this process exits (a test run interrupted before its afterAll)
// are killed with it, so no redis-server outlives the run.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `redis-server` with `extra` arguments and waits until it answers PING. */
export async function startRedisServer(extra: string[] = [], dir?: string): Promise<RedisServer> {
  const port = await freePort();
  const ownDir = dir === undefined;
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'tka-redis-')));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...extra],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (ownDir) await rm(d, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.trim() === 'PONG', 10_000, `redis-server on ${port}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, dir: d, stop };
}

/** Polls `check` until it returns true, or throws after `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * A private redis-server for the calling test file, started before its tests and stopped after,
 * so CONFIG RESETSTAT, SCRIPT FLUSH and KEYS touch nobody else's work; `connected` receives a
 * client of it (and the server) before the first test.
 */
export function usePrivateRedis(connected: (client: Redis, server: RedisServer) => void): void {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ port: server.port, host: '127.0.0.1', ...clientOptions });
    connected(client, server);
  });
  afterAll(async () => {
    await client?.quit().catch(() => undefined);
    await server?.stop();
  });
}

/** Calls per command since the last CONFIG RESETSTAT, e.g. `{ get: 100, evalsha: 1 }`. */
export async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}
