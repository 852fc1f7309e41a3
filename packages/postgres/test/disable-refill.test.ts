/**
 * `disabledAt` and `refill` in the table (schema version 3: `disabled_at`, `refill_every`), seen
 * through a second reader (plain SQL), on PostgreSQL and PGlite: what `update` writes, that a
 * refused disabled token is not written at all (its tuple stays the same), which rows `sweep`
 * deletes, the CHECK on `refill_every`, an update racing consumes at a refill boundary, and a
 * version-2 table upgrading in place (no rewrite, no bigger rows, tokens kept).
 */
import { PGlite } from '@electric-sql/pglite';
import type { TokenStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, migrate, postgresStore, quoteIdent } from '../src/index';
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
  const schema = randomSchema('life3');
  const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
  let store: TokenStore;
  beforeAll(async () => {
    await migrate(client(), { schema });
    store = postgresStore({ client: client(), schema, timeout: 30_000 });
    return () => dropSchema(client(), schema);
  });
  const raw = async (id: string) =>
    (await client().query(`SELECT disabled_at::text AS disabled_at, refill_every::text AS refill_every, uses::int AS uses, last_used_at::text AS last_used_at, xmin::text AS xmin, ctid::text AS ctid FROM ${table} WHERE id = $1`, [id])).rows[0];

  it('insert and update write disabled_at and refill_every as epoch ms; null clears them; uses and last_used_at stay', async () => {
    const r = record({ maxUses: 5, uses: 2, lastUsedAt: new Date(Date.now() - 10), refill: { every: HOUR } });
    await store.insert(r);
    expect(await raw(r.id)).toMatchObject({ disabled_at: null, refill_every: String(HOUR), uses: 2, last_used_at: String(r.lastUsedAt!.getTime()) });
    const off = new Date(Date.now() - 5);
    expect(await store.update!(r.id, { disabledAt: off, refill: { every: 2 * HOUR } })).toEqual({ ...r, disabledAt: off, refill: { every: 2 * HOUR } });
    expect(await raw(r.id)).toMatchObject({ disabled_at: String(off.getTime()), refill_every: String(2 * HOUR), uses: 2 });
    const { refill: _, ...plainRecord } = r;
    expect(await store.update!(r.id, { disabledAt: null, refill: null })).toEqual(plainRecord);
    expect(await raw(r.id)).toMatchObject({ disabled_at: null, refill_every: null, uses: 2, last_used_at: String(r.lastUsedAt!.getTime()) });
  });

  it('a disabled token is refused without a write: its tuple (xmin, ctid) stays the same through 50 parallel consumes', async () => {
    const r = record({ maxUses: 10, refill: { every: HOUR }, disabledAt: new Date(Date.now() - 1) });
    await store.insert(r);
    const before = await raw(r.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.consume(r.hash, new Date(), plain)));
    expect(new Set(results.map((x) => (x.ok ? 'ok' : x.reason)))).toEqual(new Set(['disabled']));
    expect(results[0]).toEqual({ ok: false, reason: 'disabled', record: r });
    expect(await raw(r.id)).toEqual(before);
    // and the same for a token the store has on its fast path (unlimited, fresh)
    const u = record({ lastUsedAt: new Date() });
    await store.insert(u);
    expect((await store.consume(u.hash, new Date(), plain)).ok).toBe(true);
    await postgresStore({ client: client(), schema }).update!(u.id, { disabledAt: new Date() }); // another process
    expect(await store.consume(u.hash, new Date(), plain)).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('sweep deletes expired tokens and used-up non-refilling ones; keeps refilling used-up ones (this period or a past one) and live disabled ones', async () => {
    const now = Date.now();
    const subject = `sweep-${Math.random()}`;
    const rows = {
      refillingNow: record({ subject, maxUses: 1, uses: 1, lastUsedAt: new Date(now - 10), refill: { every: HOUR } }),
      refillingPast: record({ subject, maxUses: 1, uses: 3, createdAt: new Date(now - 5 * HOUR), lastUsedAt: new Date(now - 4 * HOUR), refill: { every: HOUR } }),
      refillingNoLimit: record({ subject, uses: 9, refill: { every: HOUR } }),
      disabled: record({ subject, maxUses: 2, disabledAt: new Date(now - 10) }),
      refillingExpired: record({ subject, maxUses: 1, uses: 1, lastUsedAt: new Date(now - 10), refill: { every: HOUR }, expiresAt: new Date(now - 1) }),
      refillingIdle: record({ subject, maxUses: 1, uses: 1, createdAt: new Date(now - 3 * HOUR), lastUsedAt: new Date(now - 2 * HOUR), idleTimeout: HOUR, refill: { every: HOUR } }),
      spent: record({ subject, maxUses: 1, uses: 1, lastUsedAt: new Date(now - 10) }),
      disabledSpent: record({ subject, maxUses: 1, uses: 1, disabledAt: new Date(now - 10) }),
    };
    for (const r of Object.values(rows)) await store.insert(r);
    await store.sweep(new Date(now));
    const { rows: left } = await client().query(`SELECT id FROM ${table} WHERE subject = $1`, [subject]);
    const kept = Object.entries(rows)
      .filter(([, r]) => left.some((x) => x.id === r.id))
      .map(([k]) => k)
      .sort();
    expect(kept).toEqual(['disabled', 'refillingNoLimit', 'refillingNow', 'refillingPast']);
    // and a kept one gets its budget back
    expect(await store.consume(rows.refillingPast.hash, new Date(now), plain)).toMatchObject({ ok: true, record: { uses: 1, lastUsedAt: new Date(now) } });
  });

  it('the table refuses refill_every <= 0 (the CHECK that keeps consume from dividing by zero)', async () => {
    await expect(store.insert(record({ maxUses: 1, refill: { every: 0 } }))).rejects.toMatchObject({ code: 'unavailable', cause: expect.objectContaining({ code: '23514' }) });
    const r = record({ maxUses: 1 });
    await store.insert(r);
    await expect(store.update!(r.id, { refill: { every: -1 } })).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23514' }) });
    expect(await store.findById(r.id)).toEqual(r);
  });
});

