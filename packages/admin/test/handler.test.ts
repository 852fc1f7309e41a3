// The handler called with Requests, as any Fetch framework calls it: access, headers, escaping,
// CSRF, input errors, the one-time display and a store that is down. (The browser tests in
// e2e.test.ts drive the same page in Chromium; the recipes in recipes.test.ts mount it.)
import { adminHandler } from '@tokenaccess/admin';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { postgresStore } from '@tokenaccess/postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsrf } from '../src/csrf';
import { authorize, basic } from './examples/authorize';
import { AUTH, ORIGIN, SECURITY, csrfOf, get, post, securityHeaders, shown } from './helpers/requests';

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

function setup(extra: Partial<Parameters<typeof adminHandler>[0]> = {}) {
  const tokens = createTokenAccess({ store: memoryStore() });
  const errors: unknown[] = [];
  const admin = adminHandler({ tokens, authorize, onError: (e) => errors.push(e), ...extra });
  return { tokens, admin, errors };
}

describe('who may enter', () => {
  it('no credentials: 401 with the app’s challenge; a non-admin: 403; neither shows token data', async () => {
    const { tokens, admin } = setup();
    const { info } = await tokens.issue({ subject: 'secret-owner', name: 'secret-name' });
    const none = await get(admin, '/admin', {});
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="tokens admin", charset="UTF-8"']);
    expect(securityHeaders(none)).toEqual(SECURITY);
    const wrong = await get(admin, '/admin', { authorization: basic('ops', 'nope') });
    expect(wrong.status).toBe(401);
    const guest = await get(admin, `/admin/tokens/${info.id}`, { authorization: basic('guest', 'guest') });
    expect(guest.status).toBe(403);
    for (const r of [none, wrong, guest]) {
      const body = await r.text();
      expect(body).not.toMatch(/secret-owner|secret-name|tka_/);
      expect(body).not.toContain(info.id);
    }
    // a POST is refused the same way, before anything is read or changed
    const forged = await post(admin, `/admin/tokens/${info.id}/revoke`, { csrf: 'x' }, { authorization: basic('guest', 'guest') });
    expect(forged.status).toBe(403);
    expect(await tokens.get(info.id)).not.toBeNull();
  });

  it('an authorize that throws is a 500 page with no details; the error goes to onError', async () => {
    const errors: unknown[] = [];
    const admin = adminHandler({ tokens: createTokenAccess({ store: memoryStore() }), authorize: () => { throw new Error('session db at 10.0.0.7 refused'); }, onError: (e) => errors.push(e) });
    const r = await get(admin, '/admin');
    expect(r.status).toBe(500);
    expect(await r.text()).not.toMatch(/10\.0\.0\.7|refused|at .*\.ts/);
    expect(errors).toHaveLength(1);
    expect(securityHeaders(r)).toEqual(SECURITY);
  });

  it('static assets hold no data and are served without authorize; everything else needs it', async () => {
    const { admin } = setup();
    const css = await get(admin, '/admin/assets/admin.css', {});
    expect([css.status, css.headers.get('content-type'), securityHeaders(css)]).toEqual([200, 'text/css; charset=utf-8', SECURITY]);
    expect((await get(admin, '/admin/assets/admin.js', {})).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get(admin, '/admin/assets/../admin.css', {})).status).toBe(401); // URL-resolved to /admin/admin.css: not an asset
    expect((await get(admin, '/admin/assets/constructor', {})).status).toBe(404);
    expect((await get(admin, '/other', {})).status).toBe(404);
  });
});

