// The mounting recipes of docs/admin.md, run as written: Koa through the Fetch bridge, Hono
// behind @hono/node-server, and the Next.js catch-all route handler. Koa and Hono are driven by
// Chromium (create, see once, reload) and by raw requests; the Next route module is called with
// Requests as Next calls it.
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS, basic } from './examples/authorize';
import { createHonoApp } from './examples/hono-app';
import { createKoaApp } from './examples/koa-app';
import * as nextRoute from './examples/next/app/admin/[[...path]]/route';
import { tokens as nextTokens } from './examples/tokens';
import { launch, watchedContext } from './helpers/browser';
import { raw } from './helpers/serve';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(() => browser?.close());

const auth = { authorization: basic(OPS.username, OPS.password) };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

interface Mounted {
  port: number;
  close(): Promise<void>;
}

const frameworks: { name: string; start(tokens: ReturnType<typeof createTokenAccess>): Promise<Mounted> }[] = [
  {
    name: 'Koa (the Fetch bridge)',
    async start(tokens) {
      const server = createKoaApp(tokens).listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
    },
  },
  {
    name: 'Hono (@hono/node-server)',
    async start(tokens) {
      let port = 0;
      const server = await new Promise<ReturnType<typeof honoServe>>((resolve) => {
        const s = honoServe({ fetch: createHonoApp(tokens).fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
          port = info.port;
          resolve(s);
        });
      });
      return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
    },
  },
];

describe.each(frameworks)('$name', ({ start }) => {
  const tokens = createTokenAccess({ store: memoryStore() });
  let app: Mounted;
  beforeAll(async () => {
    app = await start(tokens);
  });
  afterAll(() => app?.close());

  it('serves the page under /admin only, behind authorize, with its headers; the rest of the app is untouched', async () => {
    const rest = await raw(app.port, { path: '/' });
    expect([rest.status, rest.body]).toEqual([200, 'the rest of the app']);
    const none = await raw(app.port, { path: '/admin' });
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Basic realm="tokens admin", charset="UTF-8"']);
    const list = await raw(app.port, { path: '/admin', headers: auth });
    expect([list.status, list.headers['content-security-policy'], list.headers['x-frame-options']]).toEqual([200, expect.stringContaining("frame-ancestors 'none'"), 'DENY']);
    const css = await raw(app.port, { path: '/admin/assets/admin.css' });
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('takes a form POST through the framework: create (one Set-Cookie), revoke (303), a foreign Origin refused', async () => {
    const page = await raw(app.port, { path: '/admin/new/token', headers: auth });
    const csrf = encodeURIComponent(/name="csrf" value="([^"]+)"/.exec(page.body)![1]!);
    const origin = `http://127.0.0.1:${app.port}`;
    const made = await raw(app.port, { method: 'POST', path: '/admin/new/token', headers: { ...auth, ...form, origin }, body: `csrf=${csrf}&subject=u1&name=via+framework&scopes=a%2Cb` });
    expect(made.status).toBe(200);
    expect(made.headers['set-cookie']).toEqual([expect.stringMatching(/^tka_admin_spent=[\w-]+; Path=\/admin; /)]);
    const rawToken = /id="raw-token" type="text" readonly value="([^"]+)"/.exec(made.body)![1]!;
    const v = await tokens.verify(rawToken, { scopes: ['a', 'b'] });
    expect(v.ok && v.token.name).toBe('via framework');
    const id = v.ok ? v.token.id : '';
    const foreign = await raw(app.port, { method: 'POST', path: `/admin/tokens/${id}/revoke`, headers: { ...auth, ...form, origin: 'https://evil.test' }, body: `csrf=${csrf}` });
    expect(foreign.status).toBe(403);
    const revoked = await raw(app.port, { method: 'POST', path: `/admin/tokens/${id}/revoke`, headers: { ...auth, ...form, origin }, body: `csrf=${csrf}` });
    expect([revoked.status, revoked.headers.location]).toEqual([303, '/admin/?notice=revoked']);
    expect(await tokens.get(id)).toBeNull();
  });

  it('in Chromium: create, see once, reload and see it no more, no console error', async () => {
    const problems: string[] = [];
    const { context, newPage } = await watchedContext(browser, { httpCredentials: OPS }, problems);
    const page = await newPage();
    await page.goto(`http://127.0.0.1:${app.port}/admin/new/token`);
    await page.getByLabel('Owner (subject)').fill('u2');
    await page.getByLabel('Name', { exact: true }).fill('browser token');
    await page.getByRole('button', { name: 'Create API token' }).click();
    const rawToken = await page.inputValue('#raw-token');
    expect((await tokens.verify(rawToken)).ok).toBe(true);
    await page.reload();
    expect(page.url()).toBe(`http://127.0.0.1:${app.port}/admin/?notice=resubmitted`);
    expect(await page.content()).not.toContain(rawToken);
    expect((await tokens.list({ subject: 'u2' })).items).toHaveLength(1);
    await context.close();
    expect(problems).toEqual([]);
  });
});

describe('Next.js: app/admin/[[...path]]/route.ts', () => {
  const at = (path: string, init: RequestInit = {}) => new Request(`https://next.test${path}`, init);

  it('GET, HEAD and POST are the handler: list, create once, revoke', async () => {
    expect(nextRoute.GET).toBe(nextRoute.POST);
    const list = await nextRoute.GET(at('/admin', { headers: auth }));
    expect(list.status).toBe(200);
    const head = await nextRoute.HEAD(at('/admin/', { method: 'HEAD', headers: auth }));
    expect([head.status, await head.text()]).toEqual([200, '']);
    const body = await (await nextRoute.GET(at('/admin/new/link', { headers: auth }))).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)![1]!;
    const post = (path: string, fields: string) =>
      nextRoute.POST(at(path, { method: 'POST', headers: { ...auth, ...form, origin: 'https://next.test', 'sec-fetch-site': 'same-origin' }, body: `csrf=${encodeURIComponent(csrf)}&${fields}` }));
    const made = await post('/admin/new/link', `url=${encodeURIComponent('https://next.test/files?ids[]=1&ids[]=2&t=a%2Cb')}&methods=GET&maxUses=2`);
    expect(made.status).toBe(200);
    const link = /id="share-url" type="text" readonly value="([^"]+)"/.exec(await made.text())![1]!.replace(/&amp;/g, '&');
    const v = await nextTokens.verifyUrl(link);
    expect(v.ok && v.token.url?.url).toBe('https://next.test/files?ids[]=1&ids[]=2&t=a%2Cb');
    const id = v.ok ? v.token.id : '';
    const revoked = await post(`/admin/tokens/${id}/revoke`, '');
    expect(revoked.status).toBe(303);
    expect(await nextTokens.get(id)).toBeNull();
  });
});
