/**
 * Running at scale: Redis and PostgreSQL with many stored tokens (docs/scale.md).
 *
 * For each store: issue SCALE_TOKENS tokens (default 1e6; half expire within the hour, half in
 * 90 days), and print bytes per token, the issue rate, verify p50/p99 at 1e3 vs SCALE_TOKENS
 * stored (two stores measured in interleaved rounds), the sweep of the expired half (time, and
 * verify p99 in the sweeping process during it, against before it), and for Redis the largest
 * key as % of the store's bytes; for Postgres the dead tuples the sweep leaves and what VACUUM
 * does with them.
 *
 *   npm run scale -w bench                     SCALE_TOKENS=200000 SCALE_STORES=redis npm run scale -w bench
 *   SCALE_STORES=layouts npm run scale -w bench   (what each Redis structure costs per token, and smaller forms)
 *
 * The sweep runs with the stores' defaults unless told: SCALE_SWEEP_PACE (`full` or a share,
 * both stores), SCALE_SWEEP_CONCURRENCY and SCALE_SWEEP_PAUSE (Redis), SCALE_SWEEP_STEP
 * (Postgres). The settings before the duty cycle: SCALE_SWEEP_PACE=full SCALE_SWEEP_STEP=1000.
 *
 * Redis: two private redis-servers on free loopback ports (so memory figures are this run's
 * alone). Postgres: bench-only schemas on TOKENACCESS_POSTGRES_URL, dropped at the end; the
 * first SCALE_PG_ISSUE tokens (default 50,000) go through `issue` (the issue rate), the rest are
 * bulk-loaded in the store's row format.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createTokenAccess, type TokenAccess } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { migrate, postgresStore, quoteIdent } from '../../packages/postgres/src/index';
import { fmt, header, table } from '../lib';

const N = Number(process.env.SCALE_TOKENS ?? 1_000_000);
const STORES = (process.env.SCALE_STORES ?? 'redis,postgres').split(',');
const PG_ISSUE = Math.min(N, Number(process.env.SCALE_PG_ISSUE ?? 50_000));
const PROBES = 1000;
const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (name: string) => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]);
/** The sweep settings from the environment; unset ones are left to the store's defaults. */
const SWEEP = {
  pace: env('SCALE_SWEEP_PACE') === 'full' ? ('full' as const) : env('SCALE_SWEEP_PACE') === undefined ? undefined : Number(env('SCALE_SWEEP_PACE')),
  concurrency: env('SCALE_SWEEP_CONCURRENCY') === undefined ? undefined : Number(env('SCALE_SWEEP_CONCURRENCY')),
  pause: env('SCALE_SWEEP_PAUSE') === undefined ? undefined : Number(env('SCALE_SWEEP_PAUSE')),
  step: env('SCALE_SWEEP_STEP') === undefined ? undefined : Number(env('SCALE_SWEEP_STEP')),
};
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const show = (o: object) => Object.entries(o).map(([k, v]) => `${k} ${String(v ?? 'default')}`).join(', ');

// ---------------------------------------------------------------- measuring

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** Verifies the probes one after the other (concurrency 1) until `until()`; latencies in ms. */
async function verifyLoop(tokens: TokenAccess, raws: string[], until: () => boolean, max = Infinity): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; !until() && out.length < max; i++) {
    const t0 = performance.now();
    const r = await tokens.verify(raws[i % raws.length]!);
    out.push(performance.now() - t0);
    if (!r.ok) throw new Error(`verify failed: ${r.error.code}`);
  }
  return out;
}

/** p50/p99 of verifies against two stores, in interleaved rounds of 1,000 (a noisy moment hits both). */
async function latencyAt(a: [TokenAccess, string[]], b: [TokenAccess, string[]], rounds = 10) {
  const la: number[] = [];
  const lb: number[] = [];
  await verifyLoop(a[0], a[1], () => false, 500);
  await verifyLoop(b[0], b[1], () => false, 500);
  for (let r = 0; r < rounds; r++) {
    la.push(...(await verifyLoop(a[0], a[1], () => false, 1000)));
    lb.push(...(await verifyLoop(b[0], b[1], () => false, 1000)));
  }
  return { a: { p50: pct(la, 0.5), p99: pct(la, 0.99) }, b: { p50: pct(lb, 0.5), p99: pct(lb, 0.99) } };
}

