import { TokenAccessError, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { createNextAuth, getToken, withToken } from '@tokenaccess/next';
import { NextRequest } from 'next/server';
import { describe, expect, it } from 'vitest';

const req = (path: string, headers: Record<string, string> = {}) => new NextRequest(`http://localhost:3000${path}`, { headers });

describe('createNextAuth', () => {
  it('binds tokens (and the token source) once: withToken, tokenProxy and verifyPageToken need no tokens', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const auth = createNextAuth(tokens, { header: 'x-api-key' });
    expect(auth.tokens).toBe(tokens);
    const { token } = await tokens.issue({ subject: 'ada', name: 'k', scopes: ['reports:read'] });

    const GET = auth.withToken((_r, _c, t) => new Response(t.subject), { scopes: ['reports:read'] });
    expect(await (await GET(req('/api/r', { 'x-api-key': token }), undefined)).text()).toBe('ada');
    // the bound header is the one read: an Authorization header is not looked at
    expect((await GET(req('/api/r', { authorization: `Bearer ${token}` }), undefined)).status).toBe(401);
    // a call's own options win over the bound ones
    const viaBearer = auth.withToken((_r, _c, t) => new Response(t.subject), { header: 'authorization' });
    expect((await viaBearer(req('/api/r', { authorization: `Bearer ${token}` }), undefined)).status).toBe(200);

    const proxy = auth.tokenProxy({ rules: [{ match: '/api/:path*', scopes: ['admin'] }] });
    expect((await proxy(req('/api/r', { 'x-api-key': token }))).status).toBe(403);

    const share = await tokens.issueUrl({ url: '/share/7?lang=en' });
    const page = await auth.verifyPageToken({ pathname: '/share/7', searchParams: new URLSearchParams(share.url.split('?')[1]) });
    expect(page.ok && page.token.kind).toBe('url');
  });

  it('keeps the unbound exports working beside it', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'bob', name: 'k' });
    const GET = withToken((_r, _c, t) => new Response(t.subject), { tokens });
    expect(await (await GET(req('/x', { authorization: `Bearer ${token}` }), undefined)).text()).toBe('bob');
  });

  it('getToken / requireToken read the request scope (outside one, Next’s own error)', async () => {
    const auth = createNextAuth(createTokenAccess({ store: memoryStore() }));
    await expect(auth.getToken()).rejects.toThrow(/headers/);
    await expect(auth.requireToken(['a'])).rejects.toThrow(/headers/);
    await expect(getToken({ tokens: auth.tokens })).rejects.toThrow(/headers/);
  });

  it('refuses a missing token service with TokenAccessError', () => {
    // @ts-expect-error tokens is required
    expect(() => createNextAuth(undefined)).toThrow(TokenAccessError);
    // @ts-expect-error tokens is required
    expect(() => createNextAuth({})).toThrow(/\[tokenaccess\] \[next\] createNextAuth needs `tokens`/);
  });
});

describe('exchangeRoute', () => {
  it('refuses a request without a usable Host (it could not name its own origin), spending nothing', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: '/s/1' });
    const { GET } = createNextAuth(tokens).exchangeRoute();
    const bad = await GET(req(share.url, { host: 'a.test/x?' }), undefined);
    expect(bad.status).toBe(400);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    const ok = await GET(req(share.url, { host: 'a.test' }), undefined);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/s/1');
    expect(ok.headers.get('set-cookie')).toMatch(/^tka_session=tka_\w+; Path=\/s\/1; /);
  });
});
