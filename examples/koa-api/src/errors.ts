import type { Middleware } from 'koa';

const CODES: Record<number, string> = { 400: 'bad_request', 401: 'login_required', 403: 'forbidden', 404: 'not_found', 413: 'too_large', 415: 'unsupported_media_type' };

/**
 * Answers every error as JSON `{ error, message }`. It forwards `err.headers` (a thrown auth
 * error carries `WWW-Authenticate` there) and `err.body` when the error brings one.
 */
export function jsonErrors(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; message?: string; headers?: Record<string, string>; body?: unknown };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      ctx.status = status;
      if (e.headers) ctx.set(e.headers);
      ctx.body = e.body ?? { error: status >= 500 ? 'internal_error' : (CODES[status] ?? 'request_error'), message: e.expose && e.message ? e.message : 'Something went wrong.' };
      if (status >= 500) ctx.app.emit('error', err, ctx);
    }
  };
}
