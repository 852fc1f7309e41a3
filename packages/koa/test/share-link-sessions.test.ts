// shareLink(): a share link exchanged for a session cookie, then the page served to the session
// by tokenAuth({ cookie }). Over real HTTP with raw request targets (node:net), since fetch
// would resolve dot segments and follow the 303.
import Koa from 'koa';
import Router from '@koa/router';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareLink, tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type RawResponse, type Running, listen, rawRequest } from './helpers';

const tokens = createTokenAccess({ store: memoryStore(), checkOrigin: true, onHookError: () => {} });
const COOKIE = 'file_session';
let srv: Running;
const loads: string[] = [];

beforeAll(async () => {
  const router = new Router<TokenState<{ id: string }>>();
  const serve = tokenAuth<{ id: string }>({ tokens, cookie: COOKIE, loadSubject: (id) => (loads.push(id), { id }) });
  const file = (ctx: Koa.ParameterizedContext<TokenState<{ id: string }>>) => {
    ctx.body = { file: ctx.params.name, kind: ctx.state.token.kind, scopes: ctx.state.token.scopes, user: ctx.state.user ?? null };
  };
  router.get('/files/:name', shareLink(tokens, { cookie: COOKIE }), serve, file);
  router.get('/confirm/:name', shareLink(tokens, { cookie: COOKIE, confirm: true }), serve, file);
  router.post('/confirm/:name', shareLink(tokens, { cookie: COOKIE, confirm: true }));
  const app = new Koa();
  // a cookie of the app's own, set before the exchange answers: both Set-Cookie lines must arrive
  app.use(async (ctx, next) => {
    ctx.cookies.set('app_pref', 'dark', { httpOnly: true });
    await next();
  });
  // tokenAuth with the session cookie on the whole app, so a walked path reaches it
  app.use(router.routes());
  app.use(tokenAuth({ tokens, cookie: COOKIE }));
  app.use((ctx) => (ctx.body = { reached: ctx.path }));
  srv = await listen(app);
});
afterAll(() => srv.close());

const HOST = 'files.test';
const request = (line: string, headers: Record<string, string> = {}) => rawRequest(srv, line, { host: HOST, ...headers });
const cookiesOf = (res: RawResponse) => res.headerLines.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
const sessionCookie = (res: RawResponse) => cookiesOf(res).find((c) => c.startsWith(`${COOKIE}=`))!.split(';')[0]!;
const targetOf = (url: string) => url.slice(`http://${HOST}`.length);

describe('shareLink: the link becomes a session', () => {
  it('303 to the URL without the token, an HttpOnly session cookie for the path, the app’s cookie kept; the session opens the page as a guest', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/files/q3.pdf?v=2`, subject: 'ada', scopes: ['files:read'] });
    const res = await request(`GET ${targetOf(share.url)} HTTP/1.1`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/files/q3.pdf?v=2');
    expect(res.body).toBe('');
    const cookies = cookiesOf(res);
    expect(cookies).toHaveLength(2);
    expect(cookies.find((c) => c.startsWith('app_pref='))).toContain('app_pref=dark');
    const session = cookies.find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(session).toMatch(/; Path=\/files\/q3\.pdf; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    expect(session).not.toContain(share.token);

    loads.length = 0;
    const page = await request('GET /files/q3.pdf?v=2 HTTP/1.1', { cookie: sessionCookie(res) });
    expect(page.status).toBe(200);
    // a guest: the link's scopes, no owner (loadSubject runs for access tokens only)
    expect(JSON.parse(page.body)).toEqual({ file: 'q3.pdf', kind: 'session', scopes: ['files:read'], user: null });
    expect(loads).toEqual([]);

    // the link itself was spent by the exchange
    const again = await request(`GET ${targetOf(share.url)} HTTP/1.1`);
    expect(again.status).toBe(401);
    expect(again.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('the session covers its own path only, walked spellings included', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/files/a.pdf` });
    const cookie = sessionCookie(await request(`GET ${targetOf(share.url)} HTTP/1.1`));
    expect((await request('GET /files/a.pdf HTTP/1.1', { cookie })).status).toBe(200);
    expect((await request('GET /files/b.pdf HTTP/1.1', { cookie })).status).toBe(401);
    expect((await request('GET /elsewhere HTTP/1.1', { cookie })).status).toBe(401);
    for (const walk of ['/files/a.pdf/../../elsewhere', '/files/a.pdf/%2e%2e/%2e%2e/elsewhere', '/files/a.pdf/..%5C..%5Celsewhere']) {
      const res = await request(`GET ${walk} HTTP/1.1`, { cookie });
      expect([walk, res.status]).toEqual([walk, 401]);
    }
  });

  it('refuses a walked link target and a bad Host before anything is spent', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/files/w.pdf` });
    const query = share.url.slice(share.url.indexOf('?'));
    for (const walk of [`/files/x/../w.pdf${query}`, `/files/%2e%2e/files/w.pdf${query}`, `/files/..%5Cw.pdf${query}`]) {
      const res = await request(`GET ${walk} HTTP/1.1`);
      expect([walk, res.status]).toEqual([walk, 401]);
      expect(cookiesOf(res).some((c) => c.startsWith(COOKIE))).toBe(false);
    }
    const badHost = await rawRequest(srv, `GET ${targetOf(share.url)} HTTP/1.1`, { host: 'files.test/evil?' });
    expect(badHost.status).toBe(400);
    // another host: the link is bound to files.test (checkOrigin), an absolute-form target does not choose it
    expect((await rawRequest(srv, `GET ${share.url} HTTP/1.1`, { host: 'other.test' })).status).toBe(401);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    expect((await request(`GET ${targetOf(share.url)} HTTP/1.1`)).status).toBe(303);
  });

  it('confirm: the GET (a link preview) gets a page and spends nothing; its POST exchanges the link', async () => {
    const share = await tokens.issueUrl({ url: `http://${HOST}/confirm/c.pdf` });
    const target = targetOf(share.url);
    for (let i = 0; i < 2; i++) {
      const page = await request(`GET ${target} HTTP/1.1`);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('<form method="post"');
      expect(cookiesOf(page).some((c) => c.startsWith(COOKIE))).toBe(false);
    }
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    const head = await request(`HEAD ${target} HTTP/1.1`);
    expect([head.status, head.body]).toEqual([200, '']);

    const posted = await request(`POST ${target} HTTP/1.1`, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' });
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe('/confirm/c.pdf');
    const page = await request('GET /confirm/c.pdf HTTP/1.1', { cookie: sessionCookie(posted) });
    expect(JSON.parse(page.body)).toMatchObject({ file: 'c.pdf', kind: 'session' });
    expect((await request(`POST ${target} HTTP/1.1`, { 'content-length': '0' })).status).toBe(401);
  });

  it('without the token parameter the request goes on to tokenAuth (no session: 401)', async () => {
    const res = await request('GET /files/none.pdf HTTP/1.1');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });
});

describe('shareLink setup', () => {
  it('needs the token service', () => {
    // @ts-expect-error tokens is required
    expect(() => shareLink(undefined)).toThrow(/\[tokenaccess\] \[koa\] shareLink needs the token service/);
    expect(() => tokenAuth({ tokens, cookie: '' })).toThrow(/cookie must be a cookie name/);
  });
});
