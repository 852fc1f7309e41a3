/**
 * Peers benchmark: better-auth's API-key plugin (`auth.api.verifyApiKey`, server side) beside
 * tokenaccess's `tokens.verify`, in one process, in interleaved rounds:
 *
 *   cd bench && npx tsx peers/index.ts        (or `npm run peers -w bench`)
 *
 * (a) better-auth's memory adapter vs tokenaccess memoryStore;
 * (b) the same PostgreSQL: better-auth on its own database (pg Pool → its built-in Kysely
 *     adapter, tables created with its own `getMigrations().runMigrations()`), tokenaccess on its
 *     own schema through @tokenaccess/postgres `migrate()`; statements and writes per verify are
 *     counted by wrapping each pool's clients' `query`;
 * (c) better-auth with Redis as `secondaryStorage` (plugin `storage: 'secondary-storage'`) vs
 *     @tokenaccess/redis, on one ioredis client.
 *
 * For each: verifies/s at concurrency 1 and 64 (median of interleaved rounds), and 200 concurrent
 * verifies of a key limited to 10 uses (exactly 10 should succeed).
 *
 * Throughput runs disable better-auth's rate limiting (the plugin's per-key limiter, default
 * 10 requests a day, and the global HTTP limiter, which `auth.api` calls do not pass through
 * anyway); everything else is the plugin's defaults (hashing on, `deferUpdates: false`).
 * better-auth's logger is silenced: it logs an error for every refused key.
 *
 * Env: TOKENACCESS_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * TOKENACCESS_REDIS_URL (default redis://127.0.0.1:6379), BENCH_KEYS (default 1000).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getMigrations } from 'better-auth/db/migration';
import { apiKey } from '@better-auth/api-key';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { migrate, postgresStore, quoteIdent } from '../../packages/postgres/src/index';
import { compare, dropKeys, header, table } from '../lib';

const PG_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEYS = Number(process.env.BENCH_KEYS ?? 1000); // distinct keys the hot loops cycle through
const ROUNDS = 5;
const USERS = 50; // keys per side are spread over this many users / subjects
const tag = randomBytes(4).toString('hex');
const cleanups: (() => Promise<unknown>)[] = [];

// ---------------------------------------------------------------------------------------------
// Statement counting: every client a pool hands out gets a counting `query`.

interface Counter {
  statements: number;
  writes: number;
  kinds: Map<string, number>;
}
const newCounter = (): Counter => ({ statements: 0, writes: 0, kinds: new Map() });

function countingPool(connectionString: string, counter: Counter, extra: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 16, connectionTimeoutMillis: 5000, ...extra });
  // 57P01: the DROP DATABASE … WITH (FORCE) of the clean-up ending a connection the pool still held
  pool.on('error', (err) => (err as { code?: string }).code === '57P01' || console.error('idle client error', err.message));
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '';
      const kind = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
      counter.statements++;
      counter.kinds.set(kind, (counter.kinds.get(kind) ?? 0) + 1);
      if (kind === 'UPDATE' || kind === 'INSERT' || kind === 'DELETE') counter.writes++;
      return query(...args);
    };
  });
  return pool;
}

// ---------------------------------------------------------------------------------------------
// better-auth

type BetterAuthDb = Parameters<typeof betterAuth>[0]['database'];
type SecondaryStorage = NonNullable<Parameters<typeof betterAuth>[0]['secondaryStorage']>;

function makeBetterAuth(database: BetterAuthDb, opts: { secondaryStorage?: SecondaryStorage; fallbackToDatabase?: boolean; rateLimit: boolean }) {
  return betterAuth({
    baseURL: 'http://localhost:3000',
    secret: 'bench-secret-bench-secret-bench-secret-0123456789',
    database,
    secondaryStorage: opts.secondaryStorage,
    telemetry: { enabled: false },
    logger: { disabled: true },
    rateLimit: { enabled: false }, // the global HTTP limiter (not on the auth.api path)
    plugins: [
      apiKey({
        rateLimit: { enabled: opts.rateLimit },
        ...(opts.secondaryStorage ? { storage: 'secondary-storage' as const, fallbackToDatabase: opts.fallbackToDatabase ?? false } : {}),
      }),
    ],
  });
}
type Auth = ReturnType<typeof makeBetterAuth>;

async function betterAuthUsers(auth: Auth): Promise<string[]> {
  const ctx = await auth.$context;
  const ids: string[] = [];
  for (let i = 0; i < USERS; i++) ids.push((await ctx.internalAdapter.createUser({ email: `bench-${tag}-${i}@example.com`, name: `user ${i}`, emailVerified: true }, { method: 'admin' })).id);
  return ids;
}

/** `n` keys spread over the users (like the tokens, over 50 subjects): a user's key list stays short. */
async function betterAuthKeys(auth: Auth, users: string | string[], n: number, body: Record<string, unknown> = {}): Promise<string[]> {
  const ids = typeof users === 'string' ? [users] : users;
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await auth.api.createApiKey({ body: { userId: ids[i % ids.length]!, name: `bench ${i}`, ...body } });
    keys.push(created.key);
  }
  return keys;
}

