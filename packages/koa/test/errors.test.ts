import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '@tokenaccess/core';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, bearer, brokenStore, listen, setup } from './helpers';

const { tokens, advance } = setup();
let srv: Running;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const app = new Koa<TokenState>();
  app.use(tokenAuth({ tokens, urlTokens: true }));
  app.use((ctx) => {
    ctx.body = { id: ctx.state.token.id };
  });
  srv = await listen(app);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await srv.close();
});
afterEach(() => expect(unhandled).toEqual([]));

const realm = 'Bearer realm="api"';
const invalidToken = (description: string) => `${realm}, error="invalid_token", error_description="${description}"`;

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(srv.url + path, { headers });
  const text = await res.text();
  return { status: res.status, www: res.headers.get('www-authenticate'), type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: text ? JSON.parse(text) : undefined };
}

describe('each refusal answers its RFC 6750 status, WWW-Authenticate and JSON body', () => {
  it('a valid token passes and lands on ctx.state.token', async () => {
    const { token, info } = await tokens.issue({ subject: 'u1', name: 'ok' });
    const r = await call('/', bearer(token));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: info.id });
  });

  it('missing → 401 with a bare challenge and no error code', async () => {
    const r = await call('/');
    expect(r).toMatchObject({ status: 401, www: realm, cache: 'no-store', body: { error: 'unauthorized', message: 'Authentication is required.' } });
    expect(r.type).toMatch(/^application\/json/);
    // another scheme is "no Bearer credentials", not a malformed request
    expect((await call('/', { authorization: 'Basic dXNlcjpwYXNz' })).status).toBe(401);
  });

  it('invalid_request → 400: two credentials in one header, or a Bearer token and a URL token at once', async () => {
    const r = await call('/', { authorization: 'Bearer a b' });
    expect(r).toMatchObject({ status: 400, www: `${realm}, error="invalid_request", error_description="The request is malformed."`, body: { error: 'invalid_request', message: 'The request is malformed.' } });
    const { token } = await tokens.issue({ subject: 'u1', name: 'two' });
    const share = await tokens.issueUrl({ url: '/?a=1' });
    const both = await call(share.url, bearer(token));
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
  });

  it('malformed → 401 invalid_token', async () => {
    const r = await call('/', bearer('tka_notatokenatall'));
    expect(r).toMatchObject({ status: 401, www: invalidToken('The access token is invalid.'), body: { error: 'invalid_token', message: 'The access token is invalid.' } });
  });

  it('not_found (well-formed, unknown or revoked) → 401 invalid_token', async () => {
    expect(await call('/', bearer(generateToken('tka')))).toMatchObject({ status: 401, www: invalidToken('The access token is invalid.') });
    const { token } = await tokens.issue({ subject: 'u1', name: 'revoked' });
    await tokens.revoke(token);
    expect(await call('/', bearer(token))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  it('expired → 401 invalid_token', async () => {
    const { token } = await tokens.issue({ subject: 'u1', name: 'short', expiresIn: '1h' });
    expect((await call('/', bearer(token))).status).toBe(200);
    advance(2 * 3600_000);
    expect(await call('/', bearer(token))).toMatchObject({ status: 401, www: invalidToken('The access token expired.'), body: { error: 'invalid_token', message: 'The access token expired.' } });
  });

  it('exhausted → 401 invalid_token', async () => {
    const { token } = await tokens.issue({ subject: 'u1', name: 'once', maxUses: 1 });
    expect((await call('/', bearer(token))).status).toBe(200);
    expect(await call('/', bearer(token))).toMatchObject({ status: 401, www: invalidToken('The access token has been used up.'), body: { error: 'invalid_token' } });
  });

  it('url_mismatch → 401 invalid_token (a changed parameter, or an API token put in a URL)', async () => {
    const share = await tokens.issueUrl({ url: '/report?id=7', maxUses: 5 });
    const tampered = share.url.replace('id=7', 'id=8');
    expect(await call(tampered)).toMatchObject({ status: 401, www: invalidToken('The access token is not valid for this URL.'), body: { error: 'invalid_token' } });
    expect((await call(share.url)).status).toBe(200);
    const { token } = await tokens.issue({ subject: 'u1', name: 'api' });
    expect((await call(`/report?id=7&token=${token}`)).status).toBe(401);
  });

  it('insufficient_scope → 403 with scope="…" naming what was required', async () => {
    const app = new Koa();
    app.use(tokenAuth({ tokens, scopes: ['users:read', 'billing.view'] }));
    app.use((ctx) => (ctx.body = 'ok'));
    const s = await listen(app);
    try {
      const { token } = await tokens.issue({ subject: 'u1', name: 'narrow', scopes: ['users:read'] });
      const res = await fetch(s.url, { headers: bearer(token) });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe(`${realm}, error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="users:read billing.view"`);
      expect(await res.json()).toEqual({ error: 'insufficient_scope', message: 'The access token does not grant the required scope.' });
    } finally {
      await s.close();
    }
  });

  it('unavailable → 503 with Retry-After when the store rejects, never a 500 and no unhandled rejection', async () => {
    const broken = setup({ store: brokenStore() }).tokens;
    const app = new Koa();
    const errors: unknown[] = [];
    app.on('error', (e) => errors.push(e));
    app.use(tokenAuth({ tokens: broken, urlTokens: true }));
    app.use((ctx) => (ctx.body = 'never'));
    const s = await listen(app);
    try {
      for (const path of ['/', '/x?token=' + generateToken('tka')]) {
        const res = await fetch(s.url + path, { headers: path === '/' ? bearer(generateToken('tka')) : {} });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(res.headers.get('www-authenticate')).toBeNull();
        expect(await res.json()).toEqual({ error: 'temporarily_unavailable', message: 'Authentication is temporarily unavailable.' });
      }
      // core turned the store failure into a refusal: nothing reached Koa's error path
      expect(errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
