// Per-token rate limits: withToken sends the RateLimit headers of the verification it counts and
// answers 429 with Retry-After once the window is full; tokenProxy (count: false) counts nothing
// and passes core's 429 on as a 429; the share-link exchange does the same.
import { type TokenAccess, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { createNextAuth, exchangeRoute, tokenProxy, withToken } from '@tokenaccess/next';
import { NextRequest } from 'next/server';
import { describe, expect, it } from 'vitest';

function setup(): { tokens: TokenAccess; advance(ms: number): void } {
  let now = Date.now();
  const tokens = createTokenAccess({ store: memoryStore(), clock: () => now });
  return { tokens, advance: (ms) => void (now += ms) };
}
const req = (path: string, headers: Record<string, string> = {}, method = 'GET') => new NextRequest(`http://localhost:3000${path}`, { method, headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const rate = (res: Response) => ({ ratelimit: res.headers.get('ratelimit'), policy: res.headers.get('ratelimit-policy'), retryAfter: res.headers.get('retry-after') });
const limitedToken = (tokens: TokenAccess, extra: { maxUses?: number } = {}) =>
  tokens.issue({ subject: 'u1', name: 'limited', scopes: ['reports:read'], rateLimit: { limit: 2, window: '1m' }, ...extra });

describe('withToken', () => {
  it('200, 200 with RateLimit headers (r=1, r=0), then 429 with Retry-After and a JSON body; the 429 spends no use and skips the handler', async () => {
    const { tokens, advance } = setup();
    const { token, info } = await limitedToken(tokens, { maxUses: 10 });
    let calls = 0;
    const GET = withToken((_r, _c, t) => (calls++, Response.json({ uses: t.uses })), { tokens, scopes: ['reports:read'] });

    const one = await GET(req('/api/reports', bearer(token)), undefined);
    expect(one.status).toBe(200);
    expect(rate(one)).toEqual({ ratelimit: '"token";r=1;t=60', policy: '"token";q=2;w=60', retryAfter: null });
    expect(await one.json()).toEqual({ uses: 1 });
    const two = await GET(req('/api/reports', bearer(token)), undefined);
    expect(rate(two)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=2;w=60', retryAfter: null });

    advance(20_000);
    const three = await GET(req('/api/reports', bearer(token)), undefined);
    expect(three.status).toBe(429);
    expect(rate(three)).toEqual({ ratelimit: '"token";r=0;t=40', policy: '"token";q=2;w=60', retryAfter: '40' });
    expect(three.headers.get('www-authenticate')).toBeNull();
    expect(three.headers.get('cache-control')).toBe('no-store');
    const body = await three.json();
    expect(body).toEqual({ error: 'rate_limited', message: expect.any(String) });
    expect(JSON.stringify(body)).not.toMatch(/\bat |tka_/);
    expect(calls).toBe(2);
    expect((await tokens.get(info.id))!.uses).toBe(2);

    advance(40_000);
    const four = await GET(req('/api/reports', bearer(token)), undefined);
    expect(four.status).toBe(200);
    expect(rate(four).ratelimit).toBe('"token";r=1;t=60');
  });

  it('adds the headers to a response with immutable headers, keeps the handler’s own, and leaves unlimited tokens alone', async () => {
    const { tokens } = setup();
    const { token } = await limitedToken(tokens);
    const redirect = withToken(() => Response.redirect('http://localhost:3000/elsewhere', 307), { tokens });
    const moved = await redirect(req('/go', bearer(token)), undefined);
    expect(moved.status).toBe(307);
    expect(moved.headers.get('location')).toBe('http://localhost:3000/elsewhere');
    expect(rate(moved)).toEqual({ ratelimit: '"token";r=1;t=60', policy: '"token";q=2;w=60', retryAfter: null });

    const own = withToken(() => new Response('own', { headers: { ratelimit: '"app";r=9;t=1' } }), { tokens });
    const res = await own(req('/own', bearer(token)), undefined);
    expect(await res.text()).toBe('own');
    expect(rate(res)).toEqual({ ratelimit: '"app";r=9;t=1', policy: '"token";q=2;w=60', retryAfter: null });

    const free = await tokens.issue({ subject: 'u2', name: 'free' });
    const plain = await own(req('/own', bearer(free.token)), undefined);
    expect(rate(plain)).toEqual({ ratelimit: '"app";r=9;t=1', policy: null, retryAfter: null });
  });

  it('a custom onError receives the 429 with its headers', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue({ subject: 'u1', name: 'one', rateLimit: { limit: 1, window: '10s' } });
    const GET = withToken(() => new Response('ok'), { tokens, onError: (error) => Response.json({ denied: error.code }, { status: error.status, headers: error.headers }) });
    expect((await GET(req('/x', bearer(token)), undefined)).status).toBe(200);
    const res = await GET(req('/x', bearer(token)), undefined);
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=10', policy: '"token";q=1;w=10', retryAfter: '10' });
    expect(await res.json()).toEqual({ denied: 'rate_limited' });
  });

  it('createNextAuth’s bound withToken does the same, for share links too', async () => {
    const { tokens } = setup();
    const auth = createNextAuth(tokens);
    const share = await tokens.issueUrl({ url: '/api/files/7', maxUses: null, rateLimit: { limit: 1, window: '1h' } });
    const GET = auth.withToken(() => new Response('file'));
    const ok = await GET(req(share.url.replace(/^https?:\/\/[^/]+/, '')), undefined);
    expect(ok.status).toBe(200);
    expect(rate(ok)).toEqual({ ratelimit: '"token";r=0;t=3600', policy: '"token";q=1;w=3600', retryAfter: null });
    const refused = await GET(req(share.url.replace(/^https?:\/\/[^/]+/, '')), undefined);
    expect(refused.status).toBe(429);
    expect(rate(refused).retryAfter).toBe('3600');
  });
});

describe('tokenProxy (count: false)', () => {
  it('counts nothing, lets the handler count, and passes a full window on as 429 with its headers, not 401', async () => {
    const { tokens } = setup();
    const { token, info } = await limitedToken(tokens, { maxUses: 10 });
    const proxy = tokenProxy({ tokens, rules: [{ match: '/api/:path*', scopes: ['reports:read'] }] });
    const GET = withToken(() => new Response('ok'), { tokens });
    const passes = (res: Response) => res.headers.get('x-middleware-next') === '1';

    for (const r of [1, 0]) {
      const gate = await proxy(req('/api/reports', bearer(token)));
      expect(passes(gate)).toBe(true);
      expect(gate.headers.get('ratelimit')).toBeNull(); // the handler's verification reports the count
      const res = await GET(req('/api/reports', bearer(token)), undefined);
      expect(rate(res).ratelimit).toBe(`"token";r=${r};t=60`);
    }
    // the proxy alone, many times: still nothing counted
    for (let i = 0; i < 3; i++) expect((await proxy(req('/api/reports', bearer(token)))).status).toBe(429);
    const refused = await proxy(req('/api/reports', bearer(token)));
    expect(refused.status).toBe(429);
    expect(rate(refused)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=2;w=60', retryAfter: '60' });
    expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
    const after = (await tokens.get(info.id))!;
    expect([after.uses, after.rateCount]).toEqual([2, 2]);

    const custom = tokenProxy({ tokens, rules: [{ match: '/api/:path*' }], onError: (e) => new Response(e.code, { status: e.status, headers: e.headers }) });
    const res = await custom(req('/api/reports', bearer(token)));
    expect([res.status, await res.text(), res.headers.get('retry-after')]).toEqual([429, 'rate_limited', '60']);
  });

  it('an exchange rule passes core’s 429 for a link whose window is full', async () => {
    const { tokens } = setup();
    const share = await tokens.issueUrl({ url: '/shared/s1', maxUses: 5, rateLimit: { limit: 1, window: '1m' } });
    const proxy = tokenProxy({ tokens, rules: [{ match: '/shared/:id', exchange: true }] });
    const path = share.url.replace(/^https?:\/\/[^/]+/, '');
    expect((await proxy(req(path, { host: 'a.test' }))).status).toBe(303);
    const res = await proxy(req(path, { host: 'a.test' }));
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=1;w=60', retryAfter: '60' });
    expect((await tokens.get(share.info.id))!.uses).toBe(1);
  });
});

describe('exchangeRoute', () => {
  it('answers core’s 429 with its headers, spending no use', async () => {
    const { tokens } = setup();
    const share = await tokens.issueUrl({ url: '/files/a.pdf', maxUses: 5, rateLimit: { limit: 1, window: '1m' } });
    const { GET } = exchangeRoute(tokens);
    const path = share.url.replace(/^https?:\/\/[^/]+/, '');
    expect((await GET(req(path, { host: 'a.test' }), undefined)).status).toBe(303);
    const res = await GET(req(path, { host: 'a.test' }), undefined);
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=1;w=60', retryAfter: '60' });
    expect((await tokens.get(share.info.id))!.uses).toBe(1);
  });
});
