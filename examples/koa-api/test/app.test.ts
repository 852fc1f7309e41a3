import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';

const tokens = createTokenAccess({ store: memoryStore() });
let dir: string;
let server: Server;
let base: string;
const BIG = 5 * 1024 * 1024 + 123;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'koa-api-test-'));
  await writeFile(join(dir, 'dataset.csv'), Buffer.alloc(BIG, 'x'));
  await writeFile(join(dir, 'small.txt'), 'hello');
  server = createApp({ tokens, files: dir }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const json = { 'content-type': 'application/json' };
const login = (user = 'alice') => ({ 'x-demo-user': user });
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function issue(scopes: string[], user = 'alice'): Promise<{ token: string; id: string }> {
  const res = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { ...login(user), ...json }, body: JSON.stringify({ name: 'test', scopes }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; id: string };
}

describe('personal API tokens: issue, list, revoke', () => {
  it('needs the demo login', async () => {
    const res = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: json, body: '{"name":"x"}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'login_required', message: 'Sign in first: send X-Demo-User: alice (the demo login).' });
  });

  it('issues a token (the raw token once), lists only the user’s own tokens without hashes, revokes by id', async () => {
    const res = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { ...login(), ...json }, body: JSON.stringify({ name: 'my laptop', scopes: ['users:read'] }) });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as Record<string, unknown>;
    expect(issued).toMatchObject({ name: 'my laptop', kind: 'access', scopes: ['users:read'] });
    expect(String(issued.token)).toMatch(/^tka_/);
    expect(issued).not.toHaveProperty('hash');

    await issue(['users:read'], 'bob');
    const list = (await (await fetch(`${base}/auth/tokens`, { headers: login() })).json()) as { items: Record<string, unknown>[] };
    expect(list.items.map((t) => t.id)).toContain(issued.id);
    expect(list.items.every((t) => !('hash' in t) && !('token' in t))).toBe(true);
    const bobs = (await (await fetch(`${base}/auth/tokens`, { headers: login('bob') })).json()) as { items: unknown[] };
    expect(bobs.items.map((t) => (t as { id: string }).id)).not.toContain(issued.id);

    // bob cannot revoke alice's token
    expect((await fetch(`${base}/auth/tokens/${issued.id}`, { method: 'DELETE', headers: login('bob') })).status).toBe(404);
    expect((await fetch(`${base}/api/users`, { headers: auth(String(issued.token)) })).status).toBe(200);
    expect((await fetch(`${base}/auth/tokens/${issued.id}`, { method: 'DELETE', headers: login() })).status).toBe(204);
    const after = await fetch(`${base}/api/users`, { headers: auth(String(issued.token)) });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses unknown scopes and bad bodies', async () => {
    const bad = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { ...login(), ...json }, body: JSON.stringify({ name: 'x', scopes: ['root'] }) });
    expect(bad.status).toBe(400);
    const notJson = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { ...login(), ...json }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'bad_request', message: 'The body is not valid JSON.' });
  });
});

describe('/api group', () => {
  it('401 without a token, for every route of the group', async () => {
    for (const path of ['/api/me', '/api/users', '/api/files']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(await res.json()).toEqual({ error: 'unauthorized', message: 'Authentication is required.' });
    }
  });

  it('GET /api/users needs users:read, POST /api/users needs users:write', async () => {
    const reader = await issue(['users:read']);
    const writer = await issue(['users:write']);
    const list = await fetch(`${base}/api/users`, { headers: auth(reader.token) });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: { id: string }[] }).items.map((u) => u.id)).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect((await fetch(`${base}/api/users`, { headers: auth(writer.token) })).status).toBe(403);

    const body = JSON.stringify({ name: 'Carol Diaz', email: 'carol@example.com' });
    const denied = await fetch(`${base}/api/users`, { method: 'POST', headers: { ...auth(reader.token), ...json }, body });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('scope="users:write"');
    const created = await fetch(`${base}/api/users`, { method: 'POST', headers: { ...auth(writer.token), ...json }, body });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: 'carol-diaz', name: 'Carol Diaz', email: 'carol@example.com' });
  });

  it('GET /api/me shows the owner loaded by loadSubject', async () => {
    const { token, id } = await issue(['users:read'], 'bob');
    const me = (await (await fetch(`${base}/api/me`, { headers: auth(token) })).json()) as { user: unknown; token: { id: string } };
    expect(me.user).toEqual({ id: 'bob', name: 'Bob Stone', email: 'bob@example.com' });
    expect(me.token.id).toBe(id);
  });

  it('GET /api/files accepts files:read or files:share', async () => {
    for (const scope of ['files:read', 'files:share']) {
      const res = await fetch(`${base}/api/files`, { headers: auth((await issue([scope])).token) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ items: [{ name: 'dataset.csv', size: BIG }, { name: 'small.txt', size: 5 }] });
    }
    expect((await fetch(`${base}/api/files`, { headers: auth((await issue(['users:read'])).token) })).status).toBe(403);
  });
});