/** Issues `n` tokens with `concurrency` in flight; `shape(i)` gives each one's options. Returns tokens/s. */
async function issueMany(tokens: TokenAccess, n: number, shape: (i: number) => Issue, concurrency = 64): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      await tokens.issue(shape(i));
      if (i % 50_000 === 0 && performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        process.stderr.write(`  … ${i.toLocaleString('en-US')} issued\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (n * 1000) / (performance.now() - t0);
}

/**
 * Sweeps while verifying in the same process: sweep time, and verify p50/p99 outside the sweep
 * (5 s just before it and 5 s just after it, so a drift in the machine's load hits both sides)
 * and during it.
 */
async function sweepUnderLoad(tokens: TokenAccess, raws: string[], sweep: () => Promise<number>) {
  // 5 s a side: a short baseline misses the machine's own hiccups
  const until = performance.now() + 5000;
  const before = await verifyLoop(tokens, raws, () => performance.now() > until);
  let done = false;
  const t0 = performance.now();
  const during = verifyLoop(tokens, raws, () => done);
  const deleted = await sweep();
  const ms = performance.now() - t0;
  done = true;
  const lat = await during;
  const end = performance.now() + 5000;
  const after = await verifyLoop(tokens, raws, () => performance.now() > end);
  const outside = [...before, ...after];
  return { deleted, ms, before: { p50: pct(outside, 0.5), p99: pct(outside, 0.99) }, during: { p50: pct(lat, 0.5), p99: pct(lat, 0.99), n: lat.length } };
}

/** SCALE_SWEEP_AB rounds: the old full-speed sweep against the current settings, alternating. */
const AB = Number(env('SCALE_SWEEP_AB') ?? 0);

/**
 * A/B rounds in one process: before each sweep, `refill()` puts back an expired half, then the
 * sweep runs with `stores.old` or `stores.new` (the order alternates by round), and the table
 * prints each sweep and the median ratio per setting. The same machine moments hit both.
 */
async function sweepAB(tokens: TokenAccess, raws: string[], stores: { old: { sweep(now: Date): Promise<number> }; new: { sweep(now: Date): Promise<number> } }, refill: (round: number, mode: string) => Promise<void>) {
  if (!(AB > 0)) return;
  const rows: (string | number)[][] = [];
  const ratios: Record<string, number[]> = { old: [], new: [] };
  for (let r = 0; r < AB; r++) {
    for (const mode of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      await refill(r, mode);
      process.stderr.write(`  A/B round ${r + 1}: ${mode} sweep …\n`);
      const s = await sweepUnderLoad(tokens, raws, () => stores[mode].sweep(new Date(Date.now() + 2 * HOUR)));
      ratios[mode]!.push(s.during.p99 / s.before.p99);
      rows.push([String(r + 1), mode, s.deleted.toLocaleString('en-US'), s.ms / 1000, s.before.p99, s.during.p99, (s.during.p99 / s.before.p99).toFixed(2), osLoad()]);
    }
  }
  console.log(`\nA/B sweeps in one process (old: sweepPace full at the old step; new: ${show(SWEEP)}):\n`);
  table([['round', 'setting', 'deleted', 'sweep s', 'verify p99 outside ms', 'verify p99 during ms', 'during / outside', 'load 1 min'], ...rows]);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(`\nmedian p99 during / outside: old ${median(ratios.old!).toFixed(2)}, new ${median(ratios.new!).toFixed(2)} (target ≤ 3)`);
}

const osLoad = () => loadavg()[0]!.toFixed(1);

type Issue = Parameters<TokenAccess['issue']>[0];
const shape = (i: number): Issue => ({ subject: `user-${i % 100_000}`, name: "John's MacBook Air", scopes: ['users:read'], expiresIn: i % 2 === 0 ? '1h' : '90d' });
const probe = (i: number): Issue => ({ subject: `probe-${i % 100}`, name: "John's MacBook Air", scopes: ['users:read'], expiresIn: '90d' });

async function probes(tokens: TokenAccess): Promise<string[]> {
  const raws: string[] = [];
  for (let i = 0; i < PROBES; i++) raws.push((await tokens.issue(probe(i))).token);
  for (const raw of raws) await tokens.verify(raw); // lastUsedAt fresh: no writes from here on
  return raws;
}

// ---------------------------------------------------------------- Redis

const servers: { child: ChildProcess; dir: string }[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function redisServer(): Promise<Redis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tka-scale-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  servers.push({ child, dir });
  for (let i = 0; ; i++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    const up = await probe.connect().then(() => probe.ping(), () => null);
    probe.disconnect();
    if (up === 'PONG') break;
    if (i > 100) throw new Error(`redis-server on ${port} did not start`);
    await sleep(100);
  }
  const client = new Redis({ port, host: '127.0.0.1', enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 30_000 });
  return client;
}

const usedMemory = async (c: Redis) => Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);

/** MEMORY USAGE of every key, grouped by what the key is; and the largest key. */
async function keyBytes(c: Redis, prefix: string) {
  const groups = new Map<string, { bytes: number; keys: number }>();
  let largest = { key: '', bytes: 0 };
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    const sizes = await Promise.all(keys.map((k) => c.memory('USAGE', k, 'SAMPLES', 0)));
    keys.forEach((k, i) => {
      const bytes = Number(sizes[i] ?? 0);
      const rest = k.slice(prefix.length);
      const group = rest.startsWith('t:') ? 't:{hash} (records)' : rest.startsWith('i:') ? 'i:<n> (id map, 16,384 hashes)' : rest.startsWith('s:') ? 's:{subject} (zsets)' : rest.startsWith('p:') ? 'p:{parent} (zsets)' : rest.startsWith('{ix:') ? (rest.endsWith('}') ? '{ix:<b>} (directories)' : rest.endsWith(':n') ? '{ix:<b>}:n (leaf counters)' : '{ix:<b>}:<n> (index leaves)') : rest;
      const g = groups.get(group) ?? { bytes: 0, keys: 0 };
      g.bytes += bytes;
      g.keys++;
      groups.set(group, g);
      total += bytes;
      if (bytes > largest.bytes) largest = { key: k, bytes };
    });
  } while (cursor !== '0');
  return { groups, largest, total };
}

async function redisScale() {
  const prefix = 'tka:';
  const [smallClient, bigClient] = [await redisServer(), await redisServer()];
  const version = /redis_version:(\S+)/.exec(await bigClient.info('server'))![1];
  const small = createTokenAccess({ store: redisStore({ client: smallClient, keyPrefix: prefix }), lastUsedResolution: '1h' });
  const sweep = { sweepPace: SWEEP.pace, sweepConcurrency: SWEEP.concurrency, sweepPause: SWEEP.pause };
  const bigStore = redisStore({ client: bigClient, keyPrefix: prefix, ...defined(sweep) });
  const big = createTokenAccess({ store: bigStore, lastUsedResolution: '1h' });

  header(`Redis at scale: ${N.toLocaleString('en-US')} tokens (Redis ${version}, ioredis auto-pipelining, private servers on loopback)`);
  const smallRaws = await probes(small);
  const mem0 = await usedMemory(bigClient);
  const bigRaws = await probes(big);
  process.stderr.write(`redis: issuing ${(N - PROBES).toLocaleString('en-US')} …\n`);
  const rate = await issueMany(big, N - PROBES, shape);
  const mem1 = await usedMemory(bigClient);
  const keys = await keyBytes(bigClient, prefix);
  console.log(`issue rate: ${fmt(rate)} tokens/s (64 in flight, one process); INFO used_memory delta: ${fmt((mem1 - mem0) / N)} B per token\n`);
  const order = [...keys.groups.keys()].sort();
  table([
    ['key', 'keys', 'bytes per token (MEMORY USAGE)'],
    ...order.map((g) => [g, keys.groups.get(g)!.keys.toLocaleString('en-US'), keys.groups.get(g)!.bytes / N]),
    ['total', [...keys.groups.values()].reduce((a, g) => a + g.keys, 0).toLocaleString('en-US'), keys.total / N],
  ]);
  console.log(`\nlargest key: ${keys.largest.key} ${fmt(keys.largest.bytes)} B = ${((100 * keys.largest.bytes) / keys.total).toFixed(2)}% of the store's bytes (target ≤ 5%)`);

  const lat = await latencyAt([small, smallRaws], [big, bigRaws]);
  console.log('\nverify latency, concurrency 1, 10 interleaved rounds of 1,000:\n');
  table([
    ['stored tokens', 'p50 ms', 'p99 ms'],
    [PROBES.toLocaleString('en-US'), lat.a.p50, lat.a.p99],
    [N.toLocaleString('en-US'), lat.b.p50, lat.b.p99],
  ]);
  console.log(`\n1e6/1e3: p50 ${(lat.b.p50 / lat.a.p50).toFixed(2)}, p99 ${(lat.b.p99 / lat.a.p99).toFixed(2)} (1.00 = flat)`);
  // a page of `list` without a subject: every bucket's leaves merged in id order
  const pageMs: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const page = await big.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    pageMs.push(performance.now() - t);
    cursor = page.cursor;
  }
  console.log(`list, pages of 100 (no subject: the buckets merged), 20 in a row: median ${fmt(pct(pageMs, 0.5))} ms, slowest ${fmt(Math.max(...pageMs))} ms`);

  process.stderr.write('redis: sweeping …\n');
  const s = await sweepUnderLoad(big, bigRaws, () => bigStore.sweep(new Date(Date.now() + 2 * HOUR)));
  const mem2 = await usedMemory(bigClient);
  console.log(`\nsweep of the expired half (sweep(now + 2 h), default batchSize 1000, ${show(sweep)}):\n`);
  table([
    ['deleted', 'sweep s', 'tokens/s', 'verify p50 outside ms', 'verify p99 outside ms', 'verify p50 during ms', 'verify p99 during ms', 'p99 during / outside (target ≤ 3)'],
    [s.deleted.toLocaleString('en-US'), s.ms / 1000, (s.deleted * 1000) / s.ms, s.before.p50, s.before.p99, s.during.p50, s.during.p99, (s.during.p99 / s.before.p99).toFixed(2)],
  ]);
  console.log(`\n${s.during.n.toLocaleString('en-US')} verifies during the sweep; used_memory after it: ${fmt((mem2 - mem0) / (N - s.deleted))} B per remaining token`);
  await sweepAB(big, bigRaws, { old: redisStore({ client: bigClient, keyPrefix: prefix, sweepPace: 'full', sweepConcurrency: 4 }), new: bigStore }, async () => {
    await issueMany(big, Math.floor(N / 2), (i) => shape(2 * i)); // expires within the hour
  });
  await smallClient.quit();
  await bigClient.quit();
}