const baVerify = (auth: Auth, key: string) =>
  auth.api.verifyApiKey({ body: { key } }).then((r) => {
    if (!r.valid) throw new Error(`better-auth verify failed: ${JSON.stringify(r.error)}`);
  });

// ---------------------------------------------------------------------------------------------
// tokenaccess

type Tokens = ReturnType<typeof createTokenAccess>;

async function tokenaccessKeys(tokens: Tokens, n: number, maxUses?: number): Promise<string[]> {
  const raws: string[] = [];
  for (let i = 0; i < n; i++) raws.push((await tokens.issue({ subject: `user-${i % USERS}`, name: `bench ${i}`, maxUses })).token);
  return raws;
}

const taVerify = (tokens: Tokens, raw: string) =>
  tokens.verify(raw).then((r) => {
    if (!r.ok) throw new Error(`tokenaccess verify failed: ${JSON.stringify(r)}`);
  });

// ---------------------------------------------------------------------------------------------
// The shared parts of every backend

interface Side {
  verify: (i: number) => Promise<unknown>;
  /** 200 concurrent verifies of a fresh key limited to 10 uses; returns how many succeeded. */
  limited: () => Promise<number>;
}

async function burst(n: number, one: () => Promise<boolean>): Promise<number> {
  const results = await Promise.all(Array.from({ length: n }, () => one().catch(() => false)));
  return results.filter(Boolean).length;
}

async function throughput(title: string, ba: Side, ta: Side, note: string): Promise<void> {
  header(title);
  console.log(`${note}\nverifies/s, median of ${ROUNDS} interleaved 1 s rounds, ${KEYS} keys per side (over ${USERS} users) cycled in turn; better-auth rate limiting off.\n`);
  const rows: (string | number)[][] = [['concurrency', 'better-auth verifyApiKey', 'tokenaccess verify', 'tokenaccess / better-auth']];
  for (const concurrency of [1, 64]) {
    const r = await compare(
      [
        { name: 'ba', run: ba.verify },
        { name: 'ta', run: ta.verify },
      ],
      { concurrency, ms: 1000, rounds: ROUNDS },
    );
    rows.push([String(concurrency), r.get('ba')!, r.get('ta')!, `${(r.get('ta')! / r.get('ba')!).toFixed(2)}×`]);
  }
  table(rows);
}

async function limitedTable(cases: [string, Side][]): Promise<void> {
  console.log('\n200 concurrent verifies of one key limited to 10 uses (correct: exactly 10 succeed):\n');
  const rows: (string | number)[][] = [['key', 'succeeded', 'correct']];
  for (const [name, side] of cases) {
    const ok = await side.limited();
    rows.push([name, String(ok), ok === 10 ? 'yes' : 'NO']);
  }
  table(rows);
}

/** Both sides of a backend: verifying its keys round-robin, and a key limited to 10 uses. */
function sides(auth: Auth, baKeys: string[], userId: string, tokens: Tokens, taKeys: string[]): { ba: Side; ta: Side } {
  return {
    ba: {
      verify: (i) => baVerify(auth, baKeys[i % KEYS]!),
      limited: async () => {
        const [key] = await betterAuthKeys(auth, userId, 1, { remaining: 10 });
        return burst(200, () => auth.api.verifyApiKey({ body: { key: key! } }).then((r) => r.valid));
      },
    },
    ta: {
      verify: (i) => taVerify(tokens, taKeys[i % KEYS]!),
      limited: async () => {
        const [raw] = await tokenaccessKeys(tokens, 1, 10);
        return burst(200, () => tokens.verify(raw!).then((r) => r.ok));
      },
    },
  };
}

