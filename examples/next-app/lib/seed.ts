import { writeFile } from 'node:fs/promises';
import { tokens } from './tokens';

/** The tokens the end-to-end test uses. DEMO ONLY: a real app never writes a raw token anywhere. */
export interface Seed {
  reader: string;
  admin: string;
  billing: string;
  limited: string;
  sharePage: string;
  shareFile: string;
  /** Share pages whose id needs encoding: `café`, and `a%2Fb` (a literal `%2F`, not a slash). */
  sharePageCafe: string;
  sharePageLiteral: string;
  /** A download link the raw-target tests try to walk, and one bound to another host. */
  walkFile: string;
  tenantFile: string;
  /** A token with two uses for /limited, whose layout and page both call requireToken. */
  limitedPage: string;
  /** Share pages for the ids `a b/c` and `résumé`, issued the documented way (each segment `encodeURIComponent`-ed). */
  sharePageSpace: string;
  sharePageResume: string;
  /** A share page for `résumé` issued with the raw characters (core encodes them as a browser does); three uses. */
  sharePageResumeRaw: string;
  /** A link exchanged for a session by the proxy (/shared/s1), and one by a route handler, behind a confirm page. */
  sharedPage: string;
  sharedFile: string;
  /** A reader token with a rate limit of 2 verifications an hour. */
  metered: string;
}

export async function seed(file: string): Promise<void> {
  const reader = await tokens.issue({ subject: 'reader@example.com', name: 'reader', scopes: ['reports:read', 'account:read'] });
  const admin = await tokens.issue({ subject: 'admin', name: 'admin', scopes: ['admin', 'reports:read'] });
  const billing = await tokens.issue({ subject: 'billing', name: 'billing', scopes: ['billing:read'] });
  const limited = await tokens.issue({ subject: 'batch', name: 'one job', scopes: ['jobs:run'], maxUses: 1 });
  const sharePage = await tokens.issueUrl({ url: '/share/q3-report?lang=en', expiresIn: '1h', maxUses: 1 });
  // A URL token holds no scopes unless given: the download route asks for files:read.
  const shareFile = await tokens.issueUrl({ url: '/api/files/q3.pdf', scopes: ['files:read'], expiresIn: '1h', maxUses: 1 });
  const sharePageCafe = await tokens.issueUrl({ url: '/share/caf%C3%A9?lang=en', expiresIn: '1h', maxUses: 1 });
  const sharePageLiteral = await tokens.issueUrl({ url: '/share/a%252Fb?lang=en', expiresIn: '1h', maxUses: 1 });
  const walkFile = await tokens.issueUrl({ url: '/api/files/walk.pdf', scopes: ['files:read'], expiresIn: '1h', maxUses: 1 });
  const tenantFile = await tokens.issueUrl({ url: 'http://tenant-a.test/api/files/tenant.pdf', scopes: ['files:read'], expiresIn: '1h', maxUses: 1 });
  const limitedPage = await tokens.issue({ subject: 'kiosk', name: 'two page views', scopes: ['account:read'], maxUses: 2 });
  const sharePageSpace = await tokens.issueUrl({ url: `/share/${encodeURIComponent('a b/c')}?lang=en`, expiresIn: '1h', maxUses: 1 });
  const sharePageResume = await tokens.issueUrl({ url: `/share/${encodeURIComponent('résumé')}?lang=en`, expiresIn: '1h', maxUses: 1 });
  const sharePageResumeRaw = await tokens.issueUrl({ url: '/share/résumé?lang=fr', expiresIn: '1h', maxUses: 3 });
  const sharedPage = await tokens.issueUrl({ url: '/shared/s1', subject: 'reader@example.com', scopes: ['reports:read'], expiresIn: '1h' });
  const sharedFile = await tokens.issueUrl({ url: '/api/shared-files/notes.txt', expiresIn: '1h' });
  const metered = await tokens.issue({ subject: 'metered', name: 'metered', scopes: ['reports:read'], rateLimit: { limit: 2, window: '1h' } });
  const out: Seed = {
    reader: reader.token,
    admin: admin.token,
    billing: billing.token,
    limited: limited.token,
    sharePage: sharePage.url,
    shareFile: shareFile.url,
    sharePageCafe: sharePageCafe.url,
    sharePageLiteral: sharePageLiteral.url,
    walkFile: walkFile.url,
    tenantFile: tenantFile.url,
    limitedPage: limitedPage.token,
    sharePageSpace: sharePageSpace.url,
    sharePageResume: sharePageResume.url,
    sharePageResumeRaw: sharePageResumeRaw.url,
    sharedPage: sharedPage.url,
    sharedFile: sharedFile.url,
    metered: metered.token,
  };
  await writeFile(file, JSON.stringify(out), { mode: 0o600 });
}
