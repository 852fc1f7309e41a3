/**
 * PostgreSQL store benchmark: `npx tsx bench/postgres/index.ts` from the repo root.
 *
 * - verify (core + store) against a raw `SELECT … WHERE hash = $1` on the same pool, in the same
 *   run, at concurrency 1 and 64, with the ratio (target ≥ 0.8); beside it the store's consume
 *   alone, on the fast path (a plain read) and always through the atomic UPDATE statement;
 * - verify latency at 1e3 and at 1e6 stored tokens (two tables measured in interleaved rounds;
 *   the 1e6 rows are bulk-loaded with one `INSERT … SELECT generate_series`), and the plans.
 *
 * Uses bench-only schemas on TOKENACCESS_POSTGRES_URL (default: the local test database) and
 * drops them at the end. Set BENCH_ROWS to change the big table's size.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTokenAccess } from '@tokenaccess/core';
import { migrate, postgresStore, quoteIdent } from '../../packages/postgres/src/index';
import { compare, header, ratio, table } from '../lib';

const URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKENS = 1000; // distinct tokens the hot loops cycle through
const BIG = Number(process.env.BENCH_ROWS ?? 1_000_000);

const pool = new pg.Pool({ connectionString: URL, max: 16, connectionTimeoutMillis: 5000 });
pool.on('error', (err) => console.error('idle client error', err.message));
const tag = randomBytes(4).toString('hex');
const schemas: string[] = [];
const tableOf = (schema: string) => `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;

/** A schema with TOKENS unlimited tokens, each verified once (so lastUsedAt is fresh). */
async function fixture(name: string) {
  const schema = `tka_bench_${tag}_${name}`;
  schemas.push(schema);
  await migrate(pool, { schema });
  const store = postgresStore({ client: pool, schema });
  const atomic = postgresStore({ client: pool, schema, fastPathSize: 0 });
  // A long resolution keeps every lastUsedAt fresh for the whole run, so each phase measures the
  // no-write path (with the default 60 s, a phase starting a minute later would write once per token).
  const tokens = createTokenAccess({ store, lastUsedResolution: '1h' });
  const raws: string[] = [];
  const hashes: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const { token, info } = await tokens.issue({ subject: `user-${i % 50}`, name: `bench ${i}`, scopes: ['users:read', 'files:*'] });
    raws.push(token);
    hashes.push(info.hash);
  }
  for (const raw of raws) assertOk(await tokens.verify(raw));
  const rawText = `SELECT * FROM ${tableOf(schema)} WHERE hash = $1`;
  const policy = { lastUsedResolution: 3_600_000, scopes: { mode: 'all' as const, anyOf: [['*', 'users:read', 'u*', 'users:*']] } };
  return {
    schema,
    store,
    tokens,
    raws,
    hashes,
    verify: (i: number) => tokens.verify(raws[i % TOKENS]!, { scopes: ['users:read'] }).then(assertOk),
    consume: (i: number) => store.consume(hashes[i % TOKENS]!, new Date(), policy),
    consumeAtomic: (i: number) => atomic.consume(hashes[i % TOKENS]!, new Date(), policy),
    raw: (i: number) => pool.query(rawText, [hashes[i % TOKENS]]),
    rawPrepared: (i: number) => pool.query({ name: `raw_${schema}`, text: rawText, values: [hashes[i % TOKENS]] }),
  };
}

