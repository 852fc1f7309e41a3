import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAnyScope, requireScopes, tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, bearer, listen, setup } from './helpers';

type User = { id: string; name: string };
const users = new Map<string, User>([['u1', { id: 'u1', name: 'Ada' }]]);
const { tokens } = setup();
let srv: Running;

beforeAll(async () => {
  const app = new Koa<TokenState<User>>();

  // a whole group behind tokenAuth
  const api = new Router<TokenState<User>>({ prefix: '/api' });
  api.use(tokenAuth<User>({ tokens, loadSubject: (subject) => users.get(subject) ?? null }));
  api.get('/me', (ctx) => {
    ctx.body = { user: ctx.state.user, tokenId: ctx.state.token.id };
  });
  api.get('/users', requireScopes('users:read'), (ctx) => (ctx.body = [...users.values()]));
  api.post('/users', requireScopes('users:write', 'audit.log'), (ctx) => (ctx.body = { created: true }));
  api.get('/reports', requireAnyScope('reports:read', 'admin'), (ctx) => (ctx.body = 'reports'));
  api.get('/odd', requireScopes('tenant/42:files#read'), (ctx) => (ctx.body = 'odd'));

  // single routes: one protected, one public, on the same router
  const site = new Router<TokenState>();
  site.get('/public', (ctx) => (ctx.body = 'hello'));
  site.get('/private', tokenAuth({ tokens, scopes: ['site:view'] }), (ctx) => (ctx.body = `hi ${ctx.state.token.subject}`));
  site.get('/custom-key', tokenAuth({ tokens, key: 'apiToken' }), (ctx) => (ctx.body = { id: (ctx.state as unknown as { apiToken: { id: string } }).apiToken.id }));
  site.get('/custom-key/scoped', tokenAuth({ tokens, key: 'apiToken' }), requireScopes('x'), (ctx) => (ctx.body = 'x'));
  site.get('/header', tokenAuth({ tokens, header: 'x-api-key' }), (ctx) => (ctx.body = 'header'));
  site.get('/cookie', tokenAuth({ tokens, getToken: (ctx) => ctx.cookies.get('tk') }), (ctx) => (ctx.body = 'cookie'));
  // anonymous or signed in
  site.get('/feed', tokenAuth({ tokens, passthrough: true }), (ctx) => {
    ctx.body = ctx.state.token ? { personal: ctx.state.token.subject } : { anonymous: true, reason: ctx.state.tokenError?.code };
  });
  site.get('/feed/scoped', tokenAuth({ tokens, passthrough: true }), requireScopes('feed:read'), (ctx) => (ctx.body = 'scoped'));
  site.get('/no-auth-then-scopes', requireScopes('x'), (ctx) => (ctx.body = 'never'));

  app.use(api.routes()).use(api.allowedMethods());
  app.use(site.routes()).use(site.allowedMethods());
  srv = await listen(app);
});
afterAll(() => srv.close());

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(srv.url + path, { method, headers });
const issue = async (scopes?: string[], subject = 'u1') => (await tokens.issue({ subject, name: 'test', ...(scopes ? { scopes } : {}) })).token;

describe('group protection: router.use(tokenAuth()) on new Router({ prefix: "/api" })', () => {
  it('every route of the group refuses a request without a token, and routes outside the group stay public', async () => {
    for (const [path, method] of [['/api/me', 'GET'], ['/api/users', 'GET'], ['/api/users', 'POST'], ['/api/reports', 'GET']] as const) {
      const res = await get(path, {}, method);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    }
    const pub = await get('/public');
    expect(pub.status).toBe(200);
    expect(await pub.text()).toBe('hello');
  });

  it('loadSubject puts the owner on ctx.state.user next to ctx.state.token', async () => {
    const { token, info } = await tokens.issue({ subject: 'u1', name: 'me' });
    const res = await get('/api/me', bearer(token));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: { id: 'u1', name: 'Ada' }, tokenId: info.id });
  });

  it('loadSubject returning null (the owner is gone) → 401 invalid_token', async () => {
    const token = await issue(undefined, 'deleted-user');
    const res = await get('/api/me', bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await res.json()).toEqual({ error: 'invalid_token', message: 'The access token is invalid.' });
  });

  it('loadSubject throwing → 503 unavailable, reported on app.on("error")', async () => {
    const app = new Koa();
    const errors: unknown[] = [];
    app.on('error', (e) => errors.push(e));
    app.use(tokenAuth({ tokens, loadSubject: () => Promise.reject(new Error('users db down')) }));
    app.use((ctx) => (ctx.body = 'never'));
    const s = await listen(app);
    try {
      const res = await fetch(s.url, { headers: bearer(await issue()) });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'temporarily_unavailable', message: 'Authentication is temporarily unavailable.' });
      expect(errors.map((e) => (e as Error).message)).toEqual(['users db down']);
    } finally {
      await s.close();
    }
  });
});

