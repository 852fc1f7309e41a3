/**
 * bench/cache: the verify cache, measured against what it replaces and what it cannot beat, in
 * the same run:
 *
 * 1. core's Map-based LRU against `lru-cache` (the decision to keep core dependency-free);
 * 2. cached verify against the raw store read (Redis `GET` of a value of the record's size,
 *    Postgres prepared `SELECT … WHERE hash = $1`) at concurrency 1 and 64 (target ≥ 3×), and
 *    against the floor `crypto.hash + Map.get` (target ≥ 0.6×);
 * 3. revoke-to-refusal latency across two processes on the Redis and Postgres feeds: the time
 *    from calling `revokeById` here to the first refused verify in a worker process whose cache
 *    held the token (p50 / p99 over REVOKES revokes; target p99 ≤ 100 ms on loopback).
 *
 *   npx tsx bench/cache/index.ts        (TOKENACCESS_REDIS_URL, TOKENACCESS_POSTGRES_URL; REVOKES=1000;
 *                                        LRU_ONLY=1 for part 1 alone)
 *
 * The worker processes are the ones the feeds' tests run (packages/redis/test/workers/
 * invalidation-worker.ts, packages/postgres/test/child/invalidation-worker.ts).
 */
import { spawn } from 'node:child_process';
import * as nodeCrypto from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTokenAccess } from '@tokenaccess/core';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { Lru } from '../../packages/core/src/lru';
import { migrate, postgresStore, quoteIdent } from '../../packages/postgres/src/index';
import { postgresInvalidation } from '../../packages/postgres/src/invalidation';
import { redisStore } from '../../packages/redis/src/index';
import { redisInvalidation } from '../../packages/redis/src/invalidation';
import { compare, dropKeys, header, ratio, table } from '../lib';

const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REVOKES = Number(process.env.REVOKES ?? 1000);
const TOKENS = 1000;
const hash = (nodeCrypto as unknown as { hash: (a: string, d: string, e: 'hex') => string }).hash;
const tag = nodeCrypto.randomBytes(4).toString('hex');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const now = () => performance.timeOrigin + performance.now();

const client = new Redis(REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 16, connectionTimeoutMillis: 5000 });
pool.on('error', () => {});
const keyPrefix = `bc${tag}:`;
const schema = `tka_bench_cache_${tag}`;
const closers: (() => Promise<unknown>)[] = [];

let sink = 0;

/** The simplest LRU: a `Map` that re-inserts a key on every hit (what core's first version did). */
class MapLru<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

/** 1. The LRU: hits over 10,000 keys, and a churning mix (90 % hits, 10 % inserts that evict). */
async function lru() {
  const N = 10_000;
  const keys = Array.from({ length: N * 2 }, (_, i) => hash('sha256', `k${i}`, 'hex'));
  const impls = { core: new Lru<{ v: number }>(N), map: new MapLru<{ v: number }>(N), 'lru-cache': new LRUCache<string, { v: number }>({ max: N }) };
  for (const c of Object.values(impls)) for (let i = 0; i < N; i++) c.set(keys[i]!, { v: i });
  // a fixed pseudo-random sequence, the same for all
  const seq = Array.from({ length: 1 << 16 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 0) % N);
  const churn = Array.from({ length: 1 << 16 }, (_, i) => (Math.imul(i + 7, 2246822519) >>> 0) % (N * 2));
  // verify looks a hash up as a string it has just made, whose hash code V8 has not computed
  // yet: `slice(1)` of ' ' + key makes such a string (the same cost for every implementation)
  const padded = keys.map((k) => ` ${k}`);
  // 1,000 operations per measured call, so the loop's own await does not hide the difference
  const cases = Object.entries(impls).flatMap(([name, c]) => [
    {
      name: `${name} hit`,
      run: (i: number) => {
        for (let j = 0; j < 1000; j++) sink += c.get(keys[seq[(i * 1000 + j) & 0xffff]!]!)?.v ?? 0;
      },
    },
    {
      name: `${name} fresh`,
      run: (i: number) => {
        for (let j = 0; j < 1000; j++) sink += c.get(padded[seq[(i * 1000 + j) & 0xffff]!]!.slice(1))?.v ?? 0;
      },
    },
    {
      name: `${name} churn`,
      run: (i: number) => {
        for (let j = 0; j < 1000; j++) {
          const n = i * 1000 + j;
          const k = keys[churn[n & 0xffff]!]!;
          if (n % 10 === 0) c.set(k, { v: n });
          else sink += c.get(k)?.v ?? 0;
        }
      },
    },
  ]);
  const r = await compare(cases, { concurrency: 1, ms: 1000, rounds: 5 });
  const ns = (k: string) => 1e9 / (r.get(k)! * 1000);
  header('bench/cache — LRU: core (slot arrays) vs lru-cache 11 vs a Map re-inserted on each hit; 10,000 entries, 64-char keys (ns per operation)');
  table([
    ['workload', 'core Lru', 'lru-cache', 'Map re-insert', 'lru-cache / core (≥ 1: core faster)'],
    ['get, every key present (the same key strings each time)', ns('core hit'), ns('lru-cache hit'), ns('map hit'), (ns('lru-cache hit') / ns('core hit')).toFixed(2)],
    ['get, every key present (a new key string each time, as in verify)', ns('core fresh'), ns('lru-cache fresh'), ns('map fresh'), (ns('lru-cache fresh') / ns('core fresh')).toFixed(2)],
    ['90 % get / 10 % set over 20,000 keys (evicting)', ns('core churn'), ns('lru-cache churn'), ns('map churn'), (ns('lru-cache churn') / ns('core churn')).toFixed(2)],
  ]);
}

