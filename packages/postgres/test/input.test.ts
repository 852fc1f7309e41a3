/**
 * Bad input: characters that mean something to SQL, JSON or the array literal syntax travel as
 * bound parameters and come back unchanged; NUL (which PostgreSQL text cannot hold) is refused
 * on insert with `invalid_argument` and simply matches nothing on lookups.
 */
import { PGlite } from '@electric-sql/pglite';
import { type TokenInfo, type TokenStore, createTokenAccess } from '@tokenaccess/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStore } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, record, testPool } from './helpers';

const NASTY = [`'`, `"`, `;`, `--`, `\\`, `$1`, `$$`, `{}`, `{"a,b"}`, `NULL`, `,`, `/*`, `%s`, `\n`, `💥`, `ż`, ` `, `''; DROP TABLE t; --`];


const pool = testPool();
const lite = new PGlite();
afterAll(async () => {
  await pool.end();
  await lite.close();
});

describe.each([
  ['PostgreSQL', () => pool],
  ['PGlite', () => lite],
] as const)('%s', (_, client) => {
  const schema = randomSchema('input');
  let store: TokenStore;
  beforeAll(async () => {
    await migrate(client(), { schema });
    // semantics, not deadlines (faults.test.ts has those): the PGlite instance of this file
    // starting up can hold the event loop for seconds while a pg query is in flight
    store = postgresStore({ client: client(), schema, timeout: 30_000 });
    return () => dropSchema(client(), schema);
  });

  it.each(NASTY)('round-trips %j in every string field, and consumes by it', async (s) => {
    const r = record({
      subject: `sub${s}`,
      name: `name${s}`,
      scopes: [`scope${s}`, s],
      metadata: { [s]: s, nested: [s, { [s]: [s] }] },
      hint: `tka_${s}`,
    });
    await store.insert(r);
    expect(await store.findByHash(r.hash)).toEqual(r);
    expect((await store.list({ subject: r.subject!, limit: 5 })).items).toEqual([r]);
    const ok = await store.consume(r.hash, new Date(), { lastUsedResolution: 60_000, scopes: { mode: 'all', anyOf: [[s]] } });
    expect(ok.ok).toBe(true);
    const denied = await store.consume(r.hash, new Date(), { lastUsedResolution: 60_000, scopes: { mode: 'all', anyOf: [[`${s}x`]] } });
    expect(denied).toMatchObject({ ok: false, reason: 'insufficient_scope' });

    const u = record({
      kind: 'url',
      url: { url: `https://x.test/p${s}?q=${encodeURIComponent(s)}`, origin: `https://x.test`, canonical: `/p${s}?q=${s}`, methods: ['GET'] },
    });
    await store.insert(u);
    expect(await store.findById(u.id)).toEqual(u);
    expect((await store.consume(u.hash, new Date(), { lastUsedResolution: 0, url: { canonical: `/p${s}?q=${s}`, method: 'GET' } })).ok).toBe(true);
    expect(await store.consume(u.hash, new Date(), { lastUsedResolution: 0, url: { canonical: `/p${s}?q=`, method: 'GET' } })).toMatchObject({ reason: 'url_mismatch' });
    expect(await store.deleteBySubject(r.subject!)).toBe(1);
  });

  it('refuses NUL in any stored string with invalid_argument, before the server sees it', async () => {
    const bad: Partial<TokenInfo>[] = [
      { name: 'a\0b' },
      { subject: '\0' },
      { scopes: ['ok', 'x\0'] },
      { hint: 'tka_\0' },
      { metadata: { k: 'v\0' } },
      { metadata: { 'k\0': 1 } },
      { kind: 'url', url: { url: 'https://x.test/\0', canonical: '/', methods: ['GET'] } },
    ];
    for (const o of bad) {
      const r = record(o);
      await expect(store.insert(r)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('[tokenaccess] [postgres]') });
      expect(await store.findById(r.id)).toBeNull();
    }
    // A metadata string holding the six characters \u0000 is not a NUL and is kept.
    const fine = record({ metadata: { k: '\\u0000' } });
    await store.insert(fine);
    expect(await store.findById(fine.id)).toEqual(fine);
  });

  it('answers NUL-bearing lookups with "nothing there" instead of a server error', async () => {
    const r = record({ scopes: ['a'] });
    await store.insert(r);
    expect(await store.findByHash('\0')).toBeNull();
    expect(await store.findById('\0')).toBeNull();
    expect(await store.deleteById('\0')).toBeNull();
    expect(await store.deleteByHash('\0')).toBeNull();
    expect(await store.deleteBySubject('\0')).toBe(0);
    expect(await store.list({ subject: '\0', limit: 5 })).toEqual({ items: [] });
    expect(await store.consume('\0', new Date(), { lastUsedResolution: 0 })).toEqual({ ok: false, reason: 'not_found' });
    expect(await store.consume(r.hash, new Date(), { lastUsedResolution: 0, scopes: { mode: 'all', anyOf: [['a\0']] } })).toMatchObject({ reason: 'insufficient_scope' });
    expect(await store.consume(r.hash, new Date(), { lastUsedResolution: 0, url: { canonical: '/\0', method: 'GET' } })).toMatchObject({ reason: 'url_mismatch' });
  });

  it('round-trips instants exactly to the millisecond, from 1970 to 9999', async () => {
    const instants = [0, 1, 999, 1_000_000_000_123, Date.UTC(2038, 0, 19, 3, 14, 8, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.now()];
    for (const t of instants) {
      const r = record({ createdAt: new Date(t), expiresAt: new Date(t + 1), lastUsedAt: new Date(t + 2), idleTimeout: 2 ** 40, maxUses: 2 ** 31 + 5, uses: 2 ** 31 });
      await store.insert(r);
      expect(await store.findById(r.id)).toEqual(r);
    }
  });
});

it('ignores the client’s type parsers: int8 as BigInt on the pool changes nothing', async () => {
  const schema = randomSchema('types');
  const bigints = new pg.Pool({
    connectionString: POSTGRES_URL,
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  bigints.on('error', () => {});
  try {
    await migrate(bigints, { schema });
    const tokens = createTokenAccess({ store: postgresStore({ client: bigints, schema }) });
    const { token, info } = await tokens.issue({ subject: 'types', name: 'bigint', maxUses: 3, expiresIn: '1h' });
    const r = await tokens.verify(token);
    expect(r.ok && r.token).toEqual({ ...info, uses: 1, lastUsedAt: expect.any(Date) });
    expect(r.ok && typeof r.token.uses).toBe('number');
  } finally {
    await dropSchema(bigints, schema);
    await bigints.end();
  }
});

describe('options', () => {
  it('timeout is a Duration, like every timeout option of tokenaccess; the default is 2 s', () => {
    const client = { query: async () => ({ rows: [] }) };
    expect(postgresStore({ client, timeout: '1s' }).callTimeout).toBe(1000);
    expect(postgresStore({ client }).callTimeout).toBe(2000);
    expect(() => postgresStore({ client, timeout: 'soon' as never })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
