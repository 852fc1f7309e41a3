// Mounting the secret-scanning handler (docs/secret-scanning.md). The handler takes a standard
// Request and must see the raw body bytes (the signature covers them): mount it before any body
// parser, or on a route that has none.
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import Koa from 'koa';

type Handler = (request: Request) => Promise<Response>;

export function honoApp(handler: Handler) {
  const app = new Hono();
  app.post('/github/secret-scanning', (c) => handler(c.req.raw));
  return app;
}

export function koaApp(handler: Handler) {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/github/secret-scanning') return next();
    // Koa's raw request stream becomes the Request body, unread: the handler caps its size
    const headers = new Headers();
    for (const [name, value] of Object.entries(ctx.req.headers)) if (typeof value === 'string') headers.set(name, value);
    const request = new Request(new URL(ctx.originalUrl, 'http://localhost'), {
      method: ctx.method,
      headers,
      body: ctx.method === 'POST' ? (Readable.toWeb(ctx.req) as ReadableStream<Uint8Array>) : undefined,
      duplex: 'half',
    } as RequestInit);
    const response = await handler(request);
    ctx.status = response.status;
    response.headers.forEach((value, name) => ctx.set(name, value));
    ctx.body = Buffer.from(await response.arrayBuffer());
  });
  return app;
}
