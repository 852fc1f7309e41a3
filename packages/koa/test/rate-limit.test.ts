// Per-token rate limits over real HTTP (Koa on node:http): the RateLimit headers of a counted
// verification, the 429 with Retry-After once the window is full (spending no use), and the
// headers kept when a later middleware throws into Koa's default error handler.
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyError } from '@tokenaccess/core';
import { requireScopes, shareLink, throwTokenError, tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type RawResponse, type Running, bearer, listen, rawRequest, setup } from './helpers';

const { tokens, advance } = setup();
const HOST = 'api.test';
let srv: Running;
const errors: unknown[] = [];
// one error object thrown by every request to /shared-error, as an app's module-level constant is
const SHARED = Object.assign(new Error('teapot'), { status: 418, expose: true });

beforeAll(async () => {
  const router = new Router<TokenState>();
  const auth = tokenAuth({ tokens, urlTokens: true });
  router.get('/ok', auth, (ctx) => (ctx.body = { id: ctx.state.token.id, uses: ctx.state.token.uses }));
  router.get('/boom', auth, () => {
    throw new Error('the handler failed');
  });
  router.get('/shared-error', auth, () => {
    throw SHARED;
  });
  router.get('/own-header', auth, (ctx) => {
    ctx.set('RateLimit', '"app";r=9;t=1');
    ctx.body = 'own';
  });
  router.get('/admin', auth, requireScopes('admin'), (ctx) => (ctx.body = 'admin'));
  router.get('/thrown', tokenAuth({ tokens, onError: throwTokenError }), (ctx) => (ctx.body = 'ok'));
  router.get('/maybe', tokenAuth({ tokens, passthrough: true }), requireScopes('reports:read'), (ctx) => (ctx.body = 'reports'));
  router.get('/files/:name', shareLink(tokens, { cookie: 'file_session' }), (ctx) => (ctx.body = 'file'));
  const app = new Koa(); // no error middleware: Koa's own ctx.onerror answers thrown errors
  app.on('error', (e: unknown) => errors.push(e));
  app.use(router.routes());
  srv = await listen(app);
});
afterAll(() => srv.close());

const get = (target: string, headers: Record<string, string> = {}) => rawRequest(srv, `GET ${target} HTTP/1.1`, { host: HOST, ...headers });
const rate = (res: RawResponse) => ({ ratelimit: res.headers.ratelimit, policy: res.headers['ratelimit-policy'], retryAfter: res.headers['retry-after'] });
const limited = (extra: { maxUses?: number; scopes?: string[] } = {}) =>
  tokens.issue({ subject: 'u1', name: 'limited', rateLimit: { limit: 2, window: '1m' }, ...extra });

