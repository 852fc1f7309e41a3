import { storeTestSuite } from '@tokenaccess/test-suite';
import { describe, expect, it } from 'vitest';
import { casStore, memoryKv, type KvClient } from '../examples/custom-store';
import { main as gettingStarted } from '../examples/getting-started';
import { main as pepper } from '../examples/pepper-rotation';
import { main as tiki } from '../examples/tiki-batch';
import * as migrating from '../examples/migrating';
import { main as legacy } from '../examples/legacy';
import { leakEndpoint, pattern } from '../examples/secret-scanning';
import { honoApp, koaApp } from '../examples/secret-scanning-frameworks';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type TokenStore, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { migrate, postgresStore, quoteIdent } from '@tokenaccess/postgres';
import pg from 'pg';

describe('docs examples run and say what the docs say', () => {
  it('getting started', async () => {
    const lines: string[] = [];
    const out = await gettingStarted((...a) => void lines.push(a.join(' ')));
    expect(out).toEqual({ first: true, second: 'exhausted', status: 200, revoked: true });
    expect(lines.join('\n')).toMatch(/share link: https:\/\/example\.com\/files\?id=7&token=tka_/);
  });

  it('pepper rotation', async () => {
    expect(await pepper()).toEqual({ oldStillValid: true, newHashPrefix: 'k2:' });
  });

  it('the Tiki batch URL', async () => {
    const out = await tiki();
    expect(out).toMatchObject({ ok: true, refused: 'url_mismatch' });
    expect(out.shareUrl).toContain('&recordsMax=-1&TOKEN=tka_');
  });

  it('migrating: Shield, Sanctum and Tiki counterparts', async () => {
    expect(await migrating.shield()).toEqual({ checks: true, request: 'GET' });
    expect(await migrating.sanctum()).toEqual({ both: false, either: true, pruned: 0 });
    expect(await migrating.tiki()).toBe(true);
  });

  it('the README examples', async () => {
    const api = await import('../examples/readme-api');
    const ok = await api.handler(new Request('https://api.test/users', { headers: { authorization: `Bearer ${api.token}` } }));
    expect([ok.status, await ok.json()]).toEqual([200, { hello: 'user-1' }]);
    const none = await api.handler(new Request('https://api.test/users'));
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="api"']);
    const share = await import('../examples/readme-share');
    expect(share.share.url).toMatch(/^https:\/\/example\.com\/reports\/q3\.pdf\?format=pdf&token=tka_\w{36}$/);
    expect(share.first.ok).toBe(true);
    const second = share.second;
    expect(second.ok ? 'ok' : second.error.code).toBe('exhausted');
  });
});

describe('docs/concepts/legacy.md and docs/secret-scanning.md examples', () => {
  it('legacy: an imported Sanctum token verifies, garbage costs nothing, rotate retires it', async () => {
    expect(await legacy()).toEqual({ legacy: 'sanctum-7', garbage: 'malformed', fresh: true, stillInGrace: true, hints: [undefined, 'sanctum:8'] });
  });

  // GitHub's side, played with a local P-256 key: the raw body signed, DER, base64
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keys = () => [{ key_identifier: 'test-key', key: publicKey.export({ type: 'spki', format: 'pem' }).toString(), is_current: true }];
  const signed = (url: string, tokens: string[]) => {
    const body = JSON.stringify(tokens.map((token) => ({ token, type: 'tokenaccess_api_token', url: 'https://github.com/o/r/blob/1/.env', source: 'content' })));
    const headers = { 'content-type': 'application/json', 'github-public-key-identifier': 'test-key', 'github-public-key-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64') };
    return { url, init: { method: 'POST', headers, body } };
  };

  /** Issue, leak, report: the live token is revoked and its owner told; read back through `reread`. */
  async function leakScenario(store: TokenStore, reread: (id: string) => Promise<boolean>) {
    const tokens = createTokenAccess({ store });
    const told: string[] = [];
    const handler = leakEndpoint(tokens, async (subject, message) => void told.push(`${subject}: ${message}`), keys);
    const { token, info } = await tokens.issue({ subject: 'user-1', name: 'laptop' });
    const other = await tokens.issue({ subject: 'user-2', name: 'ci' });
    expect(new RegExp(pattern).test(`TOKEN=${token}`)).toBe(true);
    const d = signed('https://app.test/github/secret-scanning', [token, `${token.slice(0, -1)}x`]);
    const res = await handler(new Request(d.url, d.init));
    expect(await res.json()).toEqual([
      { token_raw: token, token_type: 'tokenaccess_api_token', label: 'true_positive' },
      { token_raw: `${token.slice(0, -1)}x`, token_type: 'tokenaccess_api_token', label: 'false_positive' },
    ]);
    expect(told).toEqual([`user-1: Your token "laptop" (${info.hint}) was published at https://github.com/o/r/blob/1/.env and has been revoked.`]);
    expect([await reread(info.id), await reread(other.info.id)]).toEqual([false, true]);
    expect((await tokens.verify(token)).ok).toBe(false);
    expect((await tokens.verify(other.token)).ok).toBe(true);
  }

  it('secret scanning on the memory store', async () => {
    const store = memoryStore();
    await leakScenario(store, async (id) => (await store.findById(id)) !== null);
  });

  it('secret scanning on PostgreSQL (an isolated schema, read back with plain SQL)', async () => {
    const schema = `tka_leak_${randomBytes(5).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4, connectionTimeoutMillis: 5000 });
    try {
      await migrate(pool, { schema });
      const reread = async (id: string) => (await pool.query(`SELECT 1 FROM ${quoteIdent(schema)}.tokenaccess_tokens WHERE id = $1`, [id])).rowCount === 1;
      await leakScenario(postgresStore({ client: pool, schema }), reread);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await pool.end();
    }
  });

  it('mounted in Hono, in Koa (over real HTTP, raw body streamed) and as a Next.js route', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const handler = leakEndpoint(tokens, async () => {}, keys);

    const { token } = await tokens.issue({ subject: 'u', name: 'hono' });
    const h = signed('http://localhost/github/secret-scanning', [token]);
    const viaHono = await honoApp(handler).request(h.url, h.init);
    expect([viaHono.status, (await viaHono.json())[0].label]).toEqual([200, 'true_positive']);

    const server = koaApp(handler).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { token: k } = await tokens.issue({ subject: 'u', name: 'koa' });
      const d = signed(`${base}/github/secret-scanning`, [k]);
      const viaKoa = await fetch(d.url, d.init);
      expect([viaKoa.status, (await viaKoa.json())[0].label]).toEqual([200, 'true_positive']);
      const forged = await fetch(d.url, { ...d.init, body: d.init.body.replace('content', 'c0ntent') });
      expect(forged.status).toBe(401);
      expect((await tokens.verify(k)).ok).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }

    const route = await import('../examples/secret-scanning-route');
    expect(route.runtime).toBe('nodejs');
    const unsigned = await route.POST(new Request('https://app.test/api/github/secret-scanning', { method: 'POST', body: '[]' }));
    expect(unsigned.status).toBe(400); // refused before GitHub's keys are even fetched
  });
});

// The store written in docs/writing-a-store.md passes the same suite as the shipped stores,
// read back through a second instance over the same service.
const services = new WeakMap<object, KvClient>();
storeTestSuite({
  name: 'docs/examples/custom-store (casStore)',
  createStore: () => {
    const client = memoryKv();
    const store = casStore({ client });
    services.set(store, client);
    return store;
  },
  reopen: (store) => casStore({ client: services.get(store)! }),
});
