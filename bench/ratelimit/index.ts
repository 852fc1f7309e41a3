/**
 * bench/ratelimit: per-token rate limits, native counting in the store's atomic consume step
 * (one round trip) against rate-limiter-flexible beside an ordinary verify (two round trips),
 * measured in the same run on real Redis and Postgres:
 *
 * (a) the raw driver read: Redis `GET` of a value of the record's size, Postgres prepared
 *     `SELECT … WHERE hash = $1` (the floor of any verify);
 * (b) verify of an unlimited token whose lastUsedAt is fresh (one read, no write);
 * (c) verify of a rate-limited token, native: `rateLimit: { limit: 1e9, window: '1h' }`, so it
 *     never refuses and every verify is an atomic count (a write). Postgres: one UPDATE. Redis,
 *     by default (`readFirst`), one EVALSHA once the store has seen the token is counted (its
 *     first read is a GET); (c') is the same with `readFirst: false`, always one EVALSHA;
 * (d) verify of an unlimited token, then rate-limiter-flexible's `consume(tokenId)`
 *     (`RateLimiterRedis` on the same ioredis client, `RateLimiterPostgres` on the same pg Pool);
 * (e) rate-limiter-flexible's `consume` alone (what (d) adds to (b)).
 *
 * Ops/s is the median of interleaved rounds (lib.ts's scheme); p50 / p99 are per-operation
 * latencies over all measured rounds. Then a correctness check, printed, not asserted: four
 * processes each fire 50 concurrent verifies (or consumes) of one token against a limit of 100.
 *
 *   npm run ratelimit -w bench        (TOKENACCESS_REDIS_URL, TOKENACCESS_POSTGRES_URL; ROUNDS=5, MS=1000)
 *   PROBE=1 npm run ratelimit -w bench   only checks that both stores honour rateLimit (exit 2 if not)
 *   STORES=redis npm run ratelimit -w bench   one store only
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTokenAccess, type TokenAccess, type TokenStore } from '@tokenaccess/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { migrate, postgresStore, quoteIdent } from '../../packages/postgres/src/index';
import { redisStore } from '../../packages/redis/src/index';
import { dropKeys, header, table } from '../lib';

const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MS = Number(process.env.MS ?? 1000);
const TOKENS = 1000;
/** The correctness check: PROCS processes × PER_PROC concurrent calls against a limit of LIMIT. */
const PROCS = 4;
const PER_PROC = 50;
const LIMIT = 100;
const RL_TABLE = 'rlflx';
/** Which stores to run (`STORES=redis` for one): both by default. */
const STORES = (process.env.STORES ?? 'redis,postgres').split(',') as ('redis' | 'postgres')[];

type StoreName = 'redis' | 'postgres';

/** What one process opens: the clients, a store on them and a rate-limiter-flexible limiter per store. */
function open(tag: { keyPrefix: string; schema: string }, points: number) {
  const client = new Redis(REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 16, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  const stores: Record<StoreName, TokenStore> = {
    redis: redisStore({ client, keyPrefix: tag.keyPrefix }),
    postgres: postgresStore({ client: pool, schema: tag.schema }),
  };
  const limiters = (created: boolean) => ({
    // keys land under the store's prefix, so dropKeys removes them too
    redis: new RateLimiterRedis({ storeClient: client, keyPrefix: `${tag.keyPrefix}rlflx`, points, duration: 3600 }),
    // ready when its table exists (the callback runs synchronously when `tableCreated` is set)
    postgres: (async () => {
      let done!: (err?: unknown) => void;
      const ready = new Promise<void>((resolve, reject) => (done = (err) => (err ? reject(err) : resolve())));
      const l = new RateLimiterPostgres({ storeClient: pool, schemaName: tag.schema, tableName: RL_TABLE, points, duration: 3600, tableCreated: created, clearExpiredByTimeout: false }, (err?: unknown) => done(err));
      await ready;
      return l;
    })(),
  });
  return { client, pool, stores, limiters, close: async () => (await pool.end(), client.disconnect()) };
}

/** Runs `fn` with `concurrency` calls in flight for `ms`; returns ops/s and pushes each call's µs to `lat`. */
async function measure(fn: (i: number) => Promise<unknown>, concurrency: number, ms: number, lat?: number[]): Promise<number> {
  let done = 0;
  let i = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await fn(i++);
      lat?.push((performance.now() - t0) * 1000);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (done * 1000) / (performance.now() - start);
}

interface Cell {
  ops: number;
  p50: number;
  p99: number;
}
const pick = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Interleaved rounds (A B C … A B C …) as in lib.ts's `compare`, with latencies kept. */
async function compareTimed(cases: { name: string; run: (i: number) => Promise<unknown> }[], concurrency: number): Promise<Map<string, Cell>> {
  for (const c of cases) await measure(c.run, concurrency, 500);
  const ops = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const lat = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) ops.get(c.name)!.push(await measure(c.run, concurrency, MS, lat.get(c.name)!));
  return new Map(
    cases.map((c) => {
      const o = [...ops.get(c.name)!].sort((a, b) => a - b);
      const l = lat.get(c.name)!.sort((a, b) => a - b);
      return [c.name, { ops: o[Math.floor(o.length / 2)]!, p50: pick(l, 50), p99: pick(l, 99) }];
    }),
  );
}

