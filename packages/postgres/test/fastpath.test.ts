/**
 * The fast path: once a verification has seen an unlimited token with a fresh lastUsedAt, the
 * store sends a plain SELECT for it until lastUsedResolution has passed. The row is still read
 * and judged on every call, so nothing the atomic statement would refuse gets through. Runs on
 * PGlite behind a plain `{ query(text, values) }` wrapper that records what is sent.
 */
import { PGlite } from '@electric-sql/pglite';
import { createTokenAccess } from '@tokenaccess/core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { migrate, postgresStore } from '../src/index';

const db = new PGlite();
const sent: string[] = [];
const recording = {
  query: (text: string, values?: unknown[]) => {
    sent.push(text.startsWith('WITH upd') ? 'consume' : text.startsWith('SELECT') ? 'select' : 'other');
    return db.query(text, values);
  },
};
let clock = Date.UTC(2030, 0, 1);
const store = postgresStore({ client: recording });
const other = postgresStore({ client: db, fastPathSize: 0 }); // another process, in effect
const tokens = createTokenAccess({ store, clock: () => clock });

beforeAll(() => migrate(db));
afterAll(() => db.close());
beforeEach(() => {
  sent.length = 0;
});

it('sends the atomic statement first, then plain reads while lastUsedAt is fresh, then the statement again', async () => {
  const { token } = await tokens.issue({ subject: 'fp', name: 'unlimited' });
  sent.length = 0;
  for (let i = 0; i < 3; i++) expect((await tokens.verify(token)).ok).toBe(true);
  expect(sent).toEqual(['consume', 'select', 'select']);
  clock += 60_000; // the default resolution: now it must be touched
  sent.length = 0;
  const touched = await tokens.verify(token);
  expect(touched.ok && touched.token.lastUsedAt?.getTime()).toBe(clock);
  expect(sent).toEqual(['consume']);
});

it('never takes the fast path for counted tokens', async () => {
  const { token, info } = await tokens.issue({ subject: 'fp', name: 'counted', maxUses: 3 });
  sent.length = 0;
  for (let i = 0; i < 4; i++) await tokens.verify(token);
  expect(sent).toEqual(['consume', 'consume', 'consume', 'consume']);
  expect((await store.findById(info.id))?.uses).toBe(3);
});

it('refuses on the fast path exactly as the statement would: revoked or disabled elsewhere, expired, missing scope', async () => {
  const revoked = await tokens.issue({ subject: 'fp', name: 'revoked', scopes: ['a'] });
  const disabled = await tokens.issue({ subject: 'fp', name: 'disabled' });
  const expiring = await tokens.issue({ subject: 'fp', name: 'expiring', expiresIn: 10_000 });
  for (const t of [revoked, disabled, expiring]) expect((await tokens.verify(t.token)).ok).toBe(true);
  await other.deleteById(revoked.info.id); // this store's hints know nothing of it
  await other.update!(disabled.info.id, { disabledAt: new Date(clock) });
  sent.length = 0;
  expect(await tokens.verify(revoked.token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  expect(await tokens.verify(disabled.token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
  clock += 10_000;
  expect(await tokens.verify(expiring.token)).toMatchObject({ ok: false, error: { code: 'expired' } });
  expect(sent).toEqual(['select', 'select', 'select']);
  await other.update!(disabled.info.id, { disabledAt: null }); // enabled elsewhere: works again, still no write
  sent.length = 0;
  expect((await tokens.verify(disabled.token)).ok).toBe(true);
  expect(sent).toEqual(['select']);

  const scoped = await tokens.issue({ subject: 'fp', name: 'scoped', scopes: ['files:read'] });
  expect((await tokens.verify(scoped.token)).ok).toBe(true);
  sent.length = 0;
  expect(await tokens.verify(scoped.token, { scopes: ['files:write'] })).toMatchObject({ ok: false, error: { code: 'insufficient_scope' } });
  expect((await tokens.verify(scoped.token, { scopes: ['files:read'] })).ok).toBe(true);
  expect(sent).toEqual(['select', 'select']);
});

it('falls back to the atomic statement when the row no longer fits the hint', async () => {
  const { token, info } = await tokens.issue({ subject: 'fp', name: 'changed' });
  expect((await tokens.verify(token)).ok).toBe(true);
  // Nothing in tokenaccess does this; a hand-made UPDATE might.
  await db.query(`UPDATE tokenaccess_tokens SET max_uses = 2 WHERE id = $1`, [info.id]);
  sent.length = 0;
  const r = await tokens.verify(token);
  expect(r.ok && r.token.uses).toBe(1);
  expect(sent).toEqual(['select', 'consume']);
});
