// A share link opens the route the router runs for its own path, and no other: tested over raw
// sockets, because fetch (and new URL) would resolve `/admin/../files` to `/files` before sending.
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, listen, rawRequest } from './helpers';

const tokens = createTokenAccess({ store: memoryStore() });
const ran: string[] = [];

/** The routes of the audit: a file route a link is issued for, an admin area, a catch-all page. */
function routes(router: Router<TokenState>): Router<TokenState> {
  router.get('/files', (ctx) => {
    ran.push('files');
    ctx.body = { file: ctx.query.id };
  });
  router.get('/docs/:name', (ctx) => {
    ran.push(`docs:${ctx.params.name}`);
    ctx.body = { doc: ctx.params.name };
  });
  router.get('/admin/*rest', (ctx) => {
    ran.push('admin');
    ctx.body = 'the admin area';
  });
  router.get('/*rest', (ctx) => {
    ran.push(`page:${ctx.params.rest}`);
    ctx.body = 'a page';
  });
  return router;
}

const apps: Record<string, Running> = {};
beforeAll(async () => {
  // tokenAuth on the whole app
  const onApp = new Koa<TokenState>();
  onApp.use(tokenAuth({ tokens, urlTokens: true }));
  onApp.use(routes(new Router<TokenState>()).routes());
  apps['tokenAuth on the app'] = await listen(onApp);
  // tokenAuth on a router group
  const group = new Router<TokenState>();
  group.use(tokenAuth({ tokens, urlTokens: true }));
  apps['tokenAuth on a router group'] = await listen(new Koa<TokenState>().use(routes(group).routes()));
});
afterAll(() => Promise.all(Object.values(apps).map((a) => a.close())));
beforeEach(() => void (ran.length = 0));

const get = (srv: Running, target: string, host = 'a.test') => rawRequest(srv, `GET ${target} HTTP/1.1`, { Host: host });
const MISMATCH = { error: 'invalid_token', message: 'The access token is not valid for this URL.' };

describe.each(['tokenAuth on the app', 'tokenAuth on a router group'])('%s', (name) => {
  it('a link for /files?id=7 is refused on every dot-segment or backslash walk; no handler runs, no use is spent', async () => {
    const srv = apps[name]!;
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=7', maxUses: 1 });
    const q = `?id=7&token=${share.token}`;
    const walks = [
      `/admin/../files${q}`,
      `/admin/%2e%2e/files${q}`,
      `/admin/%2e%2E/files${q}`,
      `/admin/.%2e/files${q}`,
      `/admin/..%5cfiles${q}`,
      `/admin/..%5Cfiles${q}`,
      `/admin/x/%2E%2E/%2e%2e/files${q}`,
      `/./files${q}`,
      `/%2e/files${q}`,
      `/files/.${q}`,
      `/files/x/..${q}`,
      // absolute-form: the path is taken from the target as it is, not resolved
      `http://a.test/admin/../files${q}`,
      `http://a.test/admin/%2e%2e/files${q}`,
    ];
    for (const target of walks) {
      const res = await get(srv, target);
      expect([target, res.status, JSON.parse(res.body)]).toEqual([target, 401, MISMATCH]);
    }
    expect(ran).toEqual([]);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    // the link itself is good: its one use is still there
    const ok = await get(srv, `/files${q}`);
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { file: '7' }]);
    expect(ran).toEqual(['files']);
  });

  it('an encoded slash stays part of its segment: @koa/router decodes it into the route parameter, and a link opens only that one resource', async () => {
    const srv = apps[name]!;
    // a name holding a slash: routed to /docs/:name with name 'a/b'
    const slash = await tokens.issueUrl({ url: 'http://a.test/docs/a%2Fb', maxUses: 10 });
    const t = `?token=${slash.token}`;
    const opened = await get(srv, `/docs/a%2Fb${t}`);
    expect([opened.status, JSON.parse(opened.body)]).toEqual([200, { doc: 'a/b' }]);
    // %2f and %2F are the same character, and the router decodes both to the same name
    const lower = await get(srv, `/docs/a%2fb${t}`);
    expect([lower.status, JSON.parse(lower.body)]).toEqual([200, { doc: 'a/b' }]);
    // a real slash is another path (the router sends it to the catch-all): refused
    for (const other of ['/docs/a/b', '/docs/a%252Fb', '/docs/a', '/docs/a%2Fb%2F..%2Fc']) {
      const res = await get(srv, `${other}${t}`);
      expect([other, res.status]).toEqual([other, 401]);
    }
    expect(ran).toEqual(['docs:a/b', 'docs:a/b']);
    expect((await tokens.get(slash.info.id))?.uses).toBe(2);

    // a link for /docs/a opens neither /docs/a%2F.. walks nor the name 'a/b'
    const plain = await tokens.issueUrl({ url: 'http://a.test/docs/a', maxUses: 10 });
    for (const other of ['/docs/a%2F..%2Fsecret', '/docs/a%2Fb', '/docs/a/', '/docs/a%2F', '/docs/%2e%2e%2Fa']) {
      const res = await get(srv, `${other}?token=${plain.token}`);
      expect([other, res.status]).toEqual([other, 401]);
    }
    // a link for the two-segment path does not open the one-segment name
    const twoSegments = await tokens.issueUrl({ url: 'http://a.test/docs/a/b', maxUses: 10 });
    expect((await get(srv, `/docs/a%2Fb?token=${twoSegments.token}`)).status).toBe(401);
    expect(ran).toEqual(['docs:a/b', 'docs:a/b']);
    expect((await tokens.get(plain.info.id))?.uses).toBe(0);
    expect((await tokens.get(twoSegments.info.id))?.uses).toBe(0);
  });

  it('a Host header cannot carry a path or a query: the link for /files is refused on /admin, and the token is not spent', async () => {
    const srv = apps[name]!;
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=7', maxUses: 1 });
    // `http://` + host + target would parse as /files?id=7&token=…, while the router runs /admin/x
    for (const host of [`a.test/files?id=7&token=${share.token}#`, `a.test/files?id=7&token=${share.token}&x=`, `a.test/admin/..`]) {
      const res = await get(srv, host.endsWith('..') ? `/files?id=7&token=${share.token}` : '/admin/x', host);
      expect([host, res.status]).toEqual([host, 401]);
    }
    expect(ran).toEqual([]);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
  });
});

