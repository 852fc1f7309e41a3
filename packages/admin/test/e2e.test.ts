// The admin page in real Chromium, served by a real node:http server, on the memory store and on
// PostgreSQL: sign-in, create and see once, reload and see no more, filter and page, disable,
// revoke, rotate, a share link for a URL with %2C and ids[] opened by a guest, sweep, a
// cross-site POST refused, and no console error on the way.
import type { TokenAccess, TokenInfo } from '@tokenaccess/core';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { livenessOf, sweepable } from '@tokenaccess/core/store';
import { migrate, postgresStore, quoteIdent } from '@tokenaccess/postgres';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS } from './examples/authorize';
import { testApp } from './helpers/app';
import { launch, watchedContext } from './helpers/browser';
import { type Served, raw, serve } from './helpers/serve';

const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(() => browser?.close());

interface StoreCase {
  name: string;
  open(): Promise<{ tokens: TokenAccess; clockedBack: TokenAccess; close(): Promise<void> }>;
}

const stores: StoreCase[] = [
  {
    name: 'memory store',
    async open() {
      const store = memoryStore();
      return {
        tokens: createTokenAccess({ store }),
        // the same store, two days ago: to make tokens that have already expired
        clockedBack: createTokenAccess({ store, clock: () => Date.now() - 2 * 86_400_000 }),
        close: async () => undefined,
      };
    },
  },
  {
    name: 'postgres store',
    async open() {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 5, connectionTimeoutMillis: 5000 });
      pool.on('error', () => undefined);
      const schema = `tka_admin_${randomBytes(5).toString('hex')}`;
      await migrate(pool, { schema });
      const store = postgresStore({ client: pool, schema });
      return {
        tokens: createTokenAccess({ store }),
        clockedBack: createTokenAccess({ store, clock: () => Date.now() - 2 * 86_400_000 }),
        close: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
          await pool.end();
        },
      };
    },
  },
];

const names = (page: Page) => page.locator('tbody tr td:first-child a').allTextContents();

