import { createHash } from 'node:crypto';
import { type Deadlines, type Duration, deadlines, storeError } from '@tokenaccess/core/store';
import type { Cluster, Redis } from 'ioredis';
import { type Keys, keys } from './keys';

/**
 * An ioredis client: a standalone `Redis` or a `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Cluster([{ host: '127.0.0.1', port: 7000 }], { enableAutoPipelining: true });
 * ```
 */
export type RedisClient = Redis | Cluster;

/** A Lua script with its SHA1, run with EVALSHA and loaded on `NOSCRIPT`. */
export interface Script {
  source: string;
  sha: string;
}

/** @internal */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * What every part of the store talks to Redis through: the client, the key layout, and core's
 * deadline watcher (`calls`), which gives every call the store's `timeout` and maps every
 * failure to `unavailable`.
 * @internal
 */
export interface Connection {
  client: RedisClient;
  keys: Keys;
  calls: Deadlines;
  /** How long after its deadline a dead record is kept (ms): the grace added to every TTL. */
  expiryGrace: number;
  /** Runs a single-key script under the deadline (see {@link evalScript}). */
  run(what: string, s: Script, key: string, args: (string | number)[]): Promise<unknown>;
  /** The same, with the reply's strings as Buffers (binary members, read as they are stored). */
  runBuffer(what: string, s: Script, key: string, args: (string | number)[]): Promise<unknown>;
}

/** @internal */
export function connect(client: RedisClient, keyPrefix: string, timeout: Duration, expiryGrace: number, buckets: number): Connection {
  const calls = deadlines(timeout, (what, err) => storeError('redis', what, err));
  return {
    client,
    keys: keys(keyPrefix, buckets),
    calls,
    expiryGrace,
    run: (what, s, key, args) => calls.run(what, () => evalScript(client, s, key, args)),
    runBuffer: (what, s, key, args) => calls.run(what, () => evalScript(client, s, key, args, true)),
  };
}

/**
 * EVALSHA, and EVAL when the server answers `NOSCRIPT` (a restart, a failover, `SCRIPT FLUSH`,
 * or a Cluster node that has not seen the script yet): EVAL also loads it for next time.
 */
async function evalScript(client: RedisClient, s: Script, key: string, args: (string | number)[], buffers = false): Promise<unknown> {
  // the Buffer forms of EVALSHA and EVAL: ioredis has them at run time but not in its types, and
  // its `callBuffer` fails under auto-pipelining
  const c = client as unknown as BufferEval;
  try {
    return await (buffers ? c.evalshaBuffer(s.sha, 1, key, ...args) : client.evalsha(s.sha, 1, key, ...args));
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    return buffers ? c.evalBuffer(s.source, 1, key, ...args) : client.eval(s.source, 1, key, ...args);
  }
}

interface BufferEval {
  evalshaBuffer(sha: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  evalBuffer(source: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
}
