import { describe, expect, it } from 'vitest';
import { handler, tokens } from '../examples/share-session';

describe('docs/examples/share-session.ts: open once, then browse with the session', () => {
  it('preview → page; POST → 303 + cookie; page and image with the cookie; the link is spent', async () => {
    const share = await tokens.issueUrl({ url: 'https://photos.example/share/album-7', scopes: ['album:view'] });
    // a chat app's preview: GET answers the confirm page and spends nothing
    const preview = await handler(new Request(share.url));
    expect([preview.status, (await tokens.get(share.info.id))?.uses]).toEqual([200, 0]);
    const open = await handler(new Request(share.url, { method: 'POST' }));
    expect(open.status).toBe(303);
    expect(open.headers.get('location')).toBe('/share/album-7');
    const cookie = open.headers.get('set-cookie')!.split(';')[0]!;
    const page = await handler(new Request('https://photos.example/share/album-7', { headers: { cookie } }));
    expect([page.status, await page.text()]).toEqual([200, '<img src="/share/album-7/1.jpg">']);
    const img = await handler(new Request('https://photos.example/share/album-7/1.jpg', { headers: { cookie } }));
    expect(img.status).toBe(200);
    const elsewhere = await handler(new Request('https://photos.example/share/album-8', { headers: { cookie } }));
    expect(elsewhere.status).toBe(401);
    const again = await handler(new Request(share.url, { method: 'POST' }));
    expect(again.status).toBe(401);
  });
});
