/**
 * `rateLimit` and `rateCount` in the table (schema version 4: `rate_limit`, `rate_window`,
 * `rate_count`), seen through a second reader (plain SQL), on PostgreSQL and PGlite: what insert,
 * update and consume write, that a rate-limited refusal writes nothing (its tuple stays the
 * same), the CHECK that keeps consume's window arithmetic sound, and a version-3 table with
 * tokens upgrading in place (no rewrite, no bigger rows), its tokens verifying as before.
 */
import { PGlite } from '@electric-sql/pglite';
import { type TokenInfo, createTokenAccess, memoryStore } from '@tokenaccess/core';
import type { TokenStore } from '@tokenaccess/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, migrate, postgresStore, quoteIdent } from '../src/index';
import { insertValues } from '../src/row';
import { dropSchema, randomSchema, record, testPool } from './helpers';

const HOUR = 3_600_000;
const plain = { lastUsedResolution: 60_000 };
type Q = { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

const pool = testPool({ max: 10 });
const lite = new PGlite();
// PGlite's start-up can hold the event loop for seconds: not while pg connections are opening
beforeAll(() => lite.waitReady, 90_000);
afterAll(async () => {
  await pool.end();
  await lite.close();
});

describe.each([
  ['PostgreSQL', () => pool as unknown as Q],
  ['PGlite', () => lite as unknown as Q],
] as const)('%s', (_, client) => {
  const schema = randomSchema('rate');
  const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
  let store: TokenStore;
  beforeAll(async () => {
    await migrate(client(), { schema });
    store = postgresStore({ client: client(), schema, timeout: 30_000 });
    return () => dropSchema(client(), schema);
  });
  const raw = async (id: string) =>
    (
      await client().query(
        `SELECT rate_limit, rate_window::text AS rate_window, rate_count, uses::int AS uses, last_used_at::text AS last_used_at, xmin::text AS xmin, ctid::text AS ctid FROM ${table} WHERE id = $1`,
        [id],
      )
    ).rows[0];

  it('insert and update write rate_limit, rate_window (ms) and rate_count; null clears the limit and keeps the count', async () => {
    const r = record({ rateLimit: { limit: 10, window: HOUR }, rateCount: 3, lastUsedAt: new Date(Date.now() - 10) });
    await store.insert(r);
    expect(await raw(r.id)).toMatchObject({ rate_limit: 10, rate_window: String(HOUR), rate_count: 3 });
    expect(await store.update!(r.id, { rateLimit: { limit: 20, window: 2 * HOUR }, name: 'renamed' })).toEqual({ ...r, name: 'renamed', rateLimit: { limit: 20, window: 2 * HOUR } });
    expect(await raw(r.id)).toMatchObject({ rate_limit: 20, rate_window: String(2 * HOUR), rate_count: 3 });
    const { rateLimit: _, ...cleared } = r;
    expect(await store.update!(r.id, { rateLimit: null })).toEqual({ ...cleared, name: 'renamed' });
    expect(await raw(r.id)).toMatchObject({ rate_limit: null, rate_window: null, rate_count: 3, last_used_at: String(r.lastUsedAt!.getTime()) });
    // a token without a limit stores nothing for it, and a first count starts the column
    const u = record();
    await store.insert(u);
    expect(await raw(u.id)).toMatchObject({ rate_limit: null, rate_window: null, rate_count: null });
    await store.update!(u.id, { rateLimit: { limit: 5, window: 1000 } });
    const at = new Date(Date.now() + 1);
    expect(await store.consume(u.hash, at, plain)).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: at, uses: 0 } });
    expect(await raw(u.id)).toMatchObject({ rate_limit: 5, rate_window: '1000', rate_count: 1, uses: 0, last_used_at: String(at.getTime()) });
  });

  it('a rate-limited token is refused without a write: its tuple (xmin, ctid) stays the same through 50 parallel consumes', async () => {
    const now = Date.now();
    const r = record({ createdAt: new Date(now - 1000), rateLimit: { limit: 2, window: HOUR }, rateCount: 2, lastUsedAt: new Date(now - 10) });
    await store.insert(r);
    const before = await raw(r.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.consume(r.hash, new Date(now), plain)));
    expect(new Set(results.map((x) => (x.ok ? 'ok' : x.reason)))).toEqual(new Set(['rate_limited']));
    // the refusal carries the record, from which core builds Retry-After
    expect(results[0]).toEqual({ ok: false, reason: 'rate_limited', record: r });
    expect(await raw(r.id)).toEqual(before);
    // the next window counts from 0 again, in one write
    const next = new Date(r.createdAt.getTime() + HOUR);
    expect(await store.consume(r.hash, next, plain)).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: next } });
    expect(await raw(r.id)).toMatchObject({ rate_count: 1, last_used_at: String(next.getTime()) });
  });

  it('the table refuses a window or limit <= 0 and a limit without a window (the CHECK that keeps consume from dividing by zero)', async () => {
    for (const rateLimit of [{ limit: 1, window: 0 }, { limit: 0, window: 1000 }, { limit: 1, window: -HOUR }]) {
      await expect(store.insert(record({ rateLimit }))).rejects.toMatchObject({ code: 'unavailable', cause: expect.objectContaining({ code: '23514' }) });
    }
    const r = record();
    await store.insert(r);
    await expect(client().query(`UPDATE ${table} SET rate_limit = 5 WHERE id = $1`, [r.id])).rejects.toMatchObject({ code: '23514' });
    await expect(store.update!(r.id, { rateLimit: { limit: 5, window: 0 } })).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23514' }) });
    expect(await store.findById(r.id)).toEqual(r);
  });

  it('a version-3 table with tokens upgrades in place: no rewrite, rows no bigger, every token verifies as before, then rate limits work', async () => {
    const old = randomSchema('v3');
    const oldTable = `${quoteIdent(old)}.${quoteIdent('tokenaccess_tokens')}`;
    try {
      await migrate(client(), { schema: old });
      // back to exactly what version 3 left (dropping rate_limit drops the CHECK too)
      await client().query(`ALTER TABLE ${oldTable} DROP COLUMN rate_limit, DROP COLUMN rate_window, DROP COLUMN rate_count`);
      await client().query(`DELETE FROM ${quoteIdent(old)}.tokenaccess_migrations WHERE version = 4`);

      // real tokens, issued and used two hours ago (by a memory store), written as version 3 rows
      const past = Date.now() - 2 * HOUR;
      let clock = past;
      const issuer = createTokenAccess({ store: memoryStore(), clock: () => clock });
      const open = await issuer.issue({ subject: 'v3', name: 'open', scopes: ['users:read'] });
      const counted = await issuer.issue({ subject: 'v3', name: 'counted', maxUses: 5 });
      const refilling = await issuer.issue({ subject: 'v3', name: 'refilling', maxUses: 2, refill: { every: '1h' } });
      const off = await issuer.issue({ subject: 'v3', name: 'off' });
      const link = await issuer.issueUrl({ url: 'https://example.com/files?id=7', maxUses: 3 });
      clock = past + 1000;
      for (const t of [open.token, counted.token, refilling.token, refilling.token]) expect((await issuer.verify(t)).ok).toBe(true);
      await issuer.disable(off.info.id);
      const rows = new Map<string, TokenInfo>();
      for (const { info } of [open, counted, refilling, off, link]) rows.set(info.id, (await issuer.get(info.id))!);
      const columns = `id, hash, kind, subject, name, scopes, url, url_origin, url_canonical, url_methods, expires_at, idle_timeout, max_uses, uses,
        created_at, last_used_at, metadata, hint, parent_id, disabled_at, refill_every`;
      for (const r of rows.values()) {
        await client().query(
          `INSERT INTO ${oldTable} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text::jsonb, $18, $19, $20, $21)`,
          insertValues(r).slice(0, 21),
        );
      }
      const shape = async () => ({
        file: (await client().query(`SELECT pg_relation_filenode($1::regclass)::text AS f`, [oldTable])).rows[0]!.f,
        // the row as a value of the table's row type: 21 columns before, 24 after
        sizes: (await client().query(`SELECT pg_column_size(t.*) AS s FROM ${oldTable} t ORDER BY id`)).rows.map((x) => x.s),
      });
      const before = await shape();

      expect(await migrate(client(), { schema: old })).toEqual({ applied: [4], version: SCHEMA_VERSION });
      expect(await shape()).toEqual(before); // same file (no rewrite), same row sizes
      const upgraded = postgresStore({ client: client(), schema: old, timeout: 30_000 });
      for (const r of rows.values()) expect(await upgraded.findById(r.id)).toEqual(r); // no rateLimit, no rateCount

      // verified now, through the upgraded table, each answers as it would have before
      const tokens = createTokenAccess({ store: upgraded, timeout: 30_000 });
      const a = await tokens.verify(open.token, { scopes: ['users:read'] });
      expect(a).toMatchObject({ ok: true, token: { id: open.info.id, uses: 0 } });
      expect(a.ok && a.token).not.toHaveProperty('rateLimit');
      expect(a.ok && a.headers).toBeUndefined();
      expect(await tokens.verify(counted.token)).toMatchObject({ ok: true, token: { uses: 2 } });
      expect(await tokens.verify(refilling.token)).toMatchObject({ ok: true, token: { uses: 1, refill: { every: HOUR } } }); // a later period
      expect(await tokens.verify(off.token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
      expect(await tokens.verifyUrl(link.url)).toMatchObject({ ok: true, token: { uses: 1 } });
      expect(await tokens.verifyUrl(link.url.replace('id=7', 'id=8'))).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
      const after = await client().query(`SELECT rate_limit, rate_window, rate_count FROM ${oldTable}`);
      expect(after.rows.every((x) => x.rate_limit === null && x.rate_window === null && x.rate_count === null)).toBe(true);

      // a token written after the upgrade, with no rate limit, is no bigger than an old one (both used)
      const again = record({ name: 'open', scopes: ['users:read'], subject: 'v3', createdAt: open.info.createdAt, lastUsedAt: new Date(), hint: open.info.hint });
      await upgraded.insert(again);
      const sizes = (await client().query(`SELECT id, pg_column_size(t.*) AS s FROM ${oldTable} t`)).rows;
      expect(sizes.find((x) => x.id === again.id)!.s).toBe(sizes.find((x) => x.id === open.info.id)!.s);

      // and the new field works on an old token
      await tokens.update(open.info.id, { rateLimit: { limit: 1, window: '1h' } });
      expect(await tokens.verify(open.token)).toMatchObject({ ok: true, token: { rateCount: 1 } });
      expect(await tokens.verify(open.token)).toMatchObject({ ok: false, error: { code: 'rate_limited', status: 429 } });
      expect(await tokens.verify(counted.token)).toMatchObject({ ok: true, token: { uses: 3 } }); // the others are untouched
    } finally {
      await dropSchema(client(), old);
    }
  }, 60_000);
});