/** Opens a share link as a browser does: 303 + session cookie, then the URL without the token. */
async function open(url: string): Promise<{ exchange: Response; page?: Response }> {
  const exchange = await fetch(url, { redirect: 'manual' });
  if (exchange.status !== 303) return { exchange };
  const cookie = exchange.headers.get('set-cookie')!.split(';')[0]!;
  return { exchange, page: await fetch(new URL(exchange.headers.get('location')!, url), { headers: { cookie } }) };
}

describe('one-time share link', () => {
  it('is exchanged once for a session cookie that streams the file; the link is then refused', async () => {
    const { token } = await issue(['files:share']);
    const res = await fetch(`${base}/api/files/dataset.csv/share`, { method: 'POST', headers: auth(token) });
    expect(res.status).toBe(201);
    const { url, maxUses } = (await res.json()) as { url: string; maxUses: number };
    expect(maxUses).toBe(1);
    expect(url).toMatch(new RegExp(`^${base}/files/dataset\\.csv\\?token=tka_`));

    const first = await open(url);
    expect(first.exchange.status).toBe(303);
    expect(first.exchange.headers.get('location')).toBe('/files/dataset.csv');
    expect(first.exchange.headers.get('set-cookie')).toMatch(/^file_session=tka_\w+; Path=\/files\/dataset\.csv; Max-Age=600; HttpOnly; SameSite=Lax$/);
    expect(first.page!.status).toBe(200);
    expect(first.page!.headers.get('content-disposition')).toBe('attachment; filename="dataset.csv"');
    expect((await first.page!.arrayBuffer()).byteLength).toBe(BIG);
    const second = await open(url);
    expect(second.exchange.status).toBe(401);
    expect(await second.exchange.json()).toEqual({ error: 'invalid_token', message: 'The access token has been used up.' });
    // without the cookie the file is not served
    expect((await fetch(`${base}/files/dataset.csv`)).status).toBe(401);
  });

  it('a link for one file does not open another; unknown files cannot be shared', async () => {
    const { token } = await issue(['files:share']);
    const { url } = (await (await fetch(`${base}/api/files/small.txt/share`, { method: 'POST', headers: auth(token) })).json()) as { url: string };
    expect((await open(url.replace('small.txt', 'dataset.csv'))).exchange.status).toBe(401);
    const opened = await open(url);
    expect(await opened.page!.text()).toBe('hello');
    // the session opens its own file only
    const cookie = opened.exchange.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/files/dataset.csv`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base}/api/files/..%2Fetc%2Fpasswd/share`, { method: 'POST', headers: auth(token) })).status).toBe(404);
    expect((await fetch(`${base}/api/files/nope.txt/share`, { method: 'POST', headers: auth(token) })).status).toBe(404);
  });

  it('maxUses: 10 under 200 concurrent opens → exactly 10 sessions', async () => {
    const { token } = await issue(['files:share']);
    const res = await fetch(`${base}/api/files/small.txt/share`, { method: 'POST', headers: { ...auth(token), ...json }, body: '{"maxUses":10}' });
    const { url } = (await res.json()) as { url: string };
    const statuses = await Promise.all(Array.from({ length: 200 }, async () => {
      const r = await fetch(url, { redirect: 'manual' });
      await r.arrayBuffer();
      return r.status;
    }));
    expect(statuses.filter((s) => s === 303)).toHaveLength(10);
    expect(statuses.filter((s) => s === 401)).toHaveLength(190);
  });
});

describe('cron batch URL', () => {
  it('runs the exact export runs times, refuses any changed parameter without spending a run', async () => {
    const { token } = await issue(['batch:schedule']);
    const res = await fetch(`${base}/api/batch-links`, { method: 'POST', headers: { ...auth(token), ...json }, body: JSON.stringify({ runs: 2, separator: ';' }) });
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(new RegExp(`^${base}/batch\\?action=export&trackerId=3&separator=%3B&recordsMax=-1&token=tka_`));

    for (const changed of [url.replace('trackerId=3', 'trackerId=4'), url.replace('recordsMax=-1', 'recordsMax=1'), url.replace('separator=%3B', 'separator=,'), `${url}&x=1`]) {
      const r = await fetch(changed);
      expect(r.status, changed).toBe(401);
      expect(await r.json()).toEqual({ error: 'invalid_token', message: 'The access token is not valid for this URL.' });
    }
    const run1 = await fetch(url);
    expect(run1.status).toBe(200);
    expect(run1.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(run1.headers.get('x-runs-left')).toBe('1');
    expect((await run1.text()).split('\n')[0]).toBe('id;name;email');
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url)).status).toBe(401);
  });

  it('a personal API token pasted into the URL does not run the batch', async () => {
    const { token } = await issue(['batch:schedule']);
    const r = await fetch(`${base}/batch?action=export&trackerId=3&separator=,&recordsMax=-1&token=${token}`);
    expect(r.status).toBe(401);
  });
});