describe('tokenAuth with a rate-limited token', () => {
  it('200, 200 with RateLimit headers (r=1, r=0), then 429 with Retry-After and a JSON body; the 429 spends no use', async () => {
    const { token, info } = await limited({ maxUses: 10 });
    const one = await get('/ok', bearer(token));
    expect(one.status).toBe(200);
    expect(rate(one)).toEqual({ ratelimit: '"token";r=1;t=60', policy: '"token";q=2;w=60', retryAfter: undefined });
    expect(JSON.parse(one.body)).toEqual({ id: info.id, uses: 1 });
    const two = await get('/ok', bearer(token));
    expect(two.status).toBe(200);
    expect(rate(two)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=2;w=60', retryAfter: undefined });

    advance(15_000);
    const three = await get('/ok', bearer(token));
    expect(three.status).toBe(429);
    expect(rate(three)).toEqual({ ratelimit: '"token";r=0;t=45', policy: '"token";q=2;w=60', retryAfter: '45' });
    expect(three.headers['content-type']).toMatch(/^application\/json/);
    expect(three.headers['cache-control']).toBe('no-store');
    expect(three.headers['www-authenticate']).toBeUndefined();
    expect(JSON.parse(three.body)).toEqual({ error: 'rate_limited', message: expect.any(String) });
    expect(three.body).not.toMatch(/\n\s+at |\.ts:\d|tka_/);
    // each header once
    expect(three.headerLines.filter(([n]) => n === 'ratelimit' || n === 'retry-after')).toHaveLength(2);
    expect((await tokens.get(info.id))!.uses).toBe(2);

    // the next window opens the token again
    advance(45_000);
    const four = await get('/ok', bearer(token));
    expect(four.status).toBe(200);
    expect(rate(four)).toEqual({ ratelimit: '"token";r=1;t=60', policy: '"token";q=2;w=60', retryAfter: undefined });
    expect(JSON.parse(four.body)).toEqual({ id: info.id, uses: 3 });
  });

  it('an unlimited token gets no RateLimit headers', async () => {
    const { token } = await tokens.issue({ subject: 'u1', name: 'free' });
    const res = await get('/ok', bearer(token));
    expect(res.status).toBe(200);
    expect(rate(res)).toEqual({ ratelimit: undefined, policy: undefined, retryAfter: undefined });
  });

  it('keeps the RateLimit headers when a later middleware throws into Koa’s default error handler', async () => {
    const { token } = await limited();
    const res = await get('/boom', bearer(token));
    expect(res.status).toBe(500);
    expect(res.body).toBe('Internal Server Error');
    expect(rate(res)).toEqual({ ratelimit: '"token";r=1;t=60', policy: '"token";q=2;w=60', retryAfter: undefined });
    expect(errors.some((e) => (e as Error).message === 'the handler failed')).toBe(true);
  });

  it('a shared error object carries each request’s own counts and is left as it was', async () => {
    const a = await limited();
    const b = await tokens.issue({ subject: 'u2', name: 'wider', rateLimit: { limit: 5, window: '2m' } });
    const first = await get('/shared-error', bearer(a.token));
    expect(first.status).toBe(418);
    expect(first.body).toBe('teapot');
    expect(rate(first).ratelimit).toBe('"token";r=1;t=60');
    const second = await get('/shared-error', bearer(b.token));
    expect(rate(second)).toEqual({ ratelimit: '"token";r=4;t=120', policy: '"token";q=5;w=120', retryAfter: undefined });
    expect(Object.prototype.hasOwnProperty.call(SHARED, 'headers')).toBe(false);
    // a request without a rate-limited token: nothing of the others' leaks into its answer
    const { token } = await tokens.issue({ subject: 'u3', name: 'free' });
    expect(rate(await get('/shared-error', bearer(token)))).toEqual({ ratelimit: undefined, policy: undefined, retryAfter: undefined });
  });

  it('a header the route sets itself wins', async () => {
    const { token } = await limited();
    const res = await get('/own-header', bearer(token));
    expect(res.headers.ratelimit).toBe('"app";r=9;t=1');
    expect(res.headers['ratelimit-policy']).toBe('"token";q=2;w=60');
  });

  it('requireScopes refusing a counted token still reports the count', async () => {
    const { token } = await limited({ scopes: ['reports:read'] });
    const res = await get('/admin', bearer(token));
    expect(res.status).toBe(403);
    expect(rate(res).ratelimit).toBe('"token";r=1;t=60');
  });

  it('onError: throwTokenError → 429 with Retry-After and the RateLimit headers under Koa’s default handler', async () => {
    const { token } = await limited();
    expect((await get('/thrown', bearer(token))).status).toBe(200);
    expect((await get('/thrown', bearer(token))).status).toBe(200);
    const res = await get('/thrown', bearer(token));
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=2;w=60', retryAfter: '60' });
    expect(res.body).toBe(verifyError('rate_limited').message); // Koa's text/plain answer of an exposed error
  });

  it('passthrough: the refusal waits on ctx.state.tokenError, and requireScopes answers it as the 429', async () => {
    const { token } = await limited({ scopes: ['reports:read'] });
    expect((await get('/maybe', bearer(token))).status).toBe(200);
    expect((await get('/maybe', bearer(token))).status).toBe(200);
    const res = await get('/maybe', bearer(token));
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=2;w=60', retryAfter: '60' });
    expect(JSON.parse(res.body).error).toBe('rate_limited');
  });
});

describe('share links', () => {
  it('tokenAuth({ urlTokens }) sends the link’s RateLimit headers, then 429', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/ok?id=7`, maxUses: null, rateLimit: { limit: 1, window: '10s' } });
    const target = share.url.slice(`http://${HOST}`.length);
    const ok = await get(target);
    expect(ok.status).toBe(200);
    expect(rate(ok)).toEqual({ ratelimit: '"token";r=0;t=10', policy: '"token";q=1;w=10', retryAfter: undefined });
    const refused = await get(target);
    expect(refused.status).toBe(429);
    expect(rate(refused)).toEqual({ ratelimit: '"token";r=0;t=10', policy: '"token";q=1;w=10', retryAfter: '10' });
  });

  it('shareLink passes core’s 429 on with its headers, and the link keeps its uses', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/files/a.pdf`, maxUses: 5, rateLimit: { limit: 1, window: '1m' } });
    const target = share.url.slice(`http://${HOST}`.length);
    expect((await get(target)).status).toBe(303);
    const res = await get(target);
    expect(res.status).toBe(429);
    expect(rate(res)).toEqual({ ratelimit: '"token";r=0;t=60', policy: '"token";q=1;w=60', retryAfter: '60' });
    expect(JSON.parse(res.body).error).toBe('rate_limited');
    expect((await tokens.get(share.info.id))!.uses).toBe(1);
  });
});