/** Runs `fn(0 … n-1)` with 32 in flight (setup only: a fresh record per call), results in order. */
async function parallel<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return out;
}

/** Whether a store honours rateLimit: a limit of 2 must refuse the third verify as `rate_limited`. */
async function honours(store: TokenStore): Promise<string | undefined> {
  const tokens = createTokenAccess({ store });
  const { token, info } = await tokens.issue({ subject: 'probe', name: 'probe', rateLimit: { limit: 2, window: '1h' } });
  const codes = [];
  for (let i = 0; i < 3; i++) {
    const r = await tokens.verify(token);
    codes.push(r.ok ? 'ok' : r.error.code);
  }
  const back = await store.findById(info.id);
  if (codes.join() !== 'ok,ok,rate_limited') return `verifies gave ${codes.join(', ')}`;
  if (back?.rateLimit?.limit !== 2 || back.rateCount !== 2) return `record holds rateLimit ${JSON.stringify(back?.rateLimit)}, rateCount ${back?.rateCount}`;
  return undefined;
}

/** One store's throughput table. */
async function throughput(name: StoreName, env: ReturnType<typeof open>, limiter: RateLimiterAbstract, read: (i: number) => Promise<unknown>, hashes: string[], prepare?: () => Promise<void>, scriptOnly?: TokenStore) {
  const store = env.stores[name];
  const tokens: TokenAccess = createTokenAccess({ store, lastUsedResolution: '1h' });
  const direct = scriptOnly && createTokenAccess({ store: scriptOnly, lastUsedResolution: '1h' });
  const plain: { raw: string; id: string }[] = [];
  const limited: string[] = [];
  const issued = await parallel(TOKENS, (i) =>
    Promise.all([
      tokens.issue({ subject: `u${i % 50}`, name: "John's MacBook Air", scopes: ['users:read', 'files:*'] }),
      tokens.issue({ subject: `u${i % 50}`, name: "John's MacBook Air", scopes: ['users:read', 'files:*'], rateLimit: { limit: 1e9, window: '1h' } }),
    ]),
  );
  for (const [p, l] of issued) {
    plain.push({ raw: p.token, id: p.info.id });
    hashes.push(p.info.hash);
    limited.push(l.token);
  }
  // lastUsedAt written once (so (b) is a plain read), and every limiter key created
  await parallel(TOKENS, (i) => Promise.all([tokens.verify(plain[i]!.raw), tokens.verify(limited[i]!), limiter.consume(plain[i]!.id)]));
  await prepare?.();

  const ok = (r: { ok: boolean }) => {
    if (!r.ok) throw new Error(`${name}: verify refused`);
  };
  const floor = name === 'redis' ? 'raw GET, same-size value' : 'prepared SELECT by hash';
  const cases = [
    { name: `(a) ${floor}`, run: read },
    { name: '(b) verify, unlimited token', run: (i: number) => tokens.verify(plain[i % TOKENS]!.raw, { scopes: ['users:read'] }).then(ok) },
    { name: `(c) verify, rate-limited, **native**${direct ? ' (store default: one EVALSHA once the token is known counted)' : ' (one UPDATE)'}`, run: (i: number) => tokens.verify(limited[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) },
    ...(direct ? [{ name: "(c') verify, rate-limited, native, `readFirst: false` (one EVALSHA)", run: (i: number) => direct.verify(limited[i % TOKENS]!, { scopes: ['users:read'] }).then(ok) }] : []),
    {
      name: '(d) verify + rate-limiter-flexible consume (2 round trips)',
      run: (i: number) =>
        tokens.verify(plain[i % TOKENS]!.raw, { scopes: ['users:read'] }).then((r) => {
          ok(r);
          return limiter.consume(plain[i % TOKENS]!.id);
        }),
    },
    { name: '(e) rate-limiter-flexible consume alone', run: (i: number) => limiter.consume(plain[i % TOKENS]!.id) },
  ];
  const rows: (string | number)[][] = [['c', 'case', 'ops/s', 'p50 µs', 'p99 µs', 'vs (a)', 'vs (b)']];
  const ratios: string[] = [];
  for (const concurrency of [1, 64]) {
    const m = await compareTimed(cases, concurrency);
    const of = (tag: string) => m.get(cases.find((k) => k.name.startsWith(tag))!.name)!.ops;
    const [a, b, c, d] = ['(a)', '(b)', '(c)', '(d)'].map(of);
    for (const k of cases) {
      const v = m.get(k.name)!;
      rows.push([String(concurrency), k.name, v.ops, v.p50, v.p99, (v.ops / a!).toFixed(2), (v.ops / b!).toFixed(2)]);
    }
    const c1 = direct ? `, (c')/(d) = ${(of("(c')") / d!).toFixed(2)}, (c')/(a) = ${(of("(c')") / a!).toFixed(2)}` : '';
    ratios.push(`c${concurrency}: (c)/(d) = ${(c! / d!).toFixed(2)}, (c)/(a) = ${(c! / a!).toFixed(2)}, (d)/(a) = ${(d! / a!).toFixed(2)}${c1}`);
  }
  header(`bench/ratelimit — ${name === 'redis' ? 'Redis' : 'Postgres'}: native rate limit vs rate-limiter-flexible (${TOKENS} tokens cycled, scope check; median of ${ROUNDS} interleaved ${MS} ms rounds)`);
  table(rows);
  console.log(`\n${ratios.join('\n')}`);
}

/** A correctness worker process: reads commands on stdin, fires PER_PROC calls at once, answers counts. */
async function workerMain() {
  const env = open({ keyPrefix: process.env.KEY_PREFIX!, schema: process.env.SCHEMA! }, LIMIT);
  const limiters = env.limiters(true);
  const rl: Record<StoreName, RateLimiterAbstract> = { redis: limiters.redis, postgres: await limiters.postgres };
  const access: Record<StoreName, TokenAccess> = { redis: createTokenAccess({ store: env.stores.redis }), postgres: createTokenAccess({ store: env.stores.postgres }) };
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { store: StoreName; mode: 'native' | 'rlflx'; token?: string; key?: string };
    const calls = Array.from({ length: PER_PROC }, () =>
      cmd.mode === 'native'
        ? access[cmd.store].verify(cmd.token!).then((r) => (r.ok ? 'ok' : r.error.code))
        : rl[cmd.store].consume(cmd.key!).then(
            () => 'ok',
            (e: unknown) => (e instanceof RateLimiterRes ? 'rate_limited' : `error: ${String(e)}`),
          ),
    );
    const out: Record<string, number> = {};
    for (const c of await Promise.all(calls)) out[c] = (out[c] ?? 0) + 1;
    console.log(JSON.stringify(out));
  }
  await env.close();
}

