import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createTokenAccess } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { openStore } from '../src/store';

// The example runs on every store TOKENACCESS_STORE can name: the local Postgres and Redis
// servers, and embedded PGlite. Each run uses its own schema / key prefix and removes it.
const run = randomBytes(4).toString('hex');
const schema = `koa_api_test_${run}`;
const keyPrefix = `koa-api-test:${run}:`;
const PG = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = 'redis://127.0.0.1:6379';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'koa-api-stores-'));
  await writeFile(join(dir, 'report.txt'), 'quarterly numbers');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const pool = new pg.Pool({ connectionString: PG });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe.each(['memory:', 'pglite:', PG, REDIS])('TOKENACCESS_STORE=%s', (url) => {
  it('issues a token, serves the API, and a one-time share link works once', async () => {
    const opened = await openStore(url, { schema, keyPrefix });
    const server = createApp({ tokens: createTokenAccess({ store: opened.store }), files: dir }).listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const issued = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { 'x-demo-user': 'alice', 'content-type': 'application/json' }, body: '{"name":"t","scopes":["users:read","files:share"]}' });
      const { token } = (await issued.json()) as { token: string };
      expect((await fetch(`${base}/api/users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const share = (await (await fetch(`${base}/api/files/report.txt/share`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()) as { url: string };
      // opened as a browser does: 303 + session cookie, then the file for the cookie
      const exchanged = await fetch(share.url, { redirect: 'manual' });
      expect(exchanged.status).toBe(303);
      const cookie = exchanged.headers.get('set-cookie')!.split(';')[0]!;
      expect(await (await fetch(new URL(exchanged.headers.get('location')!, share.url), { headers: { cookie } })).text()).toBe('quarterly numbers');
      expect((await fetch(share.url)).status).toBe(401);
      const listed = (await (await fetch(`${base}/auth/tokens`, { headers: { 'x-demo-user': 'alice' } })).json()) as { items: { kind: string }[] };
      // (a used-up share link may already be gone: Redis deletes it on its last use)
      expect(listed.items.map((t) => t.kind)).toContain('access');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await opened.close();
    }
  });
});

it('an unknown store URL is refused with a clear message', async () => {
  await expect(openStore('mysql://x')).rejects.toThrow(/TOKENACCESS_STORE must start with memory:, pglite:, postgres:\/\/, postgresql:\/\/ or redis:\/\//);
});