/** The case of a key held to 10 uses by better-auth's per-key rate limit (10 a day), `remaining` unset. */
function rateLimited(ba: Side, limitedAuth: Auth, userId: string): [string, Side] {
  return [
    'better-auth, per-key rate limit 10 per day (`rateLimitMax: 10`, `remaining` unset)',
    {
      verify: ba.verify,
      limited: async () => {
        const [key] = await betterAuthKeys(limitedAuth, userId, 1, { rateLimitEnabled: true, rateLimitMax: 10, rateLimitTimeWindow: 86_400_000 });
        return burst(200, () => limitedAuth.api.verifyApiKey({ body: { key: key! } }).then((r) => r.valid));
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// (a) memory

async function memory() {
  const db = { user: [], session: [], account: [], verification: [], apikey: [] };
  const auth = makeBetterAuth(memoryAdapter(db), { rateLimit: false });
  const limitedAuth = makeBetterAuth(memoryAdapter(db), { rateLimit: true });
  const users = await betterAuthUsers(auth);
  const userId = users[0]!;
  const baKeys = await betterAuthKeys(auth, users, KEYS);
  const tokens = createTokenAccess({ store: memoryStore() });
  const taKeys = await tokenaccessKeys(tokens, KEYS);

  const { ba, ta } = sides(auth, baKeys, userId, tokens, taKeys);
  await throughput('Peers (a): better-auth memoryAdapter vs tokenaccess memoryStore', ba, ta, 'Both in-process; better-auth through its memory adapter (the one its tests use), tokenaccess through memoryStore().');
  await limitedTable([
    ["better-auth, `remaining: 10` (rate limit off)", ba],
    rateLimited(ba, limitedAuth, userId),
    ['tokenaccess, `maxUses: 10`', ta],
  ]);
}

// ---------------------------------------------------------------------------------------------
// (b) PostgreSQL

/** A new database on the server of PG_URL (dropped at the end); returns its URL. */
async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const dbName = `${name}_${tag}`;
  await admin.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(PG_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
}

async function postgres() {
  const baUrl = await freshDatabase('ba_bench');

  const baCounter = newCounter();
  const taCounter = newCounter();
  const baPool = countingPool(baUrl, baCounter);
  const taPool = countingPool(PG_URL, taCounter);
  cleanups.push(() => baPool.end(), () => taPool.end());

  const auth = makeBetterAuth(baPool, { rateLimit: false });
  const limitedAuth = makeBetterAuth(baPool, { rateLimit: true });
  const migrations = await getMigrations(auth.options);
  await migrations.runMigrations();
  const tables = migrations.toBeCreated.map((t) => t.table).join(', ');

  const schema = `tka_peers_${tag}`;
  cleanups.push(() => taPool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`));
  await migrate(taPool, { schema });
  const tokens = createTokenAccess({ store: postgresStore({ client: taPool, schema }) });

  const users = await betterAuthUsers(auth);
  const userId = users[0]!;
  const baKeys = await betterAuthKeys(auth, users, KEYS);
  const taKeys = await tokenaccessKeys(tokens, KEYS);
  for (const raw of taKeys) await taVerify(tokens, raw); // first use sets lastUsedAt: the steady state is a fresh one

  const { ba, ta } = sides(auth, baKeys, userId, tokens, taKeys);
  const version = (await taPool.query('SHOW server_version')).rows[0].server_version;
  await throughput(
    'Peers (b): better-auth on PostgreSQL (pg Pool → Kysely adapter) vs @tokenaccess/postgres',
    ba,
    ta,
    `PostgreSQL ${version}, one server, two pg Pools (max 16 each); better-auth in its own database (tables ${tables}, created by its getMigrations()), tokenaccess in its own schema (migrate()).`,
  );

  // Statements per verify: 1,000 sequential verifies of keys in their steady state.
  const per = async (counter: Counter, run: (i: number) => Promise<unknown>) => {
    const N = 1000;
    Object.assign(counter, newCounter());
    for (let i = 0; i < N; i++) await run(i);
    const kinds = [...counter.kinds].map(([k, v]) => `${(v / N).toFixed(2)} ${k}`).join(', ');
    return [(counter.statements / N).toFixed(2), (counter.writes / N).toFixed(2), kinds];
  };
  console.log('\nStatements sent per verify (1,000 sequential verifies, counted on the pools\' clients):\n');
  table([
    ['', 'statements / verify', 'writes / verify', 'by kind'],
    ['better-auth verifyApiKey (unlimited key, rate limit off)', ...(await per(baCounter, ba.verify))],
    ['tokenaccess verify (unlimited token, fresh lastUsedAt)', ...(await per(taCounter, ta.verify))],
  ]);

  await limitedTable([
    ["better-auth, `remaining: 10` (rate limit off)", ba],
    rateLimited(ba, limitedAuth, userId),
    ['tokenaccess, `maxUses: 10`', ta],
  ]);
}

// ---------------------------------------------------------------------------------------------
// (c) Redis

async function redis() {
  const client = new Redis(REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
  const baPrefix = `bap${tag}:`;
  const taPrefix = `tkp${tag}:`;
  const drop = (prefix: string) => dropKeys(client, prefix);
  cleanups.push(async () => {
    await drop(baPrefix);
    await drop(taPrefix);
    client.disconnect();
  });
  const commands = { n: 0 };
  // better-auth's SecondaryStorage interface (get / set with a TTL in seconds / delete), on ioredis.
  const secondaryStorage: SecondaryStorage = {
    get: (key) => (commands.n++, client.get(baPrefix + key)),
    set: async (key, value, ttl) => {
      commands.n++;
      if (ttl) await client.set(baPrefix + key, value, 'EX', ttl);
      else await client.set(baPrefix + key, value);
    },
    delete: async (key) => {
      commands.n++;
      await client.del(baPrefix + key);
    },
    // required by the interface (session and rate-limit storage); the API-key plugin does not call them
    getAndDelete: (key) => (commands.n++, client.getdel(baPrefix + key)),
    increment: async (key, ttl) => {
      commands.n++;
      const n = await client.incr(baPrefix + key);
      if (n === 1) await client.expire(baPrefix + key, ttl);
      return n;
    },
  };
  // Users live in the memory adapter: only the API keys are in Redis (storage: 'secondary-storage').
  const db = { user: [], session: [], account: [], verification: [], apikey: [] };
  const auth = makeBetterAuth(memoryAdapter(db), { secondaryStorage, rateLimit: false });
  const limitedAuth = makeBetterAuth(memoryAdapter(db), { secondaryStorage, rateLimit: true });
  const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix: taPrefix }) });

  const users = await betterAuthUsers(auth);
  const userId = users[0]!;
  const baKeys = await betterAuthKeys(auth, users, KEYS);
  const taKeys = await tokenaccessKeys(tokens, KEYS);
  for (const raw of taKeys) await taVerify(tokens, raw);

  const { ba, ta } = sides(auth, baKeys, userId, tokens, taKeys);
  await throughput(
    "Peers (c): better-auth with Redis secondaryStorage (storage: 'secondary-storage') vs @tokenaccess/redis",
    ba,
    ta,
    `${REDIS_URL}, one ioredis client (enableAutoPipelining) shared by both; better-auth's keys only in Redis (its users in the memory adapter).`,
  );
  commands.n = 0;
  for (let i = 0; i < 1000; i++) await ba.verify(i);
  console.log(`\nbetter-auth secondary-storage calls per verify (1,000 sequential verifies): ${(commands.n / 1000).toFixed(2)} (get / set / delete through the SecondaryStorage interface)`);

  await limitedTable([
    ["better-auth, `remaining: 10` (rate limit off)", ba],
    rateLimited(ba, limitedAuth, userId),
    [
      'better-auth, Redis + `fallbackToDatabase: true` (rows in PostgreSQL), `remaining: 10`',
      {
        verify: ba.verify,
        limited: async () => {
          const pool = countingPool(await freshDatabase('ba_bench_fb'), newCounter());
          cleanups.push(() => pool.end());
          const fallback = makeBetterAuth(pool, { secondaryStorage, fallbackToDatabase: true, rateLimit: false });
          await (await getMigrations(fallback.options)).runMigrations();
          const [owner] = await betterAuthUsers(fallback);
          const [key] = await betterAuthKeys(fallback, owner!, 1, { remaining: 10 });
          return burst(200, () => fallback.api.verifyApiKey({ body: { key: key! } }).then((r) => r.valid));
        },
      },
    ],
    ['tokenaccess, `maxUses: 10`', ta],
  ]);
}

try {
  const only = process.argv[2];
  const version = (name: string) => JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  console.log(`better-auth ${version('better-auth')}, @better-auth/api-key ${version('@better-auth/api-key')}, ${process.version}`);
  if (!only || only === 'memory') await memory();
  if (!only || only === 'postgres') await postgres();
  if (!only || only === 'redis') await redis();
} finally {
  for (const c of cleanups.reverse()) await c().catch((err) => console.error('cleanup:', err.message));
}