/** 2. Cached verify against the raw read and the floor, on both stores. */
async function throughput() {
  // Redis: records under keyPrefix, and a raw value of the record's size
  const rStore = redisStore({ client, keyPrefix });
  const rFeed = redisInvalidation({ client, channel: `bench:${tag}` });
  closers.push(() => rFeed.close());
  const rPlain = createTokenAccess({ store: rStore, lastUsedResolution: '1h' });
  const rCached = createTokenAccess({ store: rStore, lastUsedResolution: '1h', cache: { ttl: '1h', invalidation: rFeed } });
  // Postgres
  await migrate(pool, { schema });
  const pStore = postgresStore({ client: pool, schema });
  const pFeed = postgresInvalidation({ client: pool, channel: `bench_${tag}` });
  closers.push(() => pFeed.close());
  const pPlain = createTokenAccess({ store: pStore, lastUsedResolution: '1h' });
  const pCached = createTokenAccess({ store: pStore, lastUsedResolution: '1h', cache: { ttl: '1h', invalidation: pFeed } });
  while (rFeed.state !== 'up' || pFeed.state !== 'up') await new Promise((r) => setTimeout(r, 20));

  const rRaws: string[] = [];
  const pRaws: string[] = [];
  const pHashes: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    rRaws.push((await rPlain.issue({ subject: `u${i % 50}`, name: "John's MacBook Air", scopes: ['users:read', 'files:*'] })).token);
    const p = await pPlain.issue({ subject: `u${i % 50}`, name: "John's MacBook Air", scopes: ['users:read', 'files:*'] });
    pRaws.push(p.token);
    pHashes.push(p.info.hash);
  }
  // lastUsedAt written once, then every cache filled (the issue messages have arrived by then)
  for (const t of rRaws) await rPlain.verify(t);
  for (const t of pRaws) await pPlain.verify(t);
  await new Promise((r) => setTimeout(r, 200));
  for (const t of rRaws) await rCached.verify(t);
  for (const t of pRaws) await pCached.verify(t);
  const sample = (await rStore.findByHash(hash('sha256', rRaws[0]!, 'hex')))!;
  const size = (await client.get(`${keyPrefix}t:{${sample.hash}}`))?.length ?? 200;
  const rawKey = `${keyPrefix}raw`;
  await client.set(rawKey, 'x'.repeat(size));
  const selectText = `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')} WHERE hash = $1`;
  const map = new Map<string, { scopes: string[] }>();
  for (const t of rRaws) map.set(hash('sha256', t, 'hex'), { scopes: ['users:read'] });

  const ok = (r: { ok: boolean }) => {
    if (!r.ok) throw new Error('verify failed');
  };
  const rows: (string | number)[][] = [['concurrency', 'case', 'ops/s', 'µs/op', 'ratio']];
  for (const concurrency of [1, 64]) {
    const m = await compare(
      [
        { name: 'floor', run: (i) => void (sink += map.get(hash('sha256', rRaws[i % TOKENS]!, 'hex'))!.scopes.length) },
        { name: 'redis cached', run: (i) => rCached.verify(rRaws[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) },
        { name: 'redis GET', run: () => client.get(rawKey) },
        { name: 'redis verify', run: (i) => rPlain.verify(rRaws[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) },
        { name: 'pg cached', run: (i) => pCached.verify(pRaws[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) },
        { name: 'pg SELECT', run: (i) => pool.query({ name: `bc_${tag}`, text: selectText, values: [pHashes[i % TOKENS]] }) },
        { name: 'pg verify', run: (i) => pPlain.verify(pRaws[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) },
      ],
      { concurrency, ms: 1000, rounds: 5 },
    );
    const v = (k: string) => m.get(k)!;
    const row = (label: string, k: string, r: string) => rows.push([String(concurrency), label, v(k), 1e6 / v(k), r]);
    row('floor: crypto.hash + Map.get', 'floor', '1.00 (floor)');
    row('Redis: verify, cached', 'redis cached', `${ratio(v('redis cached') / v('redis GET'), 3)} vs GET; ${ratio(v('redis cached') / v('floor'), 0.6)} vs floor`);
    row('Redis: raw GET, same-size value', 'redis GET', '1.00 (GET)');
    row('Redis: verify, no cache', 'redis verify', `${(v('redis verify') / v('redis GET')).toFixed(2)} vs GET`);
    row('Postgres: verify, cached', 'pg cached', `${ratio(v('pg cached') / v('pg SELECT'), 3)} vs SELECT; ${ratio(v('pg cached') / v('floor'), 0.6)} vs floor`);
    row('Postgres: prepared SELECT by hash', 'pg SELECT', '1.00 (SELECT)');
    row('Postgres: verify, no cache', 'pg verify', `${(v('pg verify') / v('pg SELECT')).toFixed(2)} vs SELECT`);
  }
  header(`bench/cache — cached verify vs raw store read and the floor (${TOKENS} unlimited tokens cycled, scope check, lastUsedAt fresh; median of 5 interleaved 1 s rounds)`);
  table(rows);
  return { rPlain, pPlain };
}

/** A worker process with the cache on (the feed tests' worker), driven line by line. */
async function worker(script: string, tsconfig: string, env: Record<string, string>, cwd?: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env }, stdio: ['pipe', 'pipe', 'inherit'], ...(cwd ? { cwd } : {}) });
  const lines = createInterface({ input: proc.stdout });
  const waiting: ((l: string) => void)[] = [];
  const queue: string[] = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
  const next = () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve)));
  if ((await next()) !== 'ready') throw new Error('worker did not start');
  const send = async <T>(cmd: Record<string, unknown>): Promise<T> => {
    proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    return JSON.parse(await next()) as T;
  };
  return { send, next, write: (cmd: Record<string, unknown>) => proc.stdin.write(`${JSON.stringify(cmd)}\n`), kill: () => proc.kill() };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** 3. Revoke here → first refusal there. */