describe('requireScopes / requireAnyScope', () => {
  it('all of several scopes; wildcards cover; a missing one → 403 with scope= naming all required', async () => {
    expect((await get('/api/users', bearer(await issue(['users:read'])))).status).toBe(200);
    expect((await get('/api/users', bearer(await issue(['users:*'])))).status).toBe(200);
    expect((await get('/api/users', bearer(await issue())))).toMatchObject({ status: 200 }); // ['*']
    expect((await get('/api/users', {}, 'POST')).status).toBe(401);
    expect((await get('/api/users', bearer(await issue(['users:write', 'audit.log'])), 'POST')).status).toBe(200);
    const res = await get('/api/users', bearer(await issue(['users:write'])), 'POST');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="users:write audit.log"',
    );
    expect(await res.json()).toEqual({ error: 'insufficient_scope', message: 'The access token does not grant the required scope.' });
  });

  it('any of several scopes', async () => {
    expect((await get('/api/reports', bearer(await issue(['admin'])))).status).toBe(200);
    expect((await get('/api/reports', bearer(await issue(['reports:read'])))).status).toBe(200);
    const res = await get('/api/reports', bearer(await issue(['users:read'])));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="reports:read admin"');
  });

  it('scope names with any characters (:, ., /, #)', async () => {
    expect((await get('/api/odd', bearer(await issue(['tenant/42:files#read'])))).status).toBe(200);
    expect((await get('/api/odd', bearer(await issue(['tenant/42:*'])))).status).toBe(200);
    expect((await get('/api/odd', bearer(await issue(['tenant/4:files#read'])))).status).toBe(403);
  });

  it('without tokenAuth before it: 401, not a crash', async () => {
    const res = await get('/no-auth-then-scopes');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized', message: 'Authentication is required.' });
  });

  it('refuses to be built without scopes', () => {
    expect(() => requireScopes()).toThrow(/\[tokenaccess\] \[koa\] requireScopes needs at least one scope/);
  });
});

describe('single-route protection and options', () => {
  it('tokenAuth({ scopes }) on one route checks the scopes inside consume', async () => {
    expect((await get('/private')).status).toBe(401);
    expect((await get('/private', bearer(await issue(['site:view'])))).status).toBe(200);
    expect((await get('/private', bearer(await issue(['other'])))).status).toBe(403);
  });

  it('key puts the token on another state property, and requireScopes follows it', async () => {
    const { token, info } = await tokens.issue({ subject: 'u1', name: 'k', scopes: ['x'] });
    expect(await (await get('/custom-key', bearer(token))).json()).toEqual({ id: info.id });
    expect((await get('/custom-key/scoped', bearer(token))).status).toBe(200);
    expect((await get('/custom-key/scoped', bearer(await issue(['y'])))).status).toBe(403);
  });

  it('header reads another header (Bearer optional), getToken replaces extraction', async () => {
    const token = await issue();
    expect((await get('/header', { 'x-api-key': token })).status).toBe(200);
    expect((await get('/header', { 'x-api-key': `Bearer ${token}` })).status).toBe(200);
    expect((await get('/header', bearer(token))).status).toBe(401);
    expect((await get('/cookie', { cookie: `tk=${token}` })).status).toBe(200);
    expect((await get('/cookie')).status).toBe(401);
  });
});

describe('passthrough', () => {
  it('continues without a token, with the refusal on ctx.state.tokenError', async () => {
    expect(await (await get('/feed')).json()).toEqual({ anonymous: true, reason: 'missing' });
    expect(await (await get('/feed', bearer('tka_garbage'))).json()).toEqual({ anonymous: true, reason: 'malformed' });
    expect(await (await get('/feed', bearer(await issue()))).json()).toEqual({ personal: 'u1' });
  });

  it('a later requireScopes answers the original refusal (an invalid token stays invalid_token)', async () => {
    const bad = await get('/feed/scoped', bearer('tka_garbage'));
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await get('/feed/scoped')).headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect((await get('/feed/scoped', bearer(await issue(['feed:read'])))).status).toBe(200);
  });
});
