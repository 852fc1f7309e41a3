/**
 * The common case writes nothing: verifying an unlimited token whose lastUsedAt is fresh makes
 * no tuple update. Proven three ways: the table's cumulative statistics (flushed on demand with
 * pg_stat_force_next_flush(), PostgreSQL 15+), the per-transaction statistics read inside the
 * transaction that ran the verifies (synchronous, any version), and the row's physical version
 * (xmin and ctid) staying the same. Each measurement first shows it does see a write.
 */
import { PGlite } from '@electric-sql/pglite';
import { createTokenAccess } from '@tokenaccess/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStore, quoteIdent } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema } from './helpers';

type Q = { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

async function setup(client: Q, schema: string, fastPathSize?: number) {
  await migrate(client, { schema });
  // A fixed clock keeps lastUsedAt fresh however slow a loaded machine runs the loop.
  const now = new Date();
  const tokens = createTokenAccess({ store: postgresStore({ client, schema, timeout: 60_000, fastPathSize }), clock: () => now, timeout: 60_000 });
  const fresh = await tokens.issue({ subject: 'writer', name: 'unlimited', scopes: ['users:read'] });
  const counted = await tokens.issue({ subject: 'writer', name: 'counted', maxUses: 5000 });
  const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
  const version = async (hash: string) =>
    (await client.query(`SELECT xmin::text AS xmin, ctid::text AS ctid FROM ${table} WHERE hash = $1`, [hash])).rows[0];
  // The first verify touches lastUsedAt (never used): one write, before any measurement.
  expect((await tokens.verify(fresh.token)).ok).toBe(true);
  return { tokens, fresh, counted, table, version };
}

const verifyMany = async (tokens: ReturnType<typeof createTokenAccess>, token: string, n: number) => {
  for (let i = 0; i < n; i++) {
    const r = await tokens.verify(token, { scopes: ['users:read'] });
    if (!r.ok) throw new Error(`verify ${i} failed: ${r.error.code}`);
  }
};

// fastPathSize 0: every verification runs the UPDATE statement, which must match nothing.
// The default: after the first, verifications of the token are plain reads.
describe.each([
  ['the UPDATE statement every time (fastPathSize: 0)', 0],
  ['the default fast path', undefined],
] as const)('no writes for a fresh unlimited token (PostgreSQL), %s', (_, fastPathSize) => {
  // One connection, so every statement of the store runs in the backend whose statistics we flush.
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => {});
  const schema = randomSchema('writes');
  let s: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    await client.connect();
    s = await setup(client, schema, fastPathSize);
  });
  afterAll(async () => {
    await dropSchema(client, schema);
    await client.end();
  });

  const tableStats = async () => {
    // Flushed when this backend next goes idle, i.e. right after this statement.
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query(
      `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relid = $1::regclass`,
      [s.table],
    );
    return rows[0] as { upd: number; hot: number };
  };

  it('pg_stat_user_tables: 1,000 verifies add no n_tup_upd / n_tup_hot_upd (and one counted use adds one)', async () => {
    const { server_version_num } = (await client.query('SHOW server_version_num')).rows[0];
    expect(Number(server_version_num)).toBeGreaterThanOrEqual(150000); // pg_stat_force_next_flush()

    const a = await tableStats();
    expect((await s.tokens.verify(s.counted.token)).ok).toBe(true); // positive control: one write
    const b = await tableStats();
    expect(b.upd - a.upd, 'updates seen for one counted use').toBe(1);

    const before = await s.version(s.fresh.info.hash);
    await verifyMany(s.tokens, s.fresh.token, 1000);
    const c = await tableStats();
    expect(c.upd - b.upd, 'updates by 1,000 verifies').toBe(0);
    expect(c.hot - b.hot, 'HOT updates by 1,000 verifies').toBe(0);
    expect(await s.version(s.fresh.info.hash)).toEqual(before);
  });

  it('pg_stat_xact_user_tables, read inside the transaction that ran 1,000 verifies: 0 updates', async () => {
    const xact = async () =>
      (await client.query(`SELECT n_tup_upd::int AS upd FROM pg_stat_xact_user_tables WHERE relid = $1::regclass`, [s.table])).rows[0]!
        .upd as number;
    await client.query('BEGIN');
    try {
      const start = await xact();
      await verifyMany(s.tokens, s.fresh.token, 1000);
      const afterVerifies = await xact();
      expect((await s.tokens.verify(s.counted.token)).ok).toBe(true); // positive control
      const afterCounted = await xact();
      expect(afterVerifies - start).toBe(0);
      expect(afterCounted - afterVerifies).toBe(1);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});

describe('no writes for a fresh unlimited token (PGlite, fastPathSize: 0)', () => {
  const db = new PGlite();
  const schema = randomSchema('writes');
  afterAll(() => db.close());

  it('the row version (xmin, ctid) is unchanged by 1,000 verifies, and changes on a counted use', async () => {
    const s = await setup(db, schema, 0);
    const before = await s.version(s.fresh.info.hash);
    await verifyMany(s.tokens, s.fresh.token, 1000);
    expect(await s.version(s.fresh.info.hash)).toEqual(before);

    const counted = await s.version(s.counted.info.hash);
    expect((await s.tokens.verify(s.counted.token)).ok).toBe(true);
    expect(await s.version(s.counted.info.hash)).not.toEqual(counted);
    await dropSchema(db, schema);
  });
});
