import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, migrate, postgresStore, quoteIdent } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, testPool } from './helpers';

const pool = testPool({ max: 8 });
afterAll(() => pool.end());

describe('migrate (PostgreSQL)', () => {
  it('creates the schema once: a second run applies nothing', async () => {
    const schema = randomSchema('mig');
    try {
      expect(SCHEMA_VERSION).toBe(4);
      expect(await migrate(pool, { schema })).toEqual({ applied: [1, 2, 3, 4], version: SCHEMA_VERSION });
      expect(await migrate(pool, { schema })).toEqual({ applied: [], version: SCHEMA_VERSION });
      const { rows } = await pool.query(`SELECT table_name, version FROM ${quoteIdent(schema)}.tokenaccess_migrations ORDER BY version`);
      expect(rows).toEqual([
        { table_name: 'tokenaccess_tokens', version: 1 },
        { table_name: 'tokenaccess_tokens', version: 2 },
        { table_name: 'tokenaccess_tokens', version: 3 },
        { table_name: 'tokenaccess_tokens', version: 4 },
      ]);
    } finally {
      await dropSchema(pool, schema);
    }
  });

  it('8 migrations at once on separate connections: one applies, all succeed, the schema is whole', async () => {
    const schema = randomSchema('mig');
    const clients = await Promise.all(Array.from({ length: 8 }, () => new pg.Client({ connectionString: POSTGRES_URL })));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const results = await Promise.all(clients.map((c) => migrate(c, { schema })));
      expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
      expect(results.every((r) => r.version === SCHEMA_VERSION)).toBe(true);
      const { rows } = await pool.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tokenaccess_tokens' ORDER BY indexname`,
        [schema],
      );
      expect(rows.map((r) => r.indexname)).toEqual([
        'tokenaccess_tokens_expires_at_idx',
        'tokenaccess_tokens_hash_key',
        'tokenaccess_tokens_idle_idx',
        'tokenaccess_tokens_limited_idx',
        'tokenaccess_tokens_parent_id_idx',
        'tokenaccess_tokens_pkey',
        'tokenaccess_tokens_subject_id_idx',
      ]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      await dropSchema(pool, schema);
    }
  });

  it('keeps several token tables in one schema apart, with names that need quoting', async () => {
    const schema = randomSchema('mig');
    const tables = ['tokens', `we'ird "name"; DROP TABLE x; --`];
    try {
      for (const table of tables) expect((await migrate(pool, { schema, table })).applied).toEqual([1, 2, 3, 4]);
      const stores = tables.map((table) => postgresStore({ client: pool, schema, table }));
      const { rows } = await pool.query(`SELECT DISTINCT table_name FROM ${quoteIdent(schema)}.tokenaccess_migrations ORDER BY 1`);
      expect(rows.map((r) => r.table_name).sort()).toEqual([...tables].sort());
      expect(await stores[1]!.list({ limit: 10 })).toEqual({ items: [] });
    } finally {
      await dropSchema(pool, schema);
    }
  });

  it('a 48-byte table name (the longest allowed) gets every index and named constraint under its own, untruncated name', async () => {
    const schema = randomSchema('mig');
    const table = 'x'.repeat(48);
    try {
      expect((await migrate(pool, { schema, table })).applied).toEqual([1, 2, 3, 4]);
      const { rows } = await pool.query(
        `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass UNION SELECT indexname FROM pg_indexes WHERE schemaname = $2 AND tablename = $3`,
        [`${quoteIdent(schema)}.${quoteIdent(table)}`, schema, table],
      );
      // (PostgreSQL names version 1's inline column CHECKs itself, truncating as it must)
      const names = rows.map((r) => r.conname as string);
      const named = ['expires_at_idx', 'hash_key', 'idle_idx', 'limited_idx', 'parent_id_idx', 'pkey', 'rate_check', 'refill_check', 'subject_id_idx', 'url_check'];
      expect(names).toEqual(expect.arrayContaining(named.map((suffix) => `${table}_${suffix}`)));
    } finally {
      await dropSchema(pool, schema);
    }
  });

  it('rejects names PostgreSQL would truncate or cannot hold', async () => {
    await expect(migrate(pool, { table: 'x'.repeat(49) })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(migrate(pool, { schema: 'a\0b' })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(() => postgresStore({ client: pool, table: '' })).toThrow(/table must be a non-empty string/);
  });

  it('a store on a table that was never migrated throws unavailable with a hint', async () => {
    const store = postgresStore({ client: pool, schema: randomSchema('none') });
    await expect(store.findById('x')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/run migrate\(\) first/) });
  });
});

describe('migrate (PGlite)', () => {
  it('migrates, is idempotent, and runs concurrent calls one after the other', async () => {
    const db = new PGlite();
    try {
      const results = await Promise.all([migrate(db), migrate(db), migrate(db, { schema: 'other' })]);
      expect(results.map((r) => r.applied)).toEqual([[1, 2, 3, 4], [], [1, 2, 3, 4]]);
      expect(await migrate(db)).toEqual({ applied: [], version: SCHEMA_VERSION });
    } finally {
      await db.close();
    }
  }, 90_000); // a fresh PGlite takes seconds to start, many more on a loaded machine
});