describe('every page', () => {
  it('carries the security headers and no-store, on every status', async () => {
    const { tokens, admin } = setup();
    const { info } = await tokens.issue({ subject: 's', name: 'n' });
    const csrf = await csrfOf(admin);
    const responses = [
      await get(admin, '/admin'),
      await get(admin, `/admin/tokens/${info.id}`),
      await get(admin, '/admin/new/token'),
      await get(admin, '/admin/new/link'),
      await get(admin, '/admin/tokens/nope'),
      await get(admin, '/admin/?kind=bogus'),
      await post(admin, `/admin/tokens/${info.id}/disable`, { csrf }),
      await post(admin, '/admin/new/token', { csrf, subject: '', name: '' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 400, 303, 400]);
    for (const r of responses) {
      expect(securityHeaders(r)).toEqual(SECURITY);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect(responses[0]!.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('escapes everything it prints: a script as a name, quotes in metadata, markup in a URL', async () => {
    const { tokens, admin } = setup();
    const { info } = await tokens.issue({ subject: '"><img src=x onerror=alert(1)>', name: '<script>alert(1)</script>', metadata: { note: `it's "quoted" </pre><b>` } });
    await tokens.issueUrl({ url: 'https://app.test/r?q="><script>alert(2)</script>' });
    const list = await (await get(admin, '/admin')).text();
    const detail = await (await get(admin, `/admin/tokens/${info.id}`)).text();
    for (const page of [list, detail]) {
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
      expect(page).not.toMatch(/<script>alert|<img src=x/);
    }
    expect(list).not.toContain('<script>alert(2)');
    expect(detail).toContain('&quot;note&quot;: &quot;it&#39;s \\&quot;quoted\\&quot; &lt;/pre&gt;&lt;b&gt;&quot;');
    // the only <script> is the page's own file
    expect(detail.match(/<script/g)).toEqual(['<script']);
    expect(detail).toContain('<script src="/admin/assets/admin.js" defer></script>');
  });

  it('never prints a hash, nor a raw token outside the one-time page', async () => {
    const { tokens, admin } = setup();
    const a = await tokens.issue({ subject: 's', name: 'api', scopes: ['a:read'] });
    const u = await tokens.issueUrl({ url: 'https://app.test/f?id=7', maxUses: 3 });
    for (const path of ['/admin', `/admin/tokens/${a.info.id}`, `/admin/tokens/${u.info.id}`, '/admin/?kind=url', '/admin/?status=active']) {
      const body = await (await get(admin, path)).text();
      for (const secret of [a.token, a.info.hash, u.token, u.info.hash, u.url]) expect(body).not.toContain(secret);
      expect(body).not.toMatch(/[0-9a-f]{64}/);
    }
  });

  it('HEAD has no body; other methods are 405 with Allow; a GET of an action is 405', async () => {
    const { admin } = setup();
    const head = await admin(new Request(`${ORIGIN}/admin`, { method: 'HEAD', headers: AUTH }));
    expect([head.status, await head.text()]).toEqual([200, '']);
    const put = await admin(new Request(`${ORIGIN}/admin`, { method: 'PUT', headers: AUTH }));
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST']);
    const getSweep = await get(admin, '/admin/sweep');
    expect([getSweep.status, getSweep.headers.get('allow')]).toEqual([405, 'POST']);
  });
});

describe('state changes are same-origin POSTs with a CSRF token', () => {
  it('refuses a POST without proof of origin, from another origin or site, or without a valid token; accepts the page’s own', async () => {
    const { tokens, admin } = setup();
    const { info } = await tokens.issue({ subject: 's', name: 'victim' });
    const csrf = await csrfOf(admin);
    const path = `/admin/tokens/${info.id}/revoke`;
    // no Origin and no Sec-Fetch-Site at all
    const bare = await admin(new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}` }));
    // Origin only (an older browser): checked against the request's own origin
    const foreignOrigin = await admin(new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.test' }, body: `csrf=${csrf}` }));
    const nullOrigin = await admin(new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: 'null' }, body: `csrf=${csrf}` }));
    const crossSite = await post(admin, path, { csrf }, { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' });
    const sameSite = await post(admin, path, { csrf }, { origin: 'https://sub.app.test', 'sec-fetch-site': 'same-site' });
    const forged = await post(admin, path, { csrf: 'forged.token.value' });
    const missing = await post(admin, path, {});
    const tampered = await post(admin, path, { csrf: csrf.slice(0, -2) + (csrf.endsWith('AA') ? 'BB' : 'AA') });
    for (const r of [bare, foreignOrigin, nullOrigin, crossSite, sameSite, forged, missing, tampered]) {
      expect(r.status).toBe(403);
      expect(securityHeaders(r)).toEqual(SECURITY);
    }
    expect(await tokens.get(info.id)).not.toBeNull();
    // the page's own form: Origin only, or Sec-Fetch-Site, both work
    const ok = await admin(new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, body: `csrf=${encodeURIComponent(csrf)}` }));
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/admin/?notice=revoked']);
    expect(await tokens.get(info.id)).toBeNull();
  });

  it('a CSRF token is bound to the operator and expires', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const admin = adminHandler({
      tokens,
      authorize: (r) => ({ id: r.headers.get('x-user') ?? 'nobody' }),
    });
    const { info } = await tokens.issue({ subject: 's', name: 'n' });
    const alices = await csrfOf(admin, '/admin', { 'x-user': 'alice' });
    const asBob = await post(admin, `/admin/tokens/${info.id}/disable`, { csrf: alices }, { 'x-user': 'bob' });
    expect(asBob.status).toBe(403);
    expect((await post(admin, `/admin/tokens/${info.id}/disable`, { csrf: alices }, { 'x-user': 'alice' })).status).toBe(303);

    let now = Date.now();
    const csrf = createCsrf('k'.repeat(32), () => now);
    const t = await csrf.issue('alice');
    expect(await csrf.check(t, 'alice')).toMatchObject({ nonce: t.split('.')[0] });
    now += 12 * 60 * 60 * 1000 + 1;
    expect(await csrf.check(t, 'alice')).toBeNull();
    // a shared secret: another handler (another process) accepts the form
    const other = createCsrf('k'.repeat(32), () => now);
    expect(await other.check(await csrf.issue('alice'), 'alice')).not.toBeNull();
    expect(await createCsrf(undefined, () => now).check(await csrf.issue('alice'), 'alice')).toBeNull();
  });

  it('behind a proxy that changes the scheme, `origins` names the public origin', async () => {
    const { tokens, admin } = setup({ origins: ['https://admin.example.com'] });
    const { info } = await tokens.issue({ subject: 's', name: 'n' });
    const csrf = await csrfOf(admin);
    const send = (origin: string) =>
      admin(new Request(`http://internal:3000/admin/tokens/${info.id}/disable`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', origin }, body: `csrf=${encodeURIComponent(csrf)}` }));
    expect((await send('http://internal:3000')).status).toBe(403);
    expect((await send('https://admin.example.com')).status).toBe(303);
  });
});

describe('the raw token is shown once', () => {
  it('in the POST response only; the same form sent again (a reload) redirects and makes no second token', async () => {
    const { tokens, admin } = setup();
    const csrf = await csrfOf(admin);
    const fields = { csrf, subject: 'user-1', name: 'laptop', scopes: 'users:read, reports:*', expiresIn: '90d', maxUses: '', metadata: '{"team":"ops"}' };
    const first = await post(admin, '/admin/new/token', fields);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const body = await first.text();
    const raw = shown(body, 'raw-token')!;
    expect(raw).toMatch(/^tka_\w+$/);
    const verified = await tokens.verify(raw, { scopes: ['reports:x'] });
    expect(verified.ok && [verified.token.subject, verified.token.scopes, verified.token.metadata]).toEqual(['user-1', ['users:read', 'reports:*'], { team: 'ops' }]);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^tka_admin_spent=[\w-]+; Path=\/admin; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/); // Secure: the page is served over https

    const again = await post(admin, '/admin/new/token', fields, { cookie: cookie.split(';')[0]! });
    expect([again.status, again.headers.get('location')]).toEqual([303, '/admin/?notice=resubmitted']);
    expect(await again.text()).not.toContain(raw);
    const notice = await (await get(admin, '/admin/?notice=resubmitted')).text();
    expect(notice).toContain('That form was already sent');
    expect(notice).not.toContain(raw);
    expect((await tokens.list({ subject: 'user-1' })).items).toHaveLength(1);
    // a new form (a new nonce) makes a new token, with the cookie present
    const second = await post(admin, '/admin/new/token', { ...fields, csrf: await csrfOf(admin) }, { cookie: cookie.split(';')[0]! });
    expect(second.status).toBe(200);
    expect(shown(await second.text(), 'raw-token')).not.toBe(raw);
  });

  it('a share link keeps its URL exactly (%2C, a[] arrays) and opens that URL once', async () => {
    const { tokens, admin } = setup();
    const url = 'https://app.test/report?ids[]=1&ids[]=2&tags=a%2Cb&q=x+y';
    const r = await post(admin, '/admin/new/link', { csrf: await csrfOf(admin, '/admin/new/link'), url, scopes: 'viewers', expiresIn: '1d', maxUses: '2', methods: ['GET', 'HEAD'] });
    expect(r.status).toBe(200);
    const body = await r.text();
    const link = unescape(shown(body, 'share-url')!);
    expect(link).toMatch(/^https:\/\/app\.test\/report\?ids\[\]=1&ids\[\]=2&tags=a%2Cb&q=x\+y&token=tka_\w+$/);
    const head = await tokens.verifyUrl(link, { method: 'HEAD' });
    expect(head.ok && [head.token.scopes, head.token.maxUses, head.token.url?.methods]).toEqual([['viewers'], 2, ['GET', 'HEAD']]);
    // the binding is canonical: the same pairs in another order, %2C as a comma
    expect((await tokens.verifyUrl(link.replace('tags=a%2Cb', 'tags=a,b'))).ok).toBe(true);
    expect(await tokens.verifyUrl(link)).toMatchObject({ ok: false, error: { code: 'exhausted' } });
    expect((await tokens.verifyUrl(link.replace('ids[]=2', 'ids[]=3'))).ok).toBe(false);
  });

  it('rotate shows the new token once; the old one works for the grace period', async () => {
    const { tokens, admin } = setup();
    const old = await tokens.issue({ subject: 's', name: 'ci', scopes: ['deploy'] });
    const r = await post(admin, `/admin/tokens/${old.info.id}/rotate`, { csrf: await csrfOf(admin, `/admin/tokens/${old.info.id}`), grace: '1h' });
    expect(r.status).toBe(200);
    const body = await r.text();
    const fresh = shown(body, 'raw-token')!;
    expect(body).toContain('keeps working until');
    const v = await tokens.verify(fresh, { scopes: ['deploy'] });
    expect(v.ok && v.token.name).toBe('ci');
    expect((await tokens.verify(old.token)).ok).toBe(true);
    const immediate = await tokens.issue({ subject: 's', name: 'now' });
    const r2 = await post(admin, `/admin/tokens/${immediate.info.id}/rotate`, { csrf: await csrfOf(admin), grace: '' });
    expect(await r2.text()).toContain('no longer works');
    expect(await tokens.verify(immediate.token)).toMatchObject({ ok: false, error: { code: 'expired' } });
    // a share link rotates into a new link to the same URL, shown once beside its token
    const link = await tokens.issueUrl({ url: 'https://app.test/f?ids[]=1&t=a%2Cb', maxUses: 2 });
    const r3 = await (await post(admin, `/admin/tokens/${link.info.id}/rotate`, { csrf: await csrfOf(admin), grace: '0' })).text();
    const newLink = unescape(shown(r3, 'share-url')!);
    expect(newLink).toBe(`https://app.test/f?ids[]=1&t=a%2Cb&token=${shown(r3, 'raw-token')}`);
    expect((await tokens.verifyUrl(newLink)).ok).toBe(true);
    expect((await tokens.verifyUrl(link.url)).ok).toBe(false);
  });
});

describe('rate limits', () => {
  it('the create forms set one; the detail page shows it and the count of the current window', async () => {
    const { tokens, admin } = setup();
    const made = await post(admin, '/admin/new/token', { csrf: await csrfOf(admin), subject: 'u', name: 'partner', rateLimit: '2', rateWindow: '1h' });
    expect(made.status).toBe(200);
    const raw = shown(await made.text(), 'raw-token')!;
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await tokens.verify(raw);
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes).toEqual(['ok', 'ok', 'rate_limited']);
    const info = (await tokens.inspect(raw))!;
    expect(info.rateLimit).toEqual({ limit: 2, window: 3_600_000 });
    const detail = await (await get(admin, `/admin/tokens/${info.id}`)).text();
    expect(detail).toMatch(/<dt>Rate limit<\/dt><dd>2 per 1h; 2 used in this window, which ends <time datetime="([^"]+)">/);
    // the window ends an hour after creation (windows are counted from it)
    const ends = /which ends <time datetime="([^"]+)"/.exec(detail)![1]!;
    expect(Date.parse(ends)).toBe(info.createdAt.getTime() + 3_600_000);

    // a share link opened at most once a minute
    const link = await post(admin, '/admin/new/link', { csrf: await csrfOf(admin, '/admin/new/link'), url: 'https://app.test/feed.xml', methods: 'GET', unlimited: 'on', rateLimit: '1', rateWindow: '1m' });
    expect(link.status).toBe(200);
    const url = unescape(shown(await link.text(), 'share-url')!);
    expect((await tokens.verifyUrl(url)).ok).toBe(true);
    expect(await tokens.verifyUrl(url)).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // without one: a dash
    const plain = await tokens.issue({ subject: 'u', name: 'plain' });
    expect(await (await get(admin, `/admin/tokens/${plain.info.id}`)).text()).toContain('<dt>Rate limit</dt><dd>—</dd>');
  });
});

