// A typed Hono middleware for tokenaccess (docs/frameworks/fetch.md), run against real `hono` and
// `@hono/node-server` by hono.test.ts.
import { type AuthenticateOptions, type TokenAccess, type TokenInfo, toResponse } from '@tokenaccess/core';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';

/** Verifies the request (Bearer header, or a share link in its query) and sets `c.var.token`. */
export const tokenAuth = (tokens: TokenAccess, options: AuthenticateOptions = {}) =>
  createMiddleware<{ Variables: { token: TokenInfo } }>(async (c, next) => {
    const auth = await tokens.authenticate(c.req.raw, options);
    if (!auth.ok) return toResponse(auth.error); // 401 / 403 / 400 / 503, RFC 6750 headers
    c.set('token', auth.token);
    await next();
  });

export function createApp(tokens: TokenAccess): Hono {
  const app = new Hono();
  app.get('/api/reports', tokenAuth(tokens, { scopes: ['reports:read'], urlTokens: false }), (c) => c.json({ owner: c.var.token.subject }));
  app.get('/files/:name', tokenAuth(tokens), (c) => {
    c.header('referrer-policy', 'no-referrer'); // the page's URL holds the token
    return c.text(`contents of ${c.req.param('name')}`);
  });
  app.get('/admin/:name', (c) => c.text('admin'));
  return app;
}
