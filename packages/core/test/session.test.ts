import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { clock } from './helpers';

const cookieOf = (r: Response) => {
  const set = r.headers.get('set-cookie') ?? '';
  return { raw: set, value: /^tka_session=([^;]+)/.exec(set)?.[1] ?? '' };
};
const share0 = (s: { url: string }) => s.url;
const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => new Request(url, { method, headers });

describe('exchange', () => {
  it('spends the link once, answers 303 to the URL without the token, and sets a session cookie scoped to the path', async () => {
    const c = clock(Date.now());
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const share = await tokens.issueUrl({ url: 'https://example.com/files/report?b=2&a=%2C', scopes: ['files:read'] });
    const out = await tokens.exchange(get(share.url));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.response.status).toBe(303);
    expect(out.response.headers.get('location')).toBe('/files/report?b=2&a=%2C');
    expect(out.response.headers.get('cache-control')).toBe('no-store');
    expect(out.response.headers.get('referrer-policy')).toBe('no-referrer');
    const { raw, value } = cookieOf(out.response);
    expect(raw).toMatch(/; Path=\/files\/report; Max-Age=900; HttpOnly; SameSite=Lax; Secure$/);
    expect(out.session).toMatchObject({ kind: 'session', parentId: share.info.id, scopes: ['files:read'] });
    expect(out.session).not.toHaveProperty('subject');
    expect(JSON.stringify(out.session)).not.toContain(value);
    const again = await tokens.verifyUrl(share.url);
    expect(again.ok ? 'ok' : again.error.code).toBe('exhausted');
    // listed and revocable like any token
    expect((await tokens.list({ kind: 'session' })).items.map((t) => t.id)).toEqual([out.session.id]);
  });

  it('a rate-limited link: the 303 carries its RateLimit headers, and a full window is a 429 that spends nothing', async () => {
    const c = clock(Date.parse('2026-01-01T00:00:00Z'));
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const share = await tokens.issueUrl({ url: 'https://example.com/files/report', maxUses: 5, rateLimit: { limit: 1, window: '1m' } });
    const out = await tokens.exchange(get(share.url));
    expect(out.response.status).toBe(303);
    expect(out.response.headers.get('ratelimit-policy')).toBe('"token";q=1;w=60');
    expect(out.response.headers.get('ratelimit')).toBe('"token";r=0;t=60');
    const second = await tokens.exchange(get(share.url));
    expect(second.response.status).toBe(429);
    expect(second.response.headers.get('retry-after')).toBe('60');
    expect(second.response.headers.get('set-cookie')).toBeNull();
    expect((await tokens.inspect(share.token))?.uses).toBe(1);
  });

  it('the session opens the page and its sub-resources from the cookie, and nothing else', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: 'http://example.com/share/abc' });
    const out = await tokens.exchange(get(share.url));
    const { raw, value } = cookieOf(out.response);
    expect(raw).not.toContain('Secure');
    const cookie = { cookie: `other=1; tka_session=${value}` };
    const auth = (url: string, headers: Record<string, string> = cookie, method = 'GET') => tokens.authenticate(get(url, headers, method), { cookie: 'tka_session' });
    for (const url of ['http://example.com/share/abc', 'http://example.com/share/abc/img.png']) expect((await auth(url)).ok).toBe(true);
    const code = async (p: Promise<import('@tokenaccess/core').VerifyResult>) => {
      const r = await p;
      return r.ok ? 'ok' : r.error.code;
    };
    expect(await code(auth('http://example.com/share/abcd'))).toBe('url_mismatch');
    expect(await code(auth('http://example.com/admin'))).toBe('url_mismatch');
    // never a Bearer token, never a URL token
    expect(await code(tokens.verify(value))).toBe('url_mismatch');
    expect(await code(tokens.verifyUrl(`http://example.com/share/abc?token=${value}`))).toBe('url_mismatch');
    // a cookie together with another credential
    expect(await code(auth('http://example.com/share/abc', { ...cookie, authorization: `Bearer ${value}` }))).toBe('invalid_request');
    expect(await code(auth(`http://example.com/share/abc?token=${share.token}`))).toBe('invalid_request');
    // a link token is never accepted from the cookie
    const other = await tokens.issueUrl({ url: 'http://example.com/share/abc', maxUses: null });
    expect(await code(auth('http://example.com/share/abc', { cookie: `tka_session=${other.token}` }))).toBe('url_mismatch');
    // the path as sent, never resolved (a raw request target, as Node and Koa hand it over)
    for (const target of ['/share/abc/../admin', '/share/abc/%2e%2e/admin', '/share/abc/..%5cadmin', '/share/abc\\..\\admin']) {
      const r = await tokens.authenticate({ headers: cookie, url: target, method: 'GET' }, { cookie: 'tka_session' });
      expect(r.ok ? 'ok' : r.error.code).toBe('url_mismatch');
    }
    expect((await tokens.authenticate({ headers: cookie, url: '/share/abc/img.png', method: 'GET' }, { cookie: 'tka_session' })).ok).toBe(true);
    // garbage in the cookie is malformed, without a store call
    expect(await code(auth('http://example.com/share/abc', { cookie: 'tka_session=nope' }))).toBe('malformed');
  });

  it('the session ends with its ttl, and when the link is revoked or disabled', async () => {
    const c = clock(Date.now());
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const open = async (maxUses: number | null = 1) => {
      const share = await tokens.issueUrl({ url: 'https://example.com/s', maxUses });
      const out = await tokens.exchange(get(share.url), { session: { ttl: '5m' } });
      const check = async () => {
        const r = await tokens.authenticate(get('https://example.com/s', { cookie: `tka_session=${cookieOf(out.response).value}` }), { cookie: 'tka_session' });
        return r.ok ? 'ok' : r.error.code;
      };
      return { share, check };
    };
    const a = await open();
    expect(await a.check()).toBe('ok');
    c.advance(5 * 60_000);
    expect(await a.check()).toBe('expired');
    const b = await open();
    await tokens.revokeById(b.share.info.id);
    expect(await b.check()).toBe('not_found');
    const d = await open(null);
    await tokens.disable(d.share.info.id);
    expect(await d.check()).toBe('disabled');
    await tokens.enable(d.share.info.id);
    expect(await d.check()).toBe('ok');
  });

  it('a session never outlives its link', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: 'https://example.com/s', expiresIn: '1m' });
    const out = await tokens.exchange(get(share.url), { session: { ttl: '1h' } });
    expect(out.ok && out.session.expiresAt).toEqual(share.info.expiresAt);
    expect(cookieOf(out.response).raw).toMatch(/Max-Age=(59|60);/);
  });

  it('with confirm, GET and HEAD answer a page and spend nothing; only its POST spends the use', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: 'https://example.com/doc?id=<7>', name: '<script>alert(1)</script>' });
    const page = await tokens.exchange(get(share.url), { confirm: true });
    expect(page).toMatchObject({ ok: false, pending: true });
    expect(page.response.status).toBe(200);
    expect(page.response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    const html = await page.response.text();
    expect(html).toContain('<form method="post" action="/doc?id=%3C7%3E&#38;token=');
    expect(html).not.toContain('<script>');
    expect(html).not.toMatch(/<script/i);
    const head = await tokens.exchange(get(share.url, {}, 'HEAD'), { confirm: true });
    expect(head.response.status).toBe(200);
    expect(await head.response.text()).toBe('');
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
    const post = await tokens.exchange(get(share.url, {}, 'POST'), { confirm: true });
    expect(post.ok && post.response.status).toBe(303);
    expect((await tokens.get(share.info.id))?.uses).toBe(1);
    const second = await tokens.exchange(get(share.url, {}, 'POST'), { confirm: true });
    expect(second).toMatchObject({ ok: false, error: { code: 'exhausted', status: 401 } });
    expect(second.response.headers.get('www-authenticate')).toContain('invalid_token');
    // a spent link's confirm page is the refusal, not a button
    const late = await tokens.exchange(get(share.url), { confirm: true });
    expect(late.response.status).toBe(401);
  });

  it('without confirm a HEAD (a link preview) is refused by the default GET-only binding and spends nothing', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: 'https://example.com/x' });
    const head = await tokens.exchange(get(share.url, {}, 'HEAD'));
    expect(head).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
  });

  it('200 concurrent exchanges of a one-time link create exactly one session', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: 'https://example.com/once' });
    const all = await Promise.all(Array.from({ length: 200 }, () => tokens.exchange(get(share.url))));
    expect(all.filter((r) => r.ok)).toHaveLength(1);
    expect((await tokens.list({ kind: 'session' })).items).toHaveLength(1);
  });

  it('refusals are RFC 6750 responses; bad options are typed errors', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const both = await tokens.exchange(get(share0(await tokens.issueUrl({ url: 'https://example.com/b' })), { authorization: 'Bearer tka_x' }));
    expect(both).toMatchObject({ ok: false, error: { code: 'invalid_request', status: 400 } });
    const none = await tokens.exchange(get('https://example.com/x'));
    expect(none).toMatchObject({ ok: false, error: { code: 'missing' } });
    expect(none.response.status).toBe(401);
    const share = await tokens.issueUrl({ url: 'https://example.com/a/b' });
    await expect(tokens.exchange(get(share.url), { cookie: 'bad name' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(tokens.exchange(get(share.url), { session: { path: '/other' } })).rejects.toMatchObject({ code: 'invalid_argument' });
    const wide = await tokens.exchange(get(share.url), { session: { path: '/a' } });
    expect(cookieOf(wide.response).raw).toContain('Path=/a;');
  });
});

describe('count: false', () => {
  it('checks every rule without spending a use or writing', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n', maxUses: 1, scopes: ['a'] });
    for (let i = 0; i < 3; i++) expect((await tokens.verify(token, { count: false })).ok).toBe(true);
    const scoped = await tokens.verify(token, { scopes: ['b'], count: false });
    expect(scoped.ok ? 'ok' : scoped.error.code).toBe('insufficient_scope');
    expect(await tokens.get(info.id)).toEqual(info);
    expect((await tokens.verify(token)).ok).toBe(true);
    const peek = await tokens.verify(token, { count: false });
    expect(peek.ok ? 'ok' : peek.error.code).toBe('exhausted');
    const share = await tokens.issueUrl({ url: '/f?x=1' });
    const req = { headers: {}, url: share.url, method: 'GET' };
    expect((await tokens.authenticate(req, { count: false })).ok).toBe(true);
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
  });
});
