// The app the browser tests drive: the admin page at /admin (Basic sign-in) and a route that
// serves share links (/reports/…), verified by the same token service.
import { adminHandler } from '@tokenaccess/admin';
import { type TokenAccess, toResponse } from '@tokenaccess/core';
import { authorize } from '../examples/authorize';

export function testApp(tokens: TokenAccess): (request: Request) => Promise<Response> {
  const admin = adminHandler({ tokens, authorize, basePath: '/admin', title: 'Tokens' });
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) return admin(request);
    if (url.pathname.startsWith('/reports/')) {
      const auth = await tokens.authenticate(request);
      if (!auth.ok) return toResponse(auth.error);
      const ids = url.searchParams.getAll('ids[]').join(' and ');
      return new Response(`<!doctype html><title>report</title><h1>Report ${url.pathname.slice(9)}</h1><p id="ids">ids ${ids}; tags ${url.searchParams.get('tags')}</p>`, {
        headers: { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' },
      });
    }
    return new Response('not found', { status: 404 });
  };
}
