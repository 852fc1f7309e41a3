/**
 * Derived tokens: cascade at write vs check at verify, measured. `npx tsx bench/lifecycle/index.ts`.
 *
 * A child token must be refused once its parent is revoked, disabled or rotated. Two designs:
 * - **cascade at write** (what core does): the parent's revoke / disable / rotate writes each
 *   descendant; a child's verify reads only its own record (one round trip);
 * - **check at verify**: a child's verify also reads its parent (a second, dependent round trip:
 *   the parent id is known only once the child's record is read, and on Redis Cluster the parent
 *   may live in another slot, so one script cannot read both).
 * Printed per store, in the same run: verify of a parentless token, verify of a child (cascade),
 * verify of a child that also reads its parent (check at verify, simulated with the store's own
 * `findById`), and the write-time price: revoke of a token without children vs the raw delete,
 * and of a parent with 10 children. Redis (TOKENACCESS_REDIS_URL, default local) and Postgres
 * (TOKENACCESS_POSTGRES_URL, default the local test database), on bench-only keys and schemas.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createTokenAccess, type TokenAccess, type TokenStore } from '@tokenaccess/core';
import { migrate, postgresStore } from '../../packages/postgres/src/index';
import { redisStore } from '../../packages/redis/src/index';
import { compare, dropKeys, header, table } from '../lib';

const N = 500;
const tag = randomBytes(4).toString('hex');

async function run(name: string, store: TokenStore) {
  const tokens: TokenAccess = createTokenAccess({ store, lastUsedResolution: '1h' });
  const plain: string[] = [];
  const children: { raw: string; hash: string; parentId: string }[] = [];
  for (let i = 0; i < N; i++) {
    plain.push((await tokens.issue({ subject: `u${i % 20}`, name: 'p', scopes: ['repo:*'] })).token);
    const parent = await tokens.issue({ subject: `u${i % 20}`, name: 'parent', scopes: ['repo:*'] });
    const child = await tokens.derive(parent.info.id, { scopes: ['repo:read'] });
    children.push({ raw: child.token, hash: child.info.hash, parentId: parent.info.id });
  }
  for (const t of [...plain, ...children.map((c) => c.raw)]) await tokens.verify(t);
  const ok = (r: { ok: boolean }) => {
    if (!r.ok) throw new Error('refused');
  };
  const rows: (string | number)[][] = [['case', 'c1 ops/s', 'c64 ops/s', 'c1 vs parentless', 'c64 vs parentless']];
  const results = [];
  for (const concurrency of [1, 64]) {
    results.push(
      await compare(
        [
          { name: 'parentless', run: (i) => tokens.verify(plain[i % N]!).then(ok) },
          { name: 'child, cascade at write', run: (i) => tokens.verify(children[i % N]!.raw).then(ok) },
          {
            name: 'child, parent checked at verify',
            run: (i) =>
              tokens.verify(children[i % N]!.raw).then(async (r) => {
                ok(r);
                if (!(await store.findById(children[i % N]!.parentId))) throw new Error('no parent');
              }),
          },
        ],
        { concurrency, ms: 800, rounds: 5 },
      ),
    );
  }
  for (const c of ['parentless', 'child, cascade at write', 'child, parent checked at verify']) {
    const [a, b] = [results[0]!.get(c)!, results[1]!.get(c)!];
    rows.push([c, a, b, (a / results[0]!.get('parentless')!).toFixed(2), (b / results[1]!.get('parentless')!).toFixed(2)]);
  }
  header(`${name}: verify of derived tokens`);
  table(rows);

  // the write-time price, sequential (an operator's action, not a hot path)
  const time = async (fn: () => Promise<unknown>, n: number) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return ((performance.now() - start) * 1000) / n;
  };
  const victims = await Promise.all(Array.from({ length: 200 }, () => tokens.issue({ subject: 'victim', name: 'v' })));
  const raw = await Promise.all(Array.from({ length: 200 }, () => tokens.issue({ subject: 'victim', name: 'v' })));
  let v = 0;
  let r = 0;
  const revokeUs = await time(() => tokens.revokeById(victims[v++]!.info.id), 200);
  const deleteUs = await time(() => store.deleteById(raw[r++]!.info.id), 200);
  const parents: string[] = [];
  for (let i = 0; i < 30; i++) {
    const p = await tokens.issue({ subject: 'victim', name: 'p' });
    for (let k = 0; k < 10; k++) await tokens.derive(p.info.id);
    parents.push(p.info.id);
  }
  let p = 0;
  const cascadeUs = await time(() => tokens.revokeById(parents[p++]!), 30);
  header(`${name}: what the cascade costs at write time (µs per operation, sequential)`);
  table([
    ['operation', 'µs'],
    ['store.deleteById (the raw delete)', deleteUs],
    ['revokeById, no children (delete + one list of children)', revokeUs],
    ['revokeById, 10 children', cascadeUs],
  ]);
}

const redis = new Redis(process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `tka_bench_life_${tag}:`;
await run('Redis', redisStore({ client: redis, keyPrefix: prefix }));
await dropKeys(redis, prefix);
await redis.quit();

const pool = new pg.Pool({ connectionString: process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 16 });
const schema = `tka_bench_life_${tag}`;
await migrate(pool, { schema });
await run('Postgres', postgresStore({ client: pool, schema }));
await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
await pool.end();
