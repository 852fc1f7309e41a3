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

  it('works with an encoded dynamic segment and refuses a bad pathname', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const id = 'q3 report/ü';
    const share = await tokens.issueUrl({ url: `/share/${encodeURIComponent(id)}` });
    const r = await verifyPageToken({ tokens, pathname: `/share/${encodeURIComponent(id)}`, searchParams: searchParamsOf(share.url) });
    expect(r.ok).toBe(true);
    await expect(verifyPageToken({ tokens, pathname: 'share?x', searchParams: {} })).rejects.toThrow(/\[tokenaccess\] \[next\]/);
  });
});
