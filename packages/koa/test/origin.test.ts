// checkOrigin compares a link's origin with the origin this server serves (Host, or the
// X-Forwarded-* headers behind `app.proxy`), never with an absolute-form request target's
// authority. Raw sockets: an HTTP client would not send `GET http://a.test/… HTTP/1.1` to b.test.
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RejectionEvent, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, listen, rawRequest } from './helpers';

const rejected: RejectionEvent[] = [];
const tokens = createTokenAccess({ store: memoryStore(), checkOrigin: true, onRejected: (e) => void rejected.push(e) });
const errors: unknown[] = [];
let direct: Running;
let proxied: Running;

function app(proxy: boolean): Koa<TokenState> {
  const koa = new Koa<TokenState>();
  koa.proxy = proxy;
  koa.on('error', (err) => errors.push(err));
  const router = new Router<TokenState>();
  router.get('/files', tokenAuth({ tokens, urlTokens: true }), (ctx) => (ctx.body = { file: ctx.query.id, host: ctx.host }));
  koa.use(router.routes());
  return koa;
}

beforeAll(async () => {
  direct = await listen(app(false));
  proxied = await listen(app(true));
});
afterAll(() => Promise.all([direct.close(), proxied.close()]));
beforeEach(() => {
  rejected.length = 0;
  errors.length = 0;
});

const MISMATCH = { error: 'invalid_token', message: 'The access token is not valid for this URL.' };

describe('an absolute-form request target', () => {
  it('does not lend its authority: a link bound to http://a.test is refused on Host: b.test, and spends nothing', async () => {
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=7', maxUses: 1 });
    const q = `/files?id=7&token=${share.token}`;
    for (const target of [`http://a.test${q}`, `HTTP://A.TEST${q}`, `http://a.test:80${q}`, `http://b.test@a.test${q}`, q]) {
      const res = await rawRequest(direct, `GET ${target} HTTP/1.1`, { Host: 'b.test' });
      expect([target, res.status, JSON.parse(res.body)]).toEqual([target, 401, MISMATCH]);
    }
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    expect(rejected.map((e) => e.code)).toEqual(Array(5).fill('url_mismatch'));
    // on its own host, the same absolute-form request opens the link: the path and query were
    // sliced from the target, the origin came from Host
    const ok = await rawRequest(direct, `GET http://a.test${q} HTTP/1.1`, { Host: 'a.test' });
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { file: '7', host: 'a.test' }]);
  });

  it('without a path, is the root path of the served origin', async () => {
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=8', maxUses: 1 });
    // `http://a.test?…` is `/?…`, which is not /files: refused (and not routed to /files either)
    expect((await rawRequest(direct, `GET http://a.test?id=8&token=${share.token} HTTP/1.1`, { Host: 'a.test' })).status).toBe(404);
    const ok = await rawRequest(direct, `GET http://a.test/files?token=${share.token}&id=8 HTTP/1.1`, { Host: 'a.test' });
    expect(ok.status).toBe(200);
  });
});

describe('a Host header that is not a host', () => {
  it.each([
    ['[bad'],
    ['a b'],
    ['a.test/files?id=9&token=TOKEN#'],
    ['a.test?'],
    ['a.test#'],
    ['a.test/'],
    ['a.test:80:80'],
    ['user@[bad'],
  ])('Host: %s → 400 or 401, never a 500, no use spent, the token quoted nowhere', async (host) => {
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=9', maxUses: 1 });
    const res = await rawRequest(direct, `GET /files?id=9&token=${share.token} HTTP/1.1`, { Host: host.replace('TOKEN', share.token) });
    expect([400, 401]).toContain(res.status);
    expect(errors).toEqual([]);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    const secret = share.token.slice(8); // past the prefix and the 4-character hint
    expect(res.body).not.toContain(secret);
    expect(JSON.stringify(rejected)).not.toContain(secret);
    // the same link still opens on its real host
    expect((await rawRequest(direct, `GET /files?id=9&token=${share.token} HTTP/1.1`, { Host: 'a.test' })).status).toBe(200);
  });
});

describe('behind a proxy (app.proxy = true)', () => {
  it('takes the origin from X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const share = await tokens.issueUrl({ url: 'https://a.test/files?id=10', maxUses: 1 });
    const q = `/files?id=10&token=${share.token}`;
    const refused: Record<string, string>[] = [
      { Host: 'a.test' }, // the proxy's scheme is missing: http://a.test
      { Host: 'internal:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'b.test' },
      { Host: 'internal:3000', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'a.test' },
      { Host: 'internal:3000', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'a.test' },
      { Host: 'internal:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': `a.test${q}#` },
    ];
    for (const headers of refused) {
      const res = await rawRequest(proxied, `GET /files?id=10&token=${share.token} HTTP/1.1`, headers);
      expect([headers, res.status]).toEqual([headers, 401]);
    }
    // an absolute-form target does not override the forwarded origin either
    const absolute = await rawRequest(proxied, `GET https://a.test${q} HTTP/1.1`, { Host: 'internal:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'b.test' });
    expect(absolute.status).toBe(401);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    const ok = await rawRequest(proxied, `GET ${q} HTTP/1.1`, { Host: 'internal:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'a.test' });
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { file: '10', host: 'a.test' }]);
  });

  it('without app.proxy, X-Forwarded-Host is a header like any other: Host decides', async () => {
    const share = await tokens.issueUrl({ url: 'http://a.test/files?id=11', maxUses: 1 });
    const q = `/files?id=11&token=${share.token}`;
    expect((await rawRequest(direct, `GET ${q} HTTP/1.1`, { Host: 'b.test', 'X-Forwarded-Host': 'a.test' })).status).toBe(401);
    expect((await rawRequest(direct, `GET ${q} HTTP/1.1`, { Host: 'a.test', 'X-Forwarded-Host': 'b.test' })).status).toBe(200);
  });
});