/** Spawns PROCS workers (this file with RL_WORKER=1) and returns a function that runs one command on all at once. */
async function workers(tag: { keyPrefix: string; schema: string }) {
  const procs = await Promise.all(
    Array.from({ length: PROCS }, async () => {
      const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, RL_WORKER: '1', KEY_PREFIX: tag.keyPrefix, SCHEMA: tag.schema },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: proc.stdout });
      const waiting: ((l: string) => void)[] = [];
      const queue: string[] = [];
      lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
      let exited = false;
      // a worker that dies fails the bench rather than leaving it waiting for a line
      proc.on('exit', (code) => {
        exited = true;
        for (const w of waiting.splice(0)) w(`exit ${code}`);
      });
      const next = () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : exited ? resolve('exit') : waiting.push(resolve)));
      const first = await next();
      if (first !== 'ready') throw new Error(`worker did not start (${first})`);
      return { proc, next };
    }),
  );
  const run = async (cmd: Record<string, unknown>) => {
    for (const p of procs) p.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const out: Record<string, number> = {};
    for (const p of procs) {
      const line = await p.next();
      if (!line.startsWith('{')) throw new Error(`worker failed (${line})`);
      for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, number>)) out[k] = (out[k] ?? 0) + v;
    }
    return out;
  };
  return { run, kill: () => procs.forEach((p) => p.proc.kill()) };
}

