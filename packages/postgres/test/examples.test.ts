/** The code blocks of docs/stores/postgres.md, run. */
import { expect, it, vi } from 'vitest';
import { main } from './examples/pglite';
import { setupTokens } from './examples/pg';
import { lifecycle } from './examples/lifecycle';
import { randomBytes } from 'node:crypto';
import { testPool } from './helpers';
import { POSTGRES_URL, dropSchema, randomSchema } from './helpers';

it('the PGlite quick start verifies its token', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const result = await main();
  expect(result.ok).toBe(true);
  expect(log).toHaveBeenCalledWith(expect.stringMatching(/^verified /));
  log.mockRestore();
}, 90_000); // a fresh PGlite takes seconds to start, many more on a loaded machine

it('the lifecycle example updates, disables and refills a token, and lists it as expiring soon', async () => {
  const { updated, paused, quota, soon, children } = await lifecycle();
  expect(updated).toMatchObject({ name: 'CI (read-only)', scopes: ['repo:read'], uses: 0 });
  expect(paused?.disabledAt).toBeInstanceOf(Date);
  expect(quota).toMatchObject({ maxUses: 100, refill: { every: 3_600_000 } });
  expect(quota).not.toHaveProperty('disabledAt');
  expect(soon.items.map((t) => t.id)).toEqual([updated!.id]);
  expect(children.items).toEqual([]);
}, 90_000);

it('the pg Pool setup issues, verifies, lists, sweeps and revokes', async () => {
  const schema = randomSchema('example');
  const { pool, store, tokens, close } = await setupTokens(POSTGRES_URL, schema);
  try {
    const { token, info } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['repo:*'] });
    const r = await tokens.verify(token, { scopes: ['repo:read'] });
    expect(r.ok && r.token.id).toBe(info.id);
    expect((await tokens.list({ subject: 'user-1' })).items.map((t) => t.id)).toEqual([info.id]);
    expect(await store.sweep(new Date())).toBe(0);
    expect((await tokens.revoke(token))?.id).toBe(info.id);
  } finally {
    await dropSchema(pool, schema);
    await close();
  }
});

it('the README example runs (in a throwaway database, since it uses the default schema)', async () => {
  const admin = testPool({ max: 1 });
  const database = `tka_readme_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const saved = process.env.DATABASE_URL;
  try {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${database}`;
    process.env.DATABASE_URL = url.toString();
    const { result } = await import('./examples/readme');
    expect(result.ok).toBe(true);
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
  }
});
