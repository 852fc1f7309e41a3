// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core: never a downloaded browser.
import { type Browser, type BrowserContext, type BrowserContextOptions, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.TOKENACCESS_CHROMIUM ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A context whose pages report every console error, uncaught page error and dialog into `problems`. */
export async function watchedContext(browser: Browser, options: BrowserContextOptions, problems: string[]): Promise<{ context: BrowserContext; newPage: () => Promise<Page> }> {
  const context = await browser.newContext(options);
  const newPage = async () => {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message} (${page.url()})`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()} (${page.url()})`);
      void d.dismiss();
    });
    return page;
  };
  return { context, newPage };
}
