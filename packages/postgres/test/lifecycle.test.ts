/**
 * What the conformance suite cannot see from outside: `update` is one statement, a use limit set
 * by an update sends the fast path back to the atomic statement, consumes racing an update
 * return whole records, `list` by `parentId` / `expiringBefore` has an index to use, and a
 * version-1 table upgrades with `migrate()` and keeps its tokens. (Version 3, `disabled_at` and
 * `refill_every`: test/disable-refill.test.ts; version 4, the `rate_*` columns: test/rate-limit.test.ts.)
 */
import { PGlite } from '@electric-sql/pglite';
import { createTokenAccess, newId } from '@tokenaccess/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, migrate, postgresStore, quoteIdent } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, record, testPool } from './helpers';


describe('PGlite, statements as sent', () => {
  const db = new PGlite();
  const sent: string[] = [];
  const recording = {
    query: (text: string, values?: unknown[]) => {
      sent.push(text.split(/\s/, 1)[0]!);
      return db.query(text, values);
    },
  };
  const store = postgresStore({ client: recording });
  const other = postgresStore({ client: db }); // another process, in effect
  beforeAll(() => migrate(db));
  afterAll(() => db.close());

  it('update is one UPDATE statement; an empty patch is one SELECT; NUL is refused before sending', async () => {
    const r = record({ maxUses: 3 });
    await store.insert(r);
    sent.length = 0;
    expect(await store.update!(r.id, { name: 'renamed', maxUses: null, expiresAt: new Date(Date.now() + 60_000) })).toMatchObject({ name: 'renamed', uses: 0 });
    expect(await store.update!(r.id, {})).toMatchObject({ name: 'renamed' });
    expect(await store.update!(newId(Date.now()), { name: 'x' })).toBeNull();
    expect(sent).toEqual(['UPDATE', 'SELECT', 'UPDATE']);
    sent.length = 0;
    await expect(store.update!(r.id, { scopes: ['a\0'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(store.update!(r.id, { metadata: { k: '\0' } })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await store.update!('\0', { name: 'x' })).toBeNull();
    expect(sent).toEqual([]);
  });

  it('a use limit set by an update elsewhere sends the fast path back to the atomic statement', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const tokens = createTokenAccess({ store, clock: () => clock });
    const { token, info } = await tokens.issue({ subject: 'life', name: 'unlimited' });
    expect((await tokens.verify(token)).ok).toBe(true);
    sent.length = 0;
    expect((await tokens.verify(token)).ok).toBe(true);
    expect(sent).toEqual(['SELECT']); // the fast path
    await other.update!(info.id, { maxUses: 2 });
    sent.length = 0;
    const counted = await tokens.verify(token);
    expect(counted.ok && counted.token.uses).toBe(1);
    expect(sent).toEqual(['SELECT', 'WITH']);
    clock += 1;
    expect((await tokens.verify(token)).ok).toBe(true);
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'exhausted' } });
  });
});

describe('PostgreSQL', () => {
  const pool = testPool({ max: 10 });
  const schema = randomSchema('life');
  const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
  const store = postgresStore({ client: pool, schema, timeout: 30_000 });
  beforeAll(() => migrate(pool, { schema }));
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('consumes racing an update that lowers maxUses each return one whole record, and never count past the limit', async () => {
    const r = record({ maxUses: 100 });
    await store.insert(r);
    const consume = () => store.consume(r.hash, new Date(), { lastUsedResolution: 60_000 });
    const first = Array.from({ length: 40 }, consume);
    const lowered = store.update!(r.id, { maxUses: 20, name: 'lowered' });
    const then = Array.from({ length: 40 }, consume);
    const results = await Promise.all([...first, ...then]);
    await lowered;
    let ok = 0;
    for (const res of results) {
      if (!res.ok) {
        expect(res.reason).toBe('exhausted');
        continue;
      }
      ok++;
      expect(res.record.uses).toBeLessThanOrEqual(res.record.maxUses!);
      expect(res.record.name === 'lowered').toBe(res.record.maxUses === 20);
    }
    const stored = await store.findById(r.id);
    expect(stored).toMatchObject({ maxUses: 20, name: 'lowered', uses: ok });
  });

  it('list by parentId and by expiringBefore can use an index (parent_id_idx, expires_at_idx)', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = async (where: string) =>
        (await client.query(`EXPLAIN SELECT * FROM ${table} t WHERE ${where} ORDER BY t.id LIMIT 11`)).rows.map((x) => x['QUERY PLAN']).join('\n');
      expect(await plan(`t.parent_id = 'p'`)).toContain('tokenaccess_tokens_parent_id_idx');
      await client.query('SET LOCAL enable_indexscan = off'); // else the primary key in id order, filtered, wins on an empty table
      expect(await plan(`t.expires_at < 1000::bigint`)).toContain('tokenaccess_tokens_expires_at_idx');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('a version-1 table upgrades with migrate(): its tokens stay, children can be stored and listed', async () => {
    const old = randomSchema('v1');
    const oldTable = `${quoteIdent(old)}.${quoteIdent('tokenaccess_tokens')}`;
    try {
      await migrate(pool, { schema: old });
      // back to exactly what version 1 created, with a token in it (dropping a column drops its index and CHECK)
      await pool.query(`ALTER TABLE ${oldTable} DROP COLUMN parent_id, DROP COLUMN disabled_at, DROP COLUMN refill_every, DROP COLUMN rate_limit, DROP COLUMN rate_window, DROP COLUMN rate_count`);
      await pool.query(`DELETE FROM ${quoteIdent(old)}.tokenaccess_migrations WHERE version > 1`);
      const parent = record();
      await pool.query(
        `INSERT INTO ${oldTable} (id, hash, kind, subject, name, scopes, uses, created_at, hint) VALUES ($1, $2, 'access', $3, 'old', '{*}', 0, $4, 'tka_abcd')`,
        [parent.id, parent.hash, parent.subject, parent.createdAt.getTime()],
      );
      expect(await migrate(pool, { schema: old })).toEqual({ applied: [2, 3, 4], version: SCHEMA_VERSION });
      const upgraded = postgresStore({ client: pool, schema: old });
      expect(await upgraded.findById(parent.id)).toEqual({ ...parent, name: 'old' });
      const child = record({ parentId: parent.id });
      await upgraded.insert(child);
      expect((await upgraded.list({ parentId: parent.id, limit: 10 })).items).toEqual([child]);
    } finally {
      await dropSchema(pool, old);
    }
  });

  it('a pg Client works too (no pool): update through named prepared statements', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    client.on('error', () => {});
    await client.connect();
    try {
      const direct = postgresStore({ client, schema });
      const r = record();
      await direct.insert(r);
      for (let i = 0; i < 3; i++) expect(await direct.update!(r.id, { name: `n${i}`, metadata: { i } })).toMatchObject({ name: `n${i}`, metadata: { i } });
    } finally {
      await client.end();
    }
  });
});
