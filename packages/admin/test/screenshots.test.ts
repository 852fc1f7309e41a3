// The screenshots in docs/admin/*.png, taken from the real page in Chromium. Only with
// TOKENACCESS_SCREENSHOTS=1, so an ordinary test run leaves the work tree as it was.
import { fileURLToPath } from 'node:url';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS } from './examples/authorize';
import { testApp } from './helpers/app';
import { launch } from './helpers/browser';
import { type Served, serve } from './helpers/serve';

const out = (name: string) => fileURLToPath(new URL(`../../../docs/admin/${name}.png`, import.meta.url));

describe.skipIf(process.env.TOKENACCESS_SCREENSHOTS !== '1')('screenshots for docs/admin.md', () => {
  const store = memoryStore();
  const tokens = createTokenAccess({ store });
  let app: Served;
  beforeAll(async () => {
    app = await serve(testApp(tokens));
  });
  afterAll(() => app?.close());

  it('list, detail, new API token and new share link', async () => {
    const day = 86_400_000;
    const past = createTokenAccess({ store, clock: () => Date.now() - 40 * day });
    const laptop = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read', 'reports:*'], metadata: { ticket: 'OPS-112', device: 'laptop' } });
    await tokens.issue({ subject: 'ci-bot', name: 'CI deploy', scopes: ['deploy:*'], expiresIn: '5d', maxUses: 500, refill: { every: '1d' } });
    await tokens.issueUrl({ url: 'https://example.com/files/q3-report.pdf', subject: 'user-1', name: 'Q3 report for the board', expiresIn: '7d', maxUses: 3 });
    const used = await tokens.issueUrl({ url: 'https://example.com/tiki-index.php?page=Roadmap&ids[]=4&ids[]=9', name: 'Roadmap (one-time)', maxUses: 1 });
    await tokens.verifyUrl(used.url);
    const old = await tokens.issue({ subject: 'user-2', name: 'Old phone', scopes: ['users:read'] });
    await tokens.disable(old.info.id);
    await past.issue({ subject: 'user-3', name: 'Trial key', expiresIn: '30d' });
    await tokens.verify(laptop.token);

    const browser = await launch();
    try {
      const context = await browser.newContext({ httpCredentials: OPS, viewport: { width: 1200, height: 760 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`${app.origin}/admin`);
      await page.screenshot({ path: out('list'), fullPage: true });
      await page.getByRole('link', { name: "John's MacBook Air" }).click();
      await page.screenshot({ path: out('detail'), fullPage: true });
      await page.goto(`${app.origin}/admin/new/token`);
      await page.screenshot({ path: out('create-token'), fullPage: true });
      await page.goto(`${app.origin}/admin/new/link`);
      await page.screenshot({ path: out('create-link'), fullPage: true });
      expect(page.url()).toBe(`${app.origin}/admin/new/link`);
    } finally {
      await browser.close();
    }
  });
});
