import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { verifyPageToken } from '@tokenaccess/next';
import { describe, expect, it } from 'vitest';

/** What Next passes a page as `searchParams` for a URL (decoded; repeated keys as arrays). */
function searchParamsOf(url: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  new URL(url, 'http://x').searchParams.forEach((v, k) => {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  });
  return out;
}

describe('verifyPageToken', () => {
  it('opens a one-time share page once', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: '/share/report?id=7&tags[]=a&tags[]=b&q=caf%C3%A9%20au+lait', scopes: ['reports:read'] });
    const props = { tokens, pathname: '/share/report', searchParams: Promise.resolve(searchParamsOf(share.url)) };
    const first = await verifyPageToken({ ...props, scopes: ['reports:read'] });
    expect(first.ok && first.token.kind).toBe('url');
    const again = await verifyPageToken(props);
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error).toMatchObject({ code: 'exhausted', status: 401 });
  });

  it('refuses another page, changed parameters and a missing token, spending nothing', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: '/share/7?v=1' });
    const sp = searchParamsOf(share.url);
    const other = await verifyPageToken({ tokens, pathname: '/share/8', searchParams: sp });
    expect(!other.ok && other.error.code).toBe('url_mismatch');
    const changed = await verifyPageToken({ tokens, pathname: '/share/7', searchParams: { ...sp, v: '2' } });
    expect(!changed.ok && changed.error.code).toBe('url_mismatch');
    const extra = await verifyPageToken({ tokens, pathname: '/share/7', searchParams: { ...sp, admin: '1' } });
    expect(!extra.ok && extra.error.code).toBe('url_mismatch');
    const none = await verifyPageToken({ tokens, pathname: '/share/7', searchParams: { v: '1' } });
    expect(!none.ok && none.error).toMatchObject({ code: 'missing', status: 401 });
    // nothing above spent the one use
    expect((await verifyPageToken({ tokens, pathname: '/share/7', searchParams: new URLSearchParams(share.url.split('?')[1]) })).ok).toBe(true);
  });

  it('works with a percent-encoded dynamic segment (as Next passes page params) and refuses a bad pathname', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    // Next gives a page params percent-encoded, as in the URL: `/share/q3%20report%2F%C3%BC`
    // arrives as id 'q3%20report%2F%C3%BC', and is joined as it is
    const id = encodeURIComponent('q3 report/ü');
    const share = await tokens.issueUrl({ url: `/share/${id}` });
    const r = await verifyPageToken({ tokens, pathname: `/share/${id}`, searchParams: searchParamsOf(share.url) });
    expect(r.ok).toBe(true);
    await expect(verifyPageToken({ tokens, pathname: 'share?x', searchParams: {} })).rejects.toThrow(/\[tokenaccess\] \[next\]/);
  });

  it('never walks a link to another page: dot segments and backslashes in the pathname match nothing', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const share = await tokens.issueUrl({ url: '/files?id=7', maxUses: 1 });
    const searchParams = searchParamsOf(share.url);
    // what a page builds from a param such as `..%2Ffiles` once decoded, or from a raw one
    for (const pathname of ['/share/../files', '/share/%2e%2e/files', '/share/..%2Ffiles', '/share/..%5Cfiles', '/share/..\\files', '/./files', '/share/%252e%252e/files']) {
      const r = await verifyPageToken({ tokens, pathname, searchParams });
      expect(!r.ok && r.error.code, pathname).toBe('url_mismatch');
    }
    // an encoded slash is a character of its segment: /share/a%2Fb is not /share/a/b
    const nested = await tokens.issueUrl({ url: '/share/a/b' });
    const other = await verifyPageToken({ tokens, pathname: '/share/a%2Fb', searchParams: searchParamsOf(nested.url) });
    expect(!other.ok && other.error.code).toBe('url_mismatch');
    // none of it spent the one use
    expect((await verifyPageToken({ tokens, pathname: '/files', searchParams })).ok).toBe(true);
  });
});
