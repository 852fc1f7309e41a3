// The runnable example of docs/frameworks/fetch.md: a plain Fetch-API handler on core, the
// signature Hono (`c.req.raw`), Bun.serve, Deno.serve and Cloudflare Workers all accept.
import { type TokenAccess, toResponse } from '@tokenaccess/core';

export function createHandler(tokens: TokenAccess): (request: Request) => Promise<Response> {
  return async function handler(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);

    if (pathname === '/api/reports') {
      const auth = await tokens.authenticate(request, { scopes: ['reports:read'], urlTokens: false });
      if (!auth.ok) return toResponse(auth.error);
      return Response.json({ reports: [], owner: auth.token.subject });
    }

    if (pathname.startsWith('/files/')) {
      // a share link: the URL token must be bound to exactly this URL and method
      const auth = await tokens.authenticate(request);
      if (!auth.ok) return toResponse(auth.error);
      return new Response(`contents of ${pathname.slice('/files/'.length)}`);
    }

    return new Response('not found', { status: 404 });
  };
}