describe.each(stores)('the admin page in Chromium ($name)', ({ open }) => {
  let tokens: TokenAccess;
  let clockedBack: TokenAccess;
  let close: () => Promise<void>;
  let app: Served;
  let evil: Served;
  let ops: BrowserContext;
  let opsPage: () => Promise<Page>;
  const problems: string[] = [];
  let admin = '';

  beforeAll(async () => {
    ({ tokens, clockedBack, close } = await open());
    app = await serve(testApp(tokens));
    admin = `${app.origin}/admin`;
    // another site: a page whose form posts to the admin page (a CSRF attempt)
    evil = await serve(async (request) => {
      const id = new URL(request.url).searchParams.get('id') ?? '';
      return new Response(
        `<!doctype html><title>prize</title><form method="post" action="${admin}/tokens/${id}/revoke"><input type="hidden" name="csrf" value="guess"><button>Claim your prize</button></form>`,
        { headers: { 'content-type': 'text/html' } },
      );
    });
    ({ context: ops, newPage: opsPage } = await watchedContext(browser, { httpCredentials: OPS, viewport: { width: 1280, height: 900 } }, problems));
    await ops.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.origin });
  });
  afterAll(async () => {
    await ops?.close();
    await app?.close();
    await evil?.close();
    await close?.();
  });

  it('a visitor without credentials gets 401, a non-admin 403, and neither sees any token', async () => {
    await tokens.issue({ subject: 'hidden-owner', name: 'hidden-token-name' });
    // Chromium without credentials gives up on a Basic challenge (ERR_INVALID_AUTH_CREDENTIALS), so the 401 is read raw
    const stranger = await raw(app.port, { path: '/admin' });
    expect([stranger.status, stranger.headers['www-authenticate']]).toEqual([401, 'Basic realm="tokens admin", charset="UTF-8"']);
    expect(stranger.body).not.toMatch(/hidden-|tka_/);
    const guest = await browser.newContext({ httpCredentials: { username: 'guest', password: 'guest' } });
    const g = await guest.newPage();
    const r2 = await g.goto(admin);
    expect(r2!.status()).toBe(403);
    expect(await g.textContent('main')).toContain('You may not use this page.');
    expect(await g.content()).not.toMatch(/hidden-|tka_/);
    await guest.close();
  });

  it('an operator creates an API token and sees it once (with a working copy button); a reload shows it no more', async () => {
    const page = await opsPage();
    const list = await page.goto(admin);
    expect(list!.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Tokens');
    await page.getByRole('link', { name: 'New API token' }).click();
    await page.getByLabel('Owner (subject)').fill('user-1');
    await page.getByLabel('Name', { exact: true }).fill('<script>alert(1)</script>');
    await page.getByLabel('Scopes (groups)').fill('users:read, reports:*');
    await page.getByLabel('Expires in').fill('90d');
    await page.getByLabel('Rate limit').fill('100');
    await page.getByLabel('Rate window').fill('1h');
    await page.getByLabel('Metadata').fill(`{"note": "it's \\"quoted\\" <b>"}`);
    await page.getByRole('button', { name: 'Create API token' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('API token created');
    const rawToken = await page.inputValue('#raw-token');
    expect(rawToken).toMatch(/^tka_\w+$/);
    const verified = await tokens.verify(rawToken, { scopes: ['reports:q3'] });
    expect(verified.ok && [verified.token.subject, verified.token.name, verified.token.metadata, verified.token.rateLimit]).toEqual(['user-1', '<script>alert(1)</script>', { note: 'it\'s "quoted" <b>' }, { limit: 100, window: 3_600_000 }]);

    // progressive enhancement: the copy button exists only with JavaScript, and copies the token
    const copy = page.getByRole('button', { name: 'Copy' });
    await copy.click();
    await expect(page.locator('#raw-token-status').textContent()).resolves.toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(rawToken);

    // a reload sends the POST again: the page answers with a redirect, not a second token
    const again = await page.reload();
    expect(again!.status()).toBe(200);
    expect(page.url()).toBe(`${admin}/?notice=resubmitted`);
    expect(await page.textContent('[role=status]')).toContain('That form was already sent');
    expect(await page.content()).not.toContain(rawToken);
    expect((await tokens.list({ subject: 'user-1' })).items).toHaveLength(1);

    // the list and the detail show the name as text; no script ran (a dialog would be a problem)
    await page.getByRole('link', { name: '<script>alert(1)</script>' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('<script>alert(1)</script>');
    expect(await page.locator('pre').textContent()).toBe(`{\n  "note": "it's \\"quoted\\" <b>"\n}`);
    // the one verification above, counted in the current hour
    expect(await page.locator('dt:has-text("Rate limit") + dd').textContent()).toMatch(/^100 per 1h; 1 used in this window, which ends \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const html = await page.content();
    expect(html).not.toContain(rawToken);
    const info = (await tokens.inspect(rawToken))!;
    expect(html).not.toContain(info.hash);
    // a later GET of any page never shows it
    for (const path of ['/', '/new/token', `/tokens/${info.id}`]) {
      await page.goto(`${admin}${path}`);
      expect(await page.content()).not.toContain(rawToken);
    }
    await page.close();
  });

  it('filters by owner, kind, status and expiry, and pages with a cursor', async () => {
    await tokens.issue({ subject: 'alice', name: 'alice laptop', scopes: ['a'] });
    await tokens.issue({ subject: 'alice', name: 'alice phone', scopes: ['a'] });
    await tokens.issueUrl({ url: 'https://files.test/bob.pdf', subject: 'bob', name: 'bob link', maxUses: null });
    await clockedBack.issue({ subject: 'carol', name: 'carol expired', expiresIn: '1d' });
    const used = await tokens.issueUrl({ url: 'https://files.test/once', subject: 'carol', name: 'carol used up', maxUses: 1, expiresIn: '30d' });
    expect((await tokens.verifyUrl(used.url)).ok).toBe(true);
    const off = await tokens.issue({ subject: 'carol', name: 'carol disabled' });
    await tokens.disable(off.info.id);
    await tokens.issue({ subject: 'carol', name: 'carol expiring', expiresIn: '2d' });
    for (let i = 1; i <= 5; i++) await tokens.issue({ subject: 'pager', name: `page token ${i}` });

    const page = await opsPage();
    await page.goto(admin);
    await page.getByLabel('Owner (subject)').fill('alice');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect((await names(page)).sort()).toEqual(['alice laptop', 'alice phone']);

    await page.getByLabel('Owner (subject)').fill('');
    await page.getByLabel('Kind').selectOption('url');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect((await names(page)).sort()).toEqual(['bob link', 'carol used up']);

    await page.getByLabel('Owner (subject)').fill('carol');
    await page.getByLabel('Kind').selectOption('');
    for (const [status, expected] of [['exhausted', ['carol used up']], ['disabled', ['carol disabled']], ['expired', ['carol expired']], ['active', ['carol expiring']]] as const) {
      await page.getByLabel('Status').selectOption(status);
      await page.getByRole('button', { name: 'Filter' }).click();
      expect([status, await names(page)]).toEqual([status, expected]);
      await expect(page.getByText('The status filter applies to each page').count()).resolves.toBe(1);
    }
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Expiring').selectOption('7d');
    await page.getByRole('button', { name: 'Filter' }).click();
    // expired tokens are listed as expiring (before the date) until a sweep removes them
    expect((await names(page)).sort()).toEqual(['carol expired', 'carol expiring']);

    await page.goto(`${admin}/?subject=pager&limit=2`);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(...(await names(page)));
      const next = page.getByRole('link', { name: 'Next page' });
      if ((await next.count()) === 0) break;
      await next.click();
      await expect(page.getByRole('link', { name: 'First page' }).count()).resolves.toBe(1);
    }
    expect(seen.sort()).toEqual(['page token 1', 'page token 2', 'page token 3', 'page token 4', 'page token 5']);
    await page.close();
  });

  it('disables, enables and revokes from the detail page', async () => {
    const { token, info } = await tokens.issue({ subject: 'dave', name: 'dave ci' });
    const page = await opsPage();
    await page.goto(`${admin}/?subject=dave`);
    await page.getByRole('link', { name: 'dave ci' }).click();
    await page.getByRole('button', { name: 'Disable' }).click();
    expect(await page.textContent('[role=status]')).toContain('The token was disabled');
    expect(await page.textContent('.status')).toBe('disabled');
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
    await page.getByRole('button', { name: 'Enable' }).click();
    expect(await page.textContent('.status')).toBe('active');
    expect((await tokens.verify(token)).ok).toBe(true);
    await page.getByRole('button', { name: 'Revoke' }).click();
    expect(page.url()).toBe(`${admin}/?notice=revoked`);
    expect(await page.textContent('[role=status]')).toContain('The token was revoked');
    expect(await tokens.get(info.id)).toBeNull();
    expect((await tokens.verify(token)).ok).toBe(false);
    await page.close();
  });

  it('rotates a token: the new one shown once, the old one working for the grace period', async () => {
    const old = await tokens.issue({ subject: 'erin', name: 'erin deploy', scopes: ['deploy'] });
    const page = await opsPage();
    await page.goto(`${admin}/tokens/${old.info.id}`);
    await page.getByLabel('Old one keeps working for').fill('1h');
    await page.getByRole('button', { name: 'Rotate' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Token rotated');
    const fresh = await page.inputValue('#raw-token');
    const v = await tokens.verify(fresh, { scopes: ['deploy'] });
    expect(v.ok && [v.token.subject, v.token.name]).toEqual(['erin', 'erin deploy']);
    expect((await tokens.verify(old.token)).ok).toBe(true);
    await page.reload();
    expect(page.url()).toBe(`${admin}/?notice=resubmitted`);
    expect(await page.content()).not.toContain(fresh);
    expect((await tokens.list({ subject: 'erin' })).items).toHaveLength(2); // old (in grace) and new: no third
    await page.close();
  });

  it('creates a share link for a URL with %2C and ids[]; a guest opens it once', async () => {
    const target = `${app.origin}/reports/q3?ids[]=1&ids[]=2&tags=a%2Cb`;
    const page = await opsPage();
    await page.goto(`${admin}/new/link`);
    await page.getByLabel('URL').fill(target);
    await page.getByLabel('Scopes (groups)').fill('viewers');
    await page.getByLabel('Expires in').fill('1d');
    await page.getByLabel('Max uses').fill('1');
    await page.getByLabel('Name').fill('q3 for the board');
    await page.getByRole('button', { name: 'Create share link' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Share link created');
    const link = await page.inputValue('#share-url');
    expect(link.startsWith(`${target}&token=tka_`)).toBe(true);
    await page.close();

    const guest = await browser.newContext();
    const g = await guest.newPage();
    const first = await g.goto(link);
    expect(first!.status()).toBe(200);
    expect(await g.textContent('#ids')).toBe('ids 1 and 2; tags a,b');
    const second = await g.goto(link);
    expect(second!.status()).toBe(401); // a one-time link
    await guest.close();
    const info = (await tokens.list({ kind: 'url' })).items.find((t) => t.name === 'q3 for the board')!;
    expect([info.uses, info.maxUses, info.scopes, info.url?.url]).toEqual([1, 1, ['viewers'], target]);
  });

  it('sweeps and says how many tokens it removed', async () => {
    const all: TokenInfo[] = [];
    let cursor: string | undefined;
    do {
      const p = await tokens.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
      all.push(...p.items);
      cursor = p.cursor;
    } while (cursor);
    const dead = all.filter((t) => sweepable(livenessOf(t), Date.now())).length;
    expect(dead).toBeGreaterThanOrEqual(2); // carol's expired and used-up tokens, at least
    const page = await opsPage();
    await page.goto(admin);
    await page.getByRole('button', { name: 'Sweep expired and used-up tokens' }).click();
    expect(await page.textContent('[role=status]')).toBe(`Sweep removed ${dead} expired or used-up tokens.`);
    expect((await tokens.list({ subject: 'carol' })).items.map((t) => t.name).sort()).toEqual(['carol disabled', 'carol expiring']);
    await page.close();
  });

  it('refuses a cross-site POST: from another site’s page, and from raw requests with a foreign Origin', async () => {
    const { info } = await tokens.issue({ subject: 'frank', name: 'frank target' });
    // the operator is signed in (this context holds the credentials) and visits another site
    const { context, newPage } = await watchedContext(browser, { httpCredentials: OPS }, []);
    const page = await newPage();
    await page.goto(`http://localhost:${evil.port}/?id=${info.id}`);
    const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Claim your prize' }).click()]);
    expect(response!.status()).toBe(403);
    expect(await page.textContent('main')).toContain('a cross-site request');
    await context.close();
    expect(await tokens.get(info.id)).not.toBeNull();

    const auth = { authorization: `Basic ${btoa(`${OPS.username}:${OPS.password}`)}` };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const path = `/admin/tokens/${info.id}/revoke`;
    const noCsrf = await raw(app.port, { method: 'POST', path, headers: { ...auth, ...form, origin: 'https://evil.test' }, body: '' });
    const csrf = /name="csrf" value="([^"]+)"/.exec((await raw(app.port, { path: '/admin', headers: auth })).body)![1]!;
    const withCsrf = await raw(app.port, { method: 'POST', path, headers: { ...auth, ...form, origin: 'https://evil.test' }, body: `csrf=${encodeURIComponent(csrf)}` });
    const noOrigin = await raw(app.port, { method: 'POST', path, headers: { ...auth, ...form }, body: `csrf=${encodeURIComponent(csrf)}` });
    for (const r of [noCsrf, withCsrf, noOrigin]) {
      expect(r.status).toBe(403);
      expect(r.body).toContain('a cross-site request');
    }
    expect(await tokens.get(info.id)).not.toBeNull();
    // the same request from the page's own origin goes through: the refusals above were the origin's
    const own = await raw(app.port, { method: 'POST', path, headers: { ...auth, ...form, origin: app.origin }, body: `csrf=${encodeURIComponent(csrf)}` });
    expect([own.status, own.headers.location]).toEqual([303, '/admin/?notice=revoked']);
    expect(await tokens.get(info.id)).toBeNull();
  });

  it('logged no console error, page error or dialog in the operator’s browser', () => {
    expect(problems).toEqual([]);
  });
});
