import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { withToken } from '@tokenaccess/next';
import { NextRequest } from 'next/server';
import { describe, expect, it } from 'vitest';

const setup = () => createTokenAccess({ store: memoryStore() });
const req = (path: string, init: { token?: string; method?: string; headers?: Record<string, string> } = {}) =>
  new NextRequest(`http://localhost:3000${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
  });

describe('withToken', () => {
  it('passes request, ctx and the verified token to the handler', async () => {
    const tokens = setup();
    const { token, info } = await tokens.issue({ subject: 'alice', name: 'test', scopes: ['reports:read'] });
    const GET = withToken(
      async (request, ctx: { params: Promise<{ id: string }> }, t) => {
        const { id } = await ctx.params;
        return Response.json({ id, subject: t.subject, tokenId: t.id, path: request.nextUrl.pathname });
      },
      { tokens, scopes: ['reports:read'] },
    );
    const res = await GET(req('/api/reports/7', { token }), { params: Promise.resolve({ id: '7' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '7', subject: 'alice', tokenId: info.id, path: '/api/reports/7' });
  });

  it('answers RFC 6750 refusals without calling the handler', async () => {
    const tokens = setup();
    const { token } = await tokens.issue({ subject: 'bob', name: 'test', scopes: ['other'] });
    let calls = 0;
    const GET = withToken(() => {
      calls++;
      return new Response('ok');
    }, { tokens, scopes: ['reports:read'] });

    const none = await GET(req('/api/reports'), undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');

    const bad = await GET(req('/api/reports', { token: 'tka_notarealtokenatall' }), undefined);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await bad.json()).toEqual({ error: 'invalid_token', message: 'The access token is invalid.' });

    const scope = await GET(req('/api/reports', { token }), undefined);
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toContain('error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="reports:read"');

    const twice = await GET(req('/api/reports', { headers: { authorization: 'Bearer a b' } }), undefined);
    expect(twice.status).toBe(400);
    expect(calls).toBe(0);
  });

  it('accepts a share link bound to the exact URL, once', async () => {
    const tokens = setup();
    const share = await tokens.issueUrl({ url: '/api/files/7?format=pdf&v=2', maxUses: 1 });
    const GET = withToken((_r, _c, t) => new Response(`file for ${t.kind}`), { tokens });
    // parameters in another order are the same URL
    const first = await GET(req(`/api/files/7?v=2&token=${share.token}&format=pdf`), undefined);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('file for url');
    const again = await GET(req(share.url), undefined);
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toContain('invalid_token');

    const other = await tokens.issueUrl({ url: '/api/files/8' });
    const mismatch = await GET(req(other.url.replace('/8', '/7')), undefined);
    expect(mismatch.status).toBe(401);
    // the mismatched request spent nothing: the link still opens its own URL
    expect((await GET(req(other.url), undefined)).status).toBe(200);
  });

  it('with checkOrigin, opens a link on the origin the request was served on (Host), and there only', async () => {
    const tokens = createTokenAccess({ store: memoryStore(), checkOrigin: true });
    const share = await tokens.issueUrl({ url: 'https://a.test/api/files/7?v=1', maxUses: 1 });
    const GET = withToken(() => new Response('ok'), { tokens });
    // Under `next start`, request.url holds the listening address, whatever the Host: the
    // origin is the Host header under the protocol Next decided.
    const served = (host: string, protocol = 'https') =>
      new NextRequest(`${protocol}://localhost:3000/api/files/7?v=1&token=${share.token}`, { headers: { host } });
    for (const host of ['b.test', 'a.test:8443', 'a.test.b.test', 'a.test/api/files/7?', 'a.test@b.test']) {
      expect((await GET(served(host), undefined)).status, host).toBe(401);
    }
    expect((await GET(served('a.test', 'http'), undefined)).status).toBe(401);
    const ok = await GET(served('a.test'), undefined);
    expect(ok.status).toBe(200);
    expect((await GET(served('a.test'), undefined)).status).toBe(401); // the one use was spent there
  });

  it('urlTokens: false ignores share links', async () => {
    const tokens = setup();
    const share = await tokens.issueUrl({ url: '/api/files/7' });
    const GET = withToken(() => new Response('ok'), { tokens, urlTokens: false });
    const res = await GET(req(share.url), undefined);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  it('supports a custom header, getToken and onError', async () => {
    const tokens = setup();
    const { token } = await tokens.issue({ subject: 'carol', name: 'k' });
    const viaHeader = withToken((_r, _c, t) => new Response(t.subject), { tokens, header: 'x-api-key' });
    expect(await (await viaHeader(req('/api/x', { headers: { 'x-api-key': token } }), undefined)).text()).toBe('carol');

    const viaCookie = withToken((_r, _c, t) => new Response(t.subject), {
      tokens,
      getToken: (r) => (r as NextRequest).cookies.get('api_token')?.value,
    });
    expect(await (await viaCookie(req('/api/x', { headers: { cookie: `api_token=${token}` } }), undefined)).text()).toBe('carol');

    const custom = withToken(() => new Response('ok'), {
      tokens,
      onError: (error) => Response.json({ denied: error.code }, { status: error.status }),
    });
    const res = await custom(req('/api/x'), undefined);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ denied: 'missing' });
  });

  it('answers 503 when the store fails, and refuses bad options at wrap time', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store: { ...store, consume: async () => { throw new Error('down'); } }, onHookError: () => {} });
    const { token } = await createTokenAccess({ store }).issue({ subject: 'd', name: 'k' });
    const GET = withToken(() => new Response('ok'), { tokens });
    const res = await GET(req('/api/x', { token }), undefined);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    // @ts-expect-error tokens is required
    expect(() => withToken(() => new Response(''), {})).toThrow(/\[tokenaccess\] \[next\]/);
    expect(() => withToken(() => new Response(''), { tokens, scopes: ['a b'] })).toThrow(/\[tokenaccess\] \[next\] scopes: "a b" is not a valid scope/);
  });
});
