// A shared page that loads its own sub-resources: the link is opened once (exchange), then the
// page and its images are served to the session cookie. Any Fetch-API server runs this handler
// (Hono, Bun, Deno, a Next.js route); docs/concepts/url-tokens.md quotes it.
import { createTokenAccess, memoryStore, toResponse } from '@tokenaccess/core';

export const tokens = createTokenAccess({ store: memoryStore() });

export async function handler(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.startsWith('/share/')) {
    // the link itself: spend it, set the session cookie, redirect to the URL without the token
    if (url.searchParams.has('token')) return (await tokens.exchange(request, { confirm: true, session: { ttl: '30m' } })).response;
    // the page and its sub-resources: the session from the cookie, only under the link's path
    const auth = await tokens.authenticate(request, { cookie: 'tka_session', scopes: ['album:view'] });
    if (!auth.ok) return toResponse(auth.error);
    const page = url.pathname.endsWith('.jpg') ? 'a photo' : '<img src="/share/album-7/1.jpg">';
    return new Response(page, { headers: { 'referrer-policy': 'no-referrer' } });
  }
  return new Response('not found', { status: 404 });
}