// ---------------------------------------------------------------- Postgres

const URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pool = new pg.Pool({ connectionString: URL, max: 16, connectionTimeoutMillis: 10_000 });
pool.on('error', (err) => console.error('idle client error', err.message));
const schemas: string[] = [];
const tag = randomBytes(4).toString('hex');
const tableOf = (schema: string) => `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;

const pgSweep = { sweepPace: SWEEP.pace, sweepStep: SWEEP.step };

async function pgScale() {
  const mk = async (name: string) => {
    const schema = `tka_scale_${tag}_${name}`;
    schemas.push(schema);
    await migrate(pool, { schema });
    const store = postgresStore({ client: pool, schema, ...defined(pgSweep) });
    return { schema, store, tokens: createTokenAccess({ store, lastUsedResolution: '1h' }) };
  };
  const small = await mk('small');
  const big = await mk('big');
  const version = (await pool.query('SHOW server_version')).rows[0].server_version as string;
  header(`PostgreSQL at scale: ${N.toLocaleString('en-US')} tokens (PostgreSQL ${version}, pg Pool max 16)`);
  const smallRaws = await probes(small.tokens);
  const bigRaws = await probes(big.tokens);
  process.stderr.write(`postgres: issuing ${(PG_ISSUE - PROBES).toLocaleString('en-US')} …\n`);
  const rate = await issueMany(big.tokens, PG_ISSUE - PROBES, shape, 32);
  const rest = N - PG_ISSUE;
  const t = tableOf(big.schema);
  const now = Date.now();
  const loadStart = performance.now();
  for (let from = 0; from < rest; from += 200_000) {
    const n = Math.min(200_000, rest - from);
    // the store's row shape: half expire within the hour, half in 90 days, 100,000 subjects
    await pool.query(
      `INSERT INTO ${t} (id, hash, kind, subject, name, scopes, created_at, hint, expires_at)
       SELECT '00' || lpad(g::text, 24, '0'), encode(sha256(('bulk-${tag}-' || g)::bytea), 'hex'), 'access', 'user-' || (g % 100000),
              'John''s MacBook Air', ARRAY['users:read'], $2::bigint, 'tka_bulk',
              CASE WHEN g % 2 = 0 THEN $2::bigint + ${HOUR} ELSE $2::bigint + ${90 * 24 * HOUR} END
       FROM generate_series($1::int + 1, $1::int + $3::int) AS g`,
      [from, now, n],
    );
  }
  const loadS = (performance.now() - loadStart) / 1000;
  await pool.query(`VACUUM ANALYZE ${t}`);
  const sizes = async () => (await pool.query(`SELECT pg_table_size($1::regclass) AS t, pg_indexes_size($1::regclass) AS i, (SELECT count(*) FROM ${t}) AS n`, [t])).rows[0] as { t: string; i: string; n: string };
  const sz = await sizes();
  const n = Number(sz.n);
  console.log(`issue rate: ${fmt(rate)} tokens/s through issue (32 in flight); ${rest.toLocaleString('en-US')} more bulk-loaded in ${loadS.toFixed(1)} s\n`);
  table([
    ['rows', 'table B per token', 'indexes B per token', 'total B per token'],
    [n.toLocaleString('en-US'), Number(sz.t) / n, Number(sz.i) / n, (Number(sz.t) + Number(sz.i)) / n],
  ]);

  const lat = await latencyAt([small.tokens, smallRaws], [big.tokens, bigRaws]);
  console.log('\nverify latency, concurrency 1, 10 interleaved rounds of 1,000:\n');
  table([
    ['stored tokens', 'p50 ms', 'p99 ms'],
    [PROBES.toLocaleString('en-US'), lat.a.p50, lat.a.p99],
    [n.toLocaleString('en-US'), lat.b.p50, lat.b.p99],
  ]);
  console.log(`\nbig/small: p50 ${(lat.b.p50 / lat.a.p50).toFixed(2)}, p99 ${(lat.b.p99 / lat.a.p99).toFixed(2)} (1.00 = flat)`);

  process.stderr.write('postgres: sweeping …\n');
  const s = await sweepUnderLoad(big.tokens, bigRaws, () => big.store.sweep(new Date(Date.now() + 2 * HOUR)));
  console.log(`\nsweep of the expired half (sweep(now + 2 h), default batchSize 1000, ${show(pgSweep)}):\n`);
  table([
    ['deleted', 'sweep s', 'tokens/s', 'verify p50 outside ms', 'verify p99 outside ms', 'verify p50 during ms', 'verify p99 during ms', 'p99 during / outside (target ≤ 3)'],
    [s.deleted.toLocaleString('en-US'), s.ms / 1000, (s.deleted * 1000) / s.ms, s.before.p50, s.before.p99, s.during.p50, s.during.p99, (s.during.p99 / s.before.p99).toFixed(2)],
  ]);

  // dead tuples after the sweep, and what VACUUM does with them
  await sleep(2000); // the statistics collector flushes about once a second
  const stat = async () =>
    (await pool.query(`SELECT n_dead_tup, n_live_tup, pg_table_size(relid) AS t, pg_indexes_size(relid) AS i FROM pg_stat_user_tables WHERE relid = $1::regclass`, [t])).rows[0] as Record<string, string>;
  const afterSweep = await stat();
  const v0 = performance.now();
  await pool.query(`VACUUM ${t}`);
  const vacuumS = (performance.now() - v0) / 1000;
  await sleep(2000);
  const afterVacuum = await stat();
  const f0 = performance.now();
  await pool.query(`VACUUM FULL ${t}`);
  const fullS = (performance.now() - f0) / 1000;
  const afterFull = await stat();
  const mb = (b: string) => (Number(b) / 1048576).toFixed(1);
  console.log('\ndead tuples and space after the sweep:\n');
  table([
    ['state', 'n_live_tup', 'n_dead_tup', 'table MB', 'indexes MB', 'took s'],
    ['after the sweep', afterSweep.n_live_tup!, afterSweep.n_dead_tup!, mb(afterSweep.t!), mb(afterSweep.i!), s.ms / 1000],
    ['after VACUUM', afterVacuum.n_live_tup!, afterVacuum.n_dead_tup!, mb(afterVacuum.t!), mb(afterVacuum.i!), vacuumS],
    ['after VACUUM FULL', afterFull.n_live_tup!, afterFull.n_dead_tup!, mb(afterFull.t!), mb(afterFull.i!), fullS],
  ]);
  const av = await pool.query(`SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_threshold', 'autovacuum_vacuum_cost_limit', 'autovacuum_naptime') ORDER BY name`);
  console.log(`\nserver autovacuum settings: ${av.rows.map((r: { name: string; setting: string }) => `${r.name}=${r.setting}`).join(', ')}`);
  const oldStore = postgresStore({ client: pool, schema: big.schema, sweepPace: 'full', sweepStep: 1000 });
  await sweepAB(big.tokens, bigRaws, { old: oldStore, new: big.store }, async (round, mode) => {
    await pool.query(
      `INSERT INTO ${t} (id, hash, kind, subject, name, scopes, created_at, hint, expires_at)
       SELECT 'ab' || $4::text || lpad(g::text, 24, '0'), encode(sha256(('ab-${tag}-' || $4::text || '-' || g)::bytea), 'hex'), 'access', 'user-' || (g % 100000),
              'John''s MacBook Air', ARRAY['users:read'], $2::bigint, 'tka_bulk', $2::bigint + ${HOUR}
       FROM generate_series($1::int + 1, $1::int + $3::int) AS g`,
      [0, Date.now(), Math.floor(N / 2), `${round}${mode}`],
    );
    await pool.query(`VACUUM ANALYZE ${t}`);
  });
}

