import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from './examples/fetch-handler';

const tokens = createTokenAccess({ store: memoryStore() });
const handler = createHandler(tokens);

describe('the Fetch-API handler of docs/frameworks/fetch.md', () => {
  it('guards an API route by scope', async () => {
    const { token } = await tokens.issue({ subject: 'alice', name: 'ci', scopes: ['reports:read'] });
    const { token: other } = await tokens.issue({ subject: 'bob', name: 'ci', scopes: ['billing:read'] });
    const get = (auth?: string) => handler(new Request('https://api.example/api/reports', auth ? { headers: { authorization: auth } } : {}));

    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    const bad = await get('Bearer tka_bad');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const scope = await get(`Bearer ${other}`);
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toContain('scope="reports:read"');
    const ok = await get(`Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ reports: [], owner: 'alice' });
  });

  it('opens a one-time share link once', async () => {
    const share = await tokens.issueUrl({ url: 'https://api.example/files/q3.pdf', maxUses: 1 });
    expect((await handler(new Request(share.url))).status).toBe(200);
    const again = await handler(new Request(share.url));
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ error: 'invalid_token', message: 'The access token has been used up.' });
  });

  describe('served over real HTTP (the way Bun.serve / Deno.serve / Workers call it)', () => {
    let base = '';
    const server = createServer(async (req, res) => {
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers as Record<string, string> });
      const response = await handler(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('answers with the token and the RFC 6750 header', async () => {
      const { token } = await tokens.issue({ subject: 'carol', name: 'ci', scopes: ['reports:read'] });
      const ok = await fetch(`${base}/api/reports`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect((await ok.json()).owner).toBe('carol');
      const refused = await fetch(`${base}/api/reports`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(refused.headers.get('cache-control')).toBe('no-store');
    });
  });
});