describe('bad input is a 400 page that says what is wrong, never a 500', () => {
  it('create forms: each bad field named, values kept, nothing created', async () => {
    const { tokens, admin, errors } = setup();
    const cases: [string, Record<string, string | string[]>, RegExp][] = [
      ['/admin/new/token', { subject: '', name: '' }, /Owner is required[\s\S]*Name is required/],
      ['/admin/new/token', { subject: 's', name: 'n', expiresIn: 'soon' }, /Expires in must be a duration/],
      ['/admin/new/token', { subject: 's', name: 'n', maxUses: '-1' }, /Max uses must be a whole number/],
      ['/admin/new/token', { subject: 's', name: 'n', maxUses: '1.5' }, /Max uses must be a whole number/],
      ['/admin/new/token', { subject: 's', name: 'n', metadata: '{oops' }, /Metadata must be a JSON object/],
      ['/admin/new/token', { subject: 's', name: 'n', metadata: '[1,2]' }, /not a list or a single value/],
      ['/admin/new/token', { subject: 's', name: 'n', refill: '1d' }, /Refill needs Max uses/],
      ['/admin/new/token', { subject: 's', name: 'n', scopes: 'us*rs' }, /scope[\s\S]*Nothing was created/],
      ['/admin/new/token', { subject: 's', name: 'n', rateLimit: '10' }, /Rate window is needed with a rate limit/],
      ['/admin/new/token', { subject: 's', name: 'n', rateWindow: '1m' }, /Rate limit is needed with a rate window/],
      ['/admin/new/token', { subject: 's', name: 'n', rateLimit: '0', rateWindow: '1m' }, /Rate limit must be a whole number from 1 to 1000000000/],
      ['/admin/new/token', { subject: 's', name: 'n', rateLimit: '5', rateWindow: '500ms' }, /Rate window must be whole seconds from 1s to 366d/],
      ['/admin/new/token', { subject: 's', name: 'n', rateLimit: '5', rateWindow: '60' }, /Rate window must be whole seconds/],
      ['/admin/new/link', { url: 'https://app.test/x', methods: 'GET', rateLimit: 'lots', rateWindow: '400d' }, /Rate limit must be a whole number[\s\S]*Rate window must be whole seconds/],
      ['/admin/new/link', { url: '', methods: 'GET' }, /URL is required/],
      ['/admin/new/link', { url: 'https://app.test/x', methods: [] }, /Choose at least one method/],
      ['/admin/new/link', { url: 'https://app.test/x', methods: 'TRACE' }, /Methods must be among/],
      ['/admin/new/link', { url: 'https://app.test/x?token=abc', methods: 'GET' }, /already has a &#39;token&#39; parameter[\s\S]*Nothing was created/],
      ['/admin/new/link', { url: 'not a url', methods: 'GET' }, /Nothing was created/],
      ['/admin/new/link', { url: 'https://app.test/../etc', methods: 'GET' }, /Nothing was created/],
    ];
    for (const [path, fields, message] of cases) {
      const r = await post(admin, path, { csrf: await csrfOf(admin, path), ...fields });
      const body = await r.text();
      expect([path, fields, r.status]).toEqual([path, fields, 400]);
      expect(body).toMatch(message);
      expect(body).toContain('role="alert"');
      expect(body).not.toMatch(/at \S+\.ts:\d+|TokenAccessError|\[tokenaccess\]/);
    }
    // values are kept (escaped) for correction
    const kept = await (await post(admin, '/admin/new/token', { csrf: await csrfOf(admin), subject: '"quoted"', name: 'n', expiresIn: 'soon' })).text();
    expect(kept).toContain('value="&quot;quoted&quot;"');
    expect(kept).toContain('aria-invalid="true"');
    expect((await tokens.list()).items).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('filters, cursors, ids, grace, body type and size', async () => {
    const { tokens, admin, errors } = setup();
    const { info } = await tokens.issue({ subject: 's', name: 'n' });
    for (const q of ['?kind=bogus', '?status=zombie', '?expiring=1y', '?limit=0', '?limit=abc', '?limit=5000', `?cursor=${'x'.repeat(300)}`, `?cursor=${'x'.repeat(3000)}`]) {
      const r = await get(admin, `/admin/${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(await r.text()).toContain('role="alert"');
    }
    expect((await get(admin, '/admin/tokens/%E0%A4%A')).status).toBe(404);
    expect((await get(admin, '/admin/tokens/01ABSENT')).status).toBe(404);
    const csrf = await csrfOf(admin);
    expect((await post(admin, '/admin/tokens/01ABSENT/revoke', { csrf })).status).toBe(404);
    expect((await post(admin, '/admin/tokens/01ABSENT/disable', { csrf })).status).toBe(404);
    const bad = await post(admin, `/admin/tokens/${info.id}/rotate`, { csrf, grace: 'a while' });
    expect([bad.status, (await bad.text()).includes('must be 0 or a duration')]).toEqual([400, true]);
    const json = await admin(new Request(`${ORIGIN}/admin/sweep`, { method: 'POST', headers: { ...AUTH, origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' }));
    expect(json.status).toBe(415);
    const huge = await post(admin, '/admin/new/token', { csrf, subject: 's', name: 'x'.repeat(70_000) });
    expect(huge.status).toBe(413);
    const longName = await post(admin, '/admin/new/token', { csrf, subject: 's', name: 'x'.repeat(600) });
    expect([longName.status, (await longName.text()).includes('Name is longer than 512')]).toEqual([400, true]);
    expect(errors).toEqual([]);
  });
});

describe('the store is down', () => {
  const pool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 });
  pool.on('error', () => undefined);
  afterAll(() => pool.end());

  it('answers a 503 page that shows nothing else', async () => {
    const tokens = createTokenAccess({ store: postgresStore({ client: pool, timeout: 1000 }) });
    const errors: unknown[] = [];
    const admin = adminHandler({ tokens, authorize, onError: (e) => errors.push(e) });
    const csrf = await csrfOf(admin);
    const answers = [
      await get(admin, '/admin'),
      await get(admin, '/admin/tokens/01M8V1JD18470N78FGS87XCR65'),
      await post(admin, '/admin/new/token', { csrf, subject: 's', name: 'n' }),
      await post(admin, '/admin/sweep', { csrf }),
    ];
    for (const r of answers) {
      expect(r.status).toBe(503);
      const body = await r.text();
      expect(body).toContain('The token store did not answer');
      expect(body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at \S+:\d+/);
      expect(securityHeaders(r)).toEqual(SECURITY);
    }
    expect(errors).toEqual([]);
  });
});

describe('options', () => {
  it('are checked when the handler is made', () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const bad: unknown[] = [
      undefined,
      { authorize },
      { tokens },
      { tokens, authorize, basePath: 'admin' },
      { tokens, authorize, basePath: '/admin/' },
      { tokens, authorize, basePath: '/a"b' },
      { tokens, authorize, title: '' },
      { tokens, authorize, pageSize: 0 },
      { tokens, authorize, secret: 'short' },
      { tokens, authorize, origins: ['https://a.test/path'] },
    ];
    for (const o of bad) expect(() => adminHandler(o as never), JSON.stringify(o && Object.keys(o))).toThrow(/\[tokenaccess\] \[admin\]/);
  });

  it('mounts at the root with basePath ""', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const admin = adminHandler({ tokens, authorize, basePath: '', title: 'Keys' });
    const r = await get(admin, '/');
    const body = await r.text();
    expect([r.status, body.includes('<h1>Keys</h1>'), body.includes('href="/new/token"'), body.includes('href="/assets/admin.css"')]).toEqual([200, true, true, true]);
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)![1]!;
    const made = await post(admin, '/new/token', { csrf, subject: 's', name: 'n' });
    expect(made.headers.get('set-cookie')).toContain('Path=/;');
  });
});
