// The custom error middleware of docs/frameworks/koa.md (run by test/error-handling.test.ts).
import Koa from 'koa';
import type { TokenAccess } from '@tokenaccess/core';
import { throwTokenError, tokenAuth } from '@tokenaccess/koa';

/**
 * One place that answers every error as JSON. It must forward `err.headers` (that is where
 * `WWW-Authenticate` travels on a thrown error) and may use `err.body`, the
 * `{ error, message }` that `throwTokenError` attaches.
 */
export function jsonErrors(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; message?: string; headers?: Record<string, string>; body?: unknown };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      ctx.status = status;
      if (e.headers) ctx.set(e.headers);
      ctx.body = e.body ?? { error: status >= 500 ? 'internal_error' : 'error', message: e.expose && e.message ? e.message : 'Something went wrong.' };
      if (status >= 500) ctx.app.emit('error', err, ctx);
    }
  };
}

export function centralErrorsApp(tokens: TokenAccess): Koa {
  const app = new Koa();
  app.use(jsonErrors());
  app.use(tokenAuth({ tokens, onError: throwTokenError }));
  app.use((ctx) => {
    ctx.body = { hello: ctx.state.token.subject };
  });
  return app;
}
