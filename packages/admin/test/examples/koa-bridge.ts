// The Koa recipe of docs/admin.md: a Fetch handler (adminHandler) mounted in Koa through a
// small bridge. Works with Koa 2 and 3.
import { Readable } from 'node:stream';
import type { Context, Next } from 'koa';
import { requestOrigin } from '@tokenaccess/koa';

/** Runs a Fetch handler for a Koa request and writes its Response back to `ctx`. */
export function fromFetch(handler: (request: Request) => Promise<Response>) {
  return async (ctx: Context): Promise<void> => {
    // the URL as the router sees it: the server's own origin (never Koa 3's ctx.origin, which is
    // the Origin request header) and the target as received; an absolute-form target is refused
    const origin = requestOrigin(ctx);
    if (!origin || !ctx.originalUrl.startsWith('/')) return void ctx.throw(400, 'Bad Host header or request target.');
    const headers = new Headers();
    for (const [name, value] of Object.entries(ctx.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = ctx.method !== 'GET' && ctx.method !== 'HEAD';
    const request = new Request(origin + ctx.originalUrl, {
      method: ctx.method,
      headers,
      body: hasBody ? (Readable.toWeb(ctx.req) as ReadableStream<Uint8Array>) : undefined,
      duplex: 'half',
    } as RequestInit);
    const response = await handler(request);
    ctx.status = response.status;
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') ctx.set(name, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) ctx.set('set-cookie', cookies);
    ctx.body = response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream) : '';
  };
}

/** Mounts a Fetch handler at `basePath` and below; other paths go on to the next middleware. */
export function mount(basePath: string, handler: (request: Request) => Promise<Response>) {
  const run = fromFetch(handler);
  return (ctx: Context, next: Next) => (ctx.path === basePath || ctx.path.startsWith(`${basePath}/`) ? run(ctx) : next());
}