// ---------------------------------------------------------------- Redis: what each layout element costs

/**
 * `SCALE_STORES=layouts`: what one token costs in each Redis structure the layout uses, and in the
 * smaller forms a later layout could use, on a private server (`INFO used_memory` delta over
 * 100,000 synthetic entries with the store's member and value shapes; jemalloc size classes make
 * these steps, not lines). Backs the "what would close the gap" table in docs/scale.md.
 */
async function layoutCosts() {
  const c = await redisServer();
  const n = 100_000;
  const id = (i: number) => `01JD3V8Q4Z${String(i).padStart(16, '0')}`;
  const hex = (i: number) => `${'a'.repeat(58)}${String(i).padStart(6, '0')}`;
  const b64 = (i: number) => `${'a'.repeat(37)}${String(i).padStart(6, '0')}`;
  const deadline = Date.now() + HOUR;
  const rows: (string | number)[][] = [['structure', 'B per token']];
  const trial = async (name: string, add: (p: ReturnType<Redis['pipeline']>, i: number) => void) => {
    await c.flushall();
    const before = await usedMemory(c);
    for (let start = 0; start < n; start += 5000) {
      const p = c.pipeline();
      for (let i = start; i < Math.min(n, start + 5000); i++) add(p, i);
      await p.exec();
    }
    rows.push([name, ((await usedMemory(c)) - before) / n]);
  };
  // the record: `tka:t:{<64 hex>}`, a value like the bench token's (about 150 bytes), PXAT
  await trial('record: 72-byte key, 150-byte value, PXAT (layouts v2 and v3)', (p, i) => p.set(`tka:t:{${hex(i)}}`, 'v'.repeat(150), 'PXAT', deadline));
  await trial('record: 51-byte key (base64url hash), 110-byte value (positional body), PXAT', (p, i) => p.set(`tka:t:{${b64(i)}}`, 'v'.repeat(110), 'PXAT', deadline));
  await trial('id map: 16,384 hashes, id → 43-character hash (layout v2)', (p, i) => p.hset(`tka:i:${i % 16_384}`, id(i), 'x'.repeat(43)));
  await trial('subject zsets, 10 tokens each (layouts v2 and v3)', (p, i) => p.zadd(`tka:s:{user-${Math.floor(i / 10)}}`, 0, `${id(i)}\u0000a`));
  await trial('all: 16 zsets, skiplist (layout v2)', (p, i) => p.zadd(`tka:{all:${i % 16}}`, 0, `${id(i)}\u0000a`));
  await trial('all: 1,024 small zsets, listpack', (p, i) => p.zadd(`tka:{all:${i % 16}}:${i % 1024}`, 0, `${id(i)}\u0000a`));
  await trial('exp: 16 zsets, skiplist (layout v2)', (p, i) => p.zadd(`tka:{exp:${i % 16}}`, deadline + i, `${id(i)}\u0000a\u0000user-${i % 10_000}`));
  await trial('exp: 1,024 small zsets, listpack', (p, i) => p.zadd(`tka:{exp:${i % 16}}:${i % 1024}`, deadline + i, `${id(i)}\u0000a\u0000user-${i % 10_000}`));
  c.disconnect();
  header(`Redis: bytes per token by structure (${n.toLocaleString('en-US')} entries each, INFO used_memory delta)`);
  table(rows);
  console.log('\nlayout v3 (the token index that replaced the id map, all and exp): measured on the real store, `SCALE_STORES=redis`.');
}

// ---------------------------------------------------------------- main

try {
  if (STORES.includes('layouts')) await layoutCosts();
  if (STORES.includes('redis')) await redisScale();
  if (STORES.includes('postgres')) await pgScale();
} finally {
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`).catch(() => undefined);
  await pool.end();
  for (const s of servers) {
    s.child.kill('SIGKILL');
    await rm(s.dir, { recursive: true, force: true });
  }
}