describe('PostgreSQL, concurrency and upgrade', () => {
  const schema = randomSchema('life3c');
  let store: TokenStore;
  beforeAll(async () => {
    await migrate(pool, { schema });
    store = postgresStore({ client: pool, schema, timeout: 30_000 });
    return () => dropSchema(pool, schema);
  });

  it('200 consumes at a refill boundary racing disable: each sees before or after, the count is exact, nothing passes after', async () => {
    const created = Date.now() - HOUR - 5;
    const r = record({ createdAt: new Date(created), maxUses: 150, uses: 150, lastUsedAt: new Date(created + HOUR - 1), refill: { every: HOUR } });
    await store.insert(r);
    const now = new Date(created + HOUR);
    const first = Array.from({ length: 100 }, () => store.consume(r.hash, now, plain));
    const disabled = store.update!(r.id, { disabledAt: now });
    const then = Array.from({ length: 100 }, () => store.consume(r.hash, now, plain));
    const results = await Promise.all([...first, ...then]);
    await disabled;
    const ok = results.flatMap((x) => (x.ok ? [x.record] : []));
    for (const x of results) {
      if (x.ok) expect(x.record).not.toHaveProperty('disabledAt');
      else expect(x).toMatchObject({ reason: 'disabled', record: { disabledAt: now } });
    }
    // every success counted once, in the new period, from 1
    expect(ok.map((x) => x.uses).sort((a, b) => a - b)).toEqual(Array.from({ length: ok.length }, (_, i) => i + 1));
    expect(ok.length).toBeLessThanOrEqual(150);
    expect(await store.findById(r.id)).toMatchObject({ uses: ok.length, disabledAt: now, ...(ok.length ? { lastUsedAt: now } : {}) });
  });

  it('a version-2 table upgrades in place: no rewrite, rows no bigger, tokens kept, then disable and refill work', async () => {
    const old = randomSchema('v2');
    const oldTable = `${quoteIdent(old)}.${quoteIdent('tokenaccess_tokens')}`;
    try {
      await migrate(pool, { schema: old });
      // back to exactly what version 2 left (dropping a column drops its CHECK too)
      await pool.query(`ALTER TABLE ${oldTable} DROP COLUMN disabled_at, DROP COLUMN refill_every, DROP COLUMN rate_limit, DROP COLUMN rate_window, DROP COLUMN rate_count`);
      await pool.query(`DELETE FROM ${quoteIdent(old)}.tokenaccess_migrations WHERE version >= 3`);
      const created = Date.now() - 10_000;
      const spent = record({ name: 'spent', maxUses: 2, uses: 2, createdAt: new Date(created), lastUsedAt: new Date(created + 1) });
      const open = record({ name: 'open', scopes: ['a', 'b'], createdAt: new Date(created) });
      for (const r of [spent, open]) {
        await pool.query(
          `INSERT INTO ${oldTable} (id, hash, kind, subject, name, scopes, max_uses, uses, created_at, last_used_at, hint) VALUES ($1, $2, 'access', $3, $4, $5, $6, $7, $8, $9, 'tka_abcd')`,
          [r.id, r.hash, r.subject, r.name, r.scopes, r.maxUses ?? null, r.uses, r.createdAt.getTime(), r.lastUsedAt?.getTime() ?? null],
        );
      }
      const shape = async () => ({
        file: (await pool.query(`SELECT pg_relation_filenode($1::regclass)::text AS f`, [oldTable])).rows[0].f,
        // the row as a value of the table's row type: 19 columns before, 24 after
        sizes: (await pool.query(`SELECT pg_column_size(t.*) AS s FROM ${oldTable} t ORDER BY id`)).rows.map((x) => x.s),
      });
      const before = await shape();

      expect(await migrate(pool, { schema: old })).toEqual({ applied: [3, 4], version: SCHEMA_VERSION });
      expect(await shape()).toEqual(before); // same file (no rewrite), same row sizes
      const upgraded = postgresStore({ client: pool, schema: old });
      expect(await upgraded.findById(spent.id)).toEqual(spent);
      expect(await upgraded.findById(open.id)).toEqual(open);
      // a token written after the upgrade, with neither field, is no bigger than the old ones
      const again = record({ name: 'open', scopes: ['a', 'b'], createdAt: new Date(created) });
      await upgraded.insert(again);
      const sizes = (await pool.query(`SELECT id, pg_column_size(t.*) AS s FROM ${oldTable} t`)).rows;
      expect(sizes.find((x) => x.id === again.id)!.s).toBe(sizes.find((x) => x.id === open.id)!.s);

      const p = { lastUsedResolution: 60_000 };
      expect(await upgraded.consume(spent.hash, new Date(created + HOUR), p)).toMatchObject({ ok: false, reason: 'exhausted' });
      await upgraded.update!(spent.id, { refill: { every: HOUR } });
      expect(await upgraded.consume(spent.hash, new Date(created + HOUR), p)).toMatchObject({ ok: true, record: { uses: 1, refill: { every: HOUR } } });
      await upgraded.update!(open.id, { disabledAt: new Date(created) });
      expect(await upgraded.consume(open.hash, new Date(), p)).toMatchObject({ ok: false, reason: 'disabled' });
      await expect(upgraded.insert(record({ maxUses: 1, refill: { every: 0 } }))).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23514' }) });
    } finally {
      await dropSchema(pool, old);
    }
  });
});