async function latency(name: string, tokens: ReturnType<typeof createTokenAccess>, w: Awaited<ReturnType<typeof worker>>) {
  const out: number[] = [];
  for (let i = 0; i < REVOKES; i++) {
    const { token, info } = await tokens.issue({ subject: 'lat', name: `lat ${i}` });
    const warm = await w.send<{ cached: boolean }>({ op: 'warm', token });
    if (!warm.cached) throw new Error(`${name}: the worker did not cache the token`);
    // the worker polls (yielding to I/O between verifies) before the revoke starts
    w.write({ op: 'until', token, code: 'not_found', max: 10_000 });
    await new Promise((r) => setTimeout(r, 2));
    const t0 = now();
    await tokens.revokeById(info.id);
    const r = JSON.parse(await w.next()) as { code: string; at: number };
    if (r.code !== 'not_found') throw new Error(`${name}: not refused within 10 s`);
    out.push(r.at - t0);
  }
  return out;
}

async function main() {
  await lru();
  if (process.env.LRU_ONLY === '1') return;
  const { rPlain, pPlain } = await throughput();

  // the revoking side publishes on the same channels as the workers listen on
  const rChannel = `bench:lat:${tag}`;
  const pChannel = `bench_lat_${tag}`;
  const rFeed = redisInvalidation({ client, channel: rChannel });
  const pFeed = postgresInvalidation({ client: pool, channel: pChannel });
  closers.push(() => rFeed.close(), () => pFeed.close());
  const rTokens = createTokenAccess({ store: redisStore({ client, keyPrefix }), cache: { max: 0, invalidation: rFeed } });
  const pTokens = createTokenAccess({ store: postgresStore({ client: pool, schema }), cache: { max: 0, invalidation: pFeed } });
  void rPlain;
  void pPlain;
  const rw = await worker(here('../../packages/redis/test/workers/invalidation-worker.ts'), here('../../packages/redis/test/workers/tsconfig.json'), { REDIS_URL, KEY_PREFIX: keyPrefix, CHANNEL: rChannel });
  const pw = await worker(here('../../packages/postgres/test/child/invalidation-worker.ts'), here('../../packages/postgres/test/child/tsconfig.json'), { POSTGRES_URL, SCHEMA: schema, CHANNEL: pChannel }, here('../../packages/postgres'));
  try {
    const r = await latency('redis', rTokens, rw);
    const p = await latency('postgres', pTokens, pw);
    header(`bench/cache — revoke-to-refusal across two processes (${REVOKES} revokes each; from calling revokeById to the worker's first refused verify)`);
    const row = (label: string, xs: number[]) => [label, pct(xs, 50), pct(xs, 99), Math.max(...xs), ratio(100 / pct(xs, 99), 1)];
    table([
      ['feed', 'p50 ms', 'p99 ms', 'max ms', '100 ms / p99 (target ≥ 1)'],
      row('Redis pub/sub (redisInvalidation)', r),
      row('Postgres LISTEN/NOTIFY (postgresInvalidation)', p),
    ]);
  } finally {
    rw.kill();
    pw.kill();
  }
}

try {
  await main();
} finally {
  for (const c of closers) await c().catch(() => {});
  await dropKeys(client, keyPrefix);
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await pool.end();
  client.disconnect();
  if (sink === -1) console.log(sink);
}