async function main() {
  const small = await fixture('small');
  header('@tokenaccess/postgres: verify vs raw SELECT (pg Pool, max 16)');
  console.log(`PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}; ${TOKENS} unlimited tokens with a fresh lastUsedAt (no writes); median of 7 interleaved 1 s rounds.`);
  console.log("raw SELECT = `pool.query('SELECT * FROM … WHERE hash = $1', [hash])`, parsed and planned by the server on every call; prepared = the same with a statement `name`, as the store sends its own.\n");
  const rows: (string | number)[][] = [
    ['concurrency', 'verify', 'store.consume (fast path)', 'store.consume (UPDATE statement)', 'raw SELECT', 'raw SELECT, prepared', 'verify / raw', 'verify / raw prepared'],
  ];
  for (const concurrency of [1, 64]) {
    const cases = [
      { name: 'verify', run: small.verify },
      { name: 'consume', run: small.consume },
      { name: 'atomic', run: small.consumeAtomic },
      { name: 'raw', run: small.raw },
      { name: 'rawPrepared', run: small.rawPrepared },
    ];
    const r = await compare(cases, { concurrency, ms: 1000, rounds: 7 });
    const v = r.get('verify')!;
    rows.push([String(concurrency), v, r.get('consume')!, r.get('atomic')!, r.get('raw')!, r.get('rawPrepared')!, ratio(v / r.get('raw')!, 0.8), ratio(v / r.get('rawPrepared')!, 0.8)]);
  }
  console.log('ops/s:\n');
  table(rows);

  // Writes made by 1,000 verifies of a fresh unlimited token, through the UPDATE statement (0 expected).
  const t = tableOf(small.schema);
  const atomicTokens = createTokenAccess({ store: postgresStore({ client: pool, schema: small.schema, fastPathSize: 0 }) });
  const fresh = await atomicTokens.issue({ subject: 'fresh', name: 'fresh' });
  assertOk(await atomicTokens.verify(fresh.token)); // the first use touches lastUsedAt
  const version = async () => (await pool.query(`SELECT xmin::text AS xmin, ctid::text AS ctid FROM ${t} WHERE hash = $1`, [fresh.info.hash])).rows[0];
  const before = await version();
  for (let i = 0; i < 1000; i++) assertOk(await atomicTokens.verify(fresh.token));
  const after = await version();
  console.log(`\n1,000 verifies of one fresh unlimited token through the UPDATE statement: row version ctid ${before.ctid} xmin ${before.xmin} → ctid ${after.ctid} xmin ${after.xmin} (${before.xmin === after.xmin && before.ctid === after.ctid ? 'no write' : 'WRITTEN'})`);

  // Latency against table size: a second table with the same tokens plus BIG bulk rows.
  const big = await fixture('big');
  const loadStart = performance.now();
  await pool.query(
    `INSERT INTO ${tableOf(big.schema)} (id, hash, kind, subject, name, scopes, created_at, hint)
     SELECT '00' || lpad(g::text, 24, '0'), encode(sha256(('bulk-' || g)::bytea), 'hex'), 'access', 'bulk-' || (g % 100000),
            'bulk', ARRAY['users:read'], (extract(epoch FROM now()) * 1000)::bigint, 'tka_bulk'
     FROM generate_series(1, $1::int) AS g`,
    [BIG],
  );
  const loadMs = performance.now() - loadStart;
  await pool.query(`VACUUM ANALYZE ${tableOf(big.schema)}`);
  await pool.query(`VACUUM ANALYZE ${tableOf(small.schema)}`);
  const count = async (s: string) => Number((await pool.query(`SELECT count(*) AS n FROM ${tableOf(s)}`)).rows[0].n);
  const [nSmall, nBig] = [await count(small.schema), await count(big.schema)];

  header(`verify latency: ${nSmall.toLocaleString('en-US')} vs ${nBig.toLocaleString('en-US')} stored tokens (concurrency 1)`);
  const r = await compare(
    [
      { name: 'verify small', run: small.verify },
      { name: 'verify big', run: big.verify },
      { name: 'atomic small', run: small.consumeAtomic },
      { name: 'atomic big', run: big.consumeAtomic },
      { name: 'raw small', run: small.rawPrepared },
      { name: 'raw big', run: big.rawPrepared },
    ],
    { concurrency: 1, ms: 1000, rounds: 7 },
  );
  const us = (k: string) => 1e6 / r.get(k)!;
  table([
    ['stored tokens', 'verify µs', 'store.consume (UPDATE statement) µs', 'raw SELECT, prepared µs', 'verify / raw prepared'],
    [nSmall.toLocaleString('en-US'), us('verify small'), us('atomic small'), us('raw small'), ratio(us('raw small') / us('verify small'), 0.8)],
    [nBig.toLocaleString('en-US'), us('verify big'), us('atomic big'), us('raw big'), ratio(us('raw big') / us('verify big'), 0.8)],
  ]);
  console.log(
    `\nverify latency ${nBig.toLocaleString('en-US')} / ${nSmall.toLocaleString('en-US')} rows: ${(us('verify big') / us('verify small')).toFixed(2)}, UPDATE statement: ${(us('atomic big') / us('atomic small')).toFixed(2)} (1.00 = flat). Bulk load of ${BIG.toLocaleString('en-US')} rows: ${(loadMs / 1000).toFixed(1)} s.`,
  );

  // The plans at 1e6 rows, with the parameters a verify sends.
  for (const [title, fastPathSize] of [
    ['the UPDATE statement', 0],
    ['the fast path', undefined],
  ] as const) {
    const q = captureConsume(big.schema, big.hashes[1]!, fastPathSize);
    const plan = await pool.query(`EXPLAIN (COSTS OFF) ${q.text}`, q.values);
    console.log(`\nEXPLAIN, ${title} (${nBig.toLocaleString('en-US')} rows):\n\n\`\`\``);
    for (const row of plan.rows) console.log(row['QUERY PLAN']);
    console.log('```');
  }
}

/** Runs one consume through a recording client to get its exact SQL and parameters. */
function captureConsume(schema: string, hash: string, fastPathSize: number | undefined): { text: string; values: unknown[] } {
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder = {
    query: async (text: string, values?: unknown[]) => {
      captured = { text, values: values ?? [] };
      return { rows: [] };
    },
  };
  const policy = { lastUsedResolution: 60_000, scopes: { mode: 'all' as const, anyOf: [['*', 'users:read', 'u*', 'users:*']] } };
  if (fastPathSize === 0) void postgresStore({ client: recorder, schema, fastPathSize }).consume(hash, new Date(), policy);
  else void postgresStore({ client: recorder, schema }).findByHash(hash); // what the fast path sends
  if (!captured) throw new Error('no query captured');
  return captured;
}

function assertOk(r: { ok: boolean }) {
  if (!r.ok) throw new Error(`verify failed: ${JSON.stringify(r)}`);
}

try {
  await main();
} finally {
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  await pool.end();
}