describe('where @koa/router and a link disagree (docs/frameworks/koa.md, "Encoded slashes")', () => {
  let srv: Running;
  beforeAll(async () => {
    const router = new Router<TokenState>();
    router.get('/docs/:name', tokenAuth({ tokens, urlTokens: true, scopes: ['docs:read'] }), (ctx) => {
      ran.push(`docs:${ctx.params.name}`);
      ctx.body = { doc: ctx.params.name };
    });
    router.get('/*rest', tokenAuth({ tokens, urlTokens: true, scopes: ['pages:read'] }), (ctx) => {
      ran.push(`page:${ctx.params.rest}`);
      ctx.body = 'a page';
    });
    srv = await listen(new Koa<TokenState>().use(router.routes()));
  });
  afterAll(() => srv.close());

  it('case and trailing slash: the router accepts them, the link refuses them', async () => {
    const share = await tokens.issueUrl({ url: 'http://a.test/docs/x', scopes: ['docs:read'], maxUses: 5 });
    for (const path of ['/DOCS/x', '/docs/X', '/docs/x/']) expect([path, (await get(srv, `${path}?token=${share.token}`)).status]).toEqual([path, 401]);
    expect(ran).toEqual([]);
  });

  it('a percent-escape in the path is another path for the link: neither the route nor the catch-all runs', async () => {
    const share = await tokens.issueUrl({ url: 'http://a.test/docs/x', scopes: ['docs:read'], maxUses: 5 });
    // core compares the path as sent (only the hex case of an escape is normalised): an escaped
    // letter is refused, in a parameter (/docs/%78) and in a literal segment (/%64ocs/x), which
    // @koa/router would send to the catch-all with params.rest decoded to 'docs/x'
    for (const path of ['/docs/%78', '/%64ocs/x', '/%64ocs/%78']) {
      const res = await get(srv, `${path}?token=${share.token}`);
      expect([path, res.status]).toEqual([path, 401]);
    }
    const shared = await tokens.issueUrl({ url: 'http://a.test/docs/x', maxUses: 1 });
    const res = await get(apps['tokenAuth on a router group']!, `/%64ocs/x?token=${shared.token}`);
    expect(res.status).toBe(401);
    expect(ran).toEqual([]);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    expect((await tokens.get(shared.info.id))?.uses).toBe(0);
    expect((await get(srv, `/docs/x?token=${share.token}`)).status).toBe(200);
  });
});