async function correctness(tag: { keyPrefix: string; schema: string }, env: ReturnType<typeof open>) {
  const w = await workers(tag);
  const rl: Record<StoreName, RateLimiterAbstract> = { redis: env.limiters(true).redis, postgres: await env.limiters(true).postgres };
  // exact: LIMIT admitted, never more; a call may also fail closed (`unavailable`, the store's 2 s
  // timeout) while it queues on the token's row lock, which admits nothing and is shown apart
  const verdict = (n: Record<string, number>) => {
    const other = Object.keys(n).filter((k) => !['ok', 'rate_limited', 'unavailable'].includes(k));
    return n.ok === LIMIT && other.length === 0 ? 'yes' : `NO ${JSON.stringify(n)}`;
  };
  const cells = (n: Record<string, number>) => [String(n.ok ?? 0), String(n.rate_limited ?? 0), String(n.unavailable ?? 0)];
  const rows: (string | number)[][] = [['store', 'counter', 'admitted', 'refused (rate_limited)', 'failed closed (unavailable)', 'count stored after', `exactly ${LIMIT} admitted`]];
  try {
    for (const name of STORES) {
      const tokens = createTokenAccess({ store: env.stores[name] });
      const { token, info } = await tokens.issue({ subject: 'race', name: 'race', rateLimit: { limit: LIMIT, window: '1h' } });
      const n = await w.run({ store: name, mode: 'native', token });
      const stored = (await env.stores[name].findById(info.id))?.rateCount;
      rows.push([name, 'native (rateLimit)', ...cells(n), `rateCount ${stored}`, verdict(n)]);
      const key = `race-${randomBytes(4).toString('hex')}`;
      const f = await w.run({ store: name, mode: 'rlflx', key });
      const res = await rl[name].get(key);
      rows.push([name, 'rate-limiter-flexible', ...cells(f), `consumedPoints ${res?.consumedPoints}`, verdict(f)]);
    }
  } finally {
    w.kill();
  }
  header(`bench/ratelimit — correctness: ${PROCS} processes × ${PER_PROC} concurrent calls on one token, limit ${LIMIT} per hour`);
  table(rows);
}

async function main() {
  const started = performance.now();
  const t = randomBytes(4).toString('hex');
  const tag = { keyPrefix: `brl${t}:`, schema: `tka_bench_rl_${t}` };
  const env = open(tag, 1e9);
  try {
    await migrate(env.pool, { schema: tag.schema });
    const broken = (await Promise.all(STORES.map(async (s) => [s, await honours(env.stores[s])] as const))).filter(([, why]) => why);
    if (broken.length) {
      for (const [s, why] of broken) console.error(`${s} store does not honour rateLimit yet: ${why}`);
      process.exitCode = 2;
      return;
    }
    if (process.env.PROBE) return console.log(`${STORES.join(' and ')} honour rateLimit`);

    const lim = env.limiters(false);
    const pgLimiter = await lim.postgres; // creates its table (in the bench schema) before any timing

    // Redis: the raw read is a GET of a value the size of a stored record (sized once the tokens exist)
    const rawKey = `${tag.keyPrefix}raw`;
    const redisHashes: string[] = [];
    if (STORES.includes('redis')) await throughput('redis', env, lim.redis, () => env.client.get(rawKey), redisHashes, async () => {
      const size = (await env.client.get(`${tag.keyPrefix}t:{${redisHashes[0]}}`))?.length;
      if (!size) throw new Error('redis: no stored record to size the raw value by');
      await env.client.set(rawKey, 'x'.repeat(size));
    }, redisStore({ client: env.client, keyPrefix: tag.keyPrefix, readFirst: false }));

    const hashes: string[] = [];
    const selectText = `SELECT * FROM ${quoteIdent(tag.schema)}.${quoteIdent('tokenaccess_tokens')} WHERE hash = $1`;
    if (STORES.includes('postgres')) await throughput('postgres', env, pgLimiter, (i) => env.pool.query({ name: `brl_${t}`, text: selectText, values: [hashes[i % TOKENS]] }), hashes);

    await correctness(tag, env);
    console.log(`\n(whole bench: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await dropKeys(env.client, tag.keyPrefix);
    await env.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(tag.schema)} CASCADE`);
    await env.close();
  }
}

if (process.env.RL_WORKER) await workerMain();
else await main();
