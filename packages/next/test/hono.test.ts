// The Hono recipe of docs/frameworks/fetch.md on real Hono behind a real @hono/node-server, with
// raw request targets for the share-link cases (fetch would resolve the path before sending).
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './examples/hono-middleware';

const tokens = createTokenAccess({ store: memoryStore() });
let port = 0;
let server: ReturnType<typeof serve>;

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: createApp(tokens).fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      port = info.port;
      resolve();
    });
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** GET with the request target exactly as given. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: 'app.test', ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tokenAuth as a Hono middleware', () => {
  it('checks Bearer tokens and scopes, with RFC 6750 answers', async () => {
    const { token } = await tokens.issue({ subject: 'ada', name: 'laptop', scopes: ['reports:read'] });
    const { token: other } = await tokens.issue({ subject: 'bob', name: 'ci', scopes: ['files:read'] });
    const ok = await get('/api/reports', { authorization: `Bearer ${token}` });
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { owner: 'ada' }]);
    const none = await get('/api/reports');
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer realm="api"']);
    const scope = await get('/api/reports', { authorization: `Bearer ${other}` });
    expect(scope.status).toBe(403);
    expect(scope.headers['www-authenticate']).toContain('insufficient_scope');
  });

  it('opens a one-time share link once, with Referrer-Policy: no-referrer', async () => {
    const share = await tokens.issueUrl({ url: 'http://app.test/files/report.pdf' });
    const path = share.url.slice('http://app.test'.length);
    const first = await get(path);
    expect([first.status, first.body, first.headers['referrer-policy']]).toEqual([200, 'contents of report.pdf', 'no-referrer']);
    expect((await get(path)).status).toBe(401);
  });

  it('a walked link opens at most its own route: the request URL Hono routes is already resolved, the rest matches nothing', async () => {
    const share = await tokens.issueUrl({ url: '/files/a', maxUses: null });
    const q = `?token=${share.token}`;
    // @hono/node-server builds a WHATWG URL: /admin/../files/a is /files/a by the time Hono routes it
    const resolved = await get(`/admin/../files/a${q}`);
    expect([resolved.status, resolved.body]).toEqual([200, 'contents of a']);
    for (const walk of ['/files/x%2F..%2Fa', '/files/..%5Ca', '/files/%252e%252e']) {
      const r = await get(`${walk}${q}`);
      expect([walk, r.status]).toEqual([walk, 401]);
    }
    expect((await get(`/admin/a${q}`)).body).toBe('admin'); // no middleware there: the app's choice
  });
});
