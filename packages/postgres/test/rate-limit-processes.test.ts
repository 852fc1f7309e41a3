/**
 * Rate limits across processes: 4 Node processes, each with its own pg Pool and its own
 * `createTokenAccess`, verify one token with `rateLimit: { limit: 100, window: '1h' }` 50 times
 * each, all at once. Exactly 100 verifications pass in total, the other 100 are `rate_limited`,
 * and the row holds `rate_count` 100 (read with plain SQL). The same with the verify cache on
 * (ttl 1 h, fed by LISTEN / NOTIFY): the cache never serves a rate-limited token.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTokenAccess } from '@tokenaccess/core';
import { startCacheWorker } from 'test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStore, quoteIdent } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, testPool } from './helpers';

const PROCESSES = 4;
const VERIFIES = 50;
const LIMIT = 100;

const pool = testPool();
afterAll(() => pool.end());

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** A worker process: burst-worker.ts (cache off) or invalidation-worker.ts (cache on, ttl 1 h). */
const worker = (cache: boolean, schema: string) =>
  startCacheWorker({
    file: here(cache ? './child/invalidation-worker.ts' : './child/burst-worker.ts'),
    tsconfig: here('./child/tsconfig.json'),
    cwd: here('..'),
    env: { POSTGRES_URL, SCHEMA: schema, CHANNEL: `tka_rl_${randomBytes(5).toString('hex')}`, TTL: '3600000' },
  });

describe.each([
  ['cache off', false],
  ['cache on (ttl 1 h)', true],
] as const)('rate limit exact across %s', (label, cache) => {
  const schema = randomSchema('rlprocs');
  beforeAll(() => migrate(pool, { schema }));
  afterAll(() => dropSchema(pool, schema));

  it(`${PROCESSES} processes x ${VERIFIES} parallel verifies of a token limited to ${LIMIT} per hour, ${label}: exactly ${LIMIT} pass`, async () => {
    const store = postgresStore({ client: pool, schema });
    const { token, info } = await createTokenAccess({ store }).issue({ subject: 'procs', name: 'limited', rateLimit: { limit: LIMIT, window: '1h' } });
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => worker(cache, schema)));
    try {
      const counts = await Promise.all(workers.map((w) => w.send<Record<string, number>>({ op: 'burst', token, n: VERIFIES })));
      const total = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
      expect(total('ok')).toBe(LIMIT);
      expect(total('rate_limited')).toBe(PROCESSES * VERIFIES - LIMIT);
      // through a second reader: the count as the table holds it, and no use was spent
      const { rows } = await pool.query(`SELECT rate_count, uses::int AS uses FROM ${quoteIdent(schema)}.tokenaccess_tokens WHERE id = $1`, [info.id]);
      expect(rows).toEqual([{ rate_count: LIMIT, uses: 0 }]);
      expect(await store.findById(info.id)).toMatchObject({ rateLimit: { limit: LIMIT, window: 3_600_000 }, rateCount: LIMIT });
    } finally {
      for (const w of workers) w.kill();
    }
  }, 120_000);
});
