import { type VerifyError, errorBody } from '@tokenaccess/core';
import type { TokenContext, TokenErrorHandler } from './types';

/** @internal What `tokenAuth` leaves for `requireScopes` (realm, error handler, state key). */
export interface AuthMarker {
  realm: string;
  key: string;
  onError: TokenErrorHandler;
}

/** @internal A symbol, so the marker never shows in `ctx.state`'s type or in JSON dumps of it. */
export const MARKER: unique symbol = Symbol.for('@tokenaccess/koa');

/**
 * The headers of an error response: `WWW-Authenticate` (when the code has one),
 * `Cache-Control: no-store`, `Retry-After` on 503, and every header core put on the error
 * (`error.headers`: for a 429 `rate_limited`, `Retry-After`, `RateLimit` and
 * `RateLimit-Policy`). For a custom `onError` that builds its own response.
 *
 * @example
 * ```ts
 * tokenAuth({ tokens, onError: (error, ctx) => {
 *   ctx.status = error.status;
 *   ctx.set(errorHeaders(error));
 *   ctx.body = { code: error.code, detail: error.message };
 * } });
 * ```
 */
export function errorHeaders(error: VerifyError): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (error.wwwAuthenticate) headers['WWW-Authenticate'] = error.wwwAuthenticate;
  if (error.status === 503) headers['Retry-After'] = '5';
  if (error.headers) Object.assign(headers, error.headers);
  return headers;
}

/**
 * @internal Sets `headers` on the response (the `RateLimit` headers of a verified token) and
 * keeps them on an error response too. Koa's default `ctx.onerror` removes every header before it
 * answers a thrown error and then applies only `err.headers`, so this context's `onerror` hands
 * them over as `err.headers` for that one synchronous call and restores the error afterwards: an
 * error thrown from a module-level constant is shared between requests, and one request's counts
 * must never reach another's response. Headers the error names itself win.
 */
export function setKeptHeaders(ctx: TokenContext, headers: Record<string, string>): void {
  ctx.set(headers);
  const onerror = ctx.onerror;
  ctx.onerror = function keepHeadersOnError(this: unknown, err: unknown) {
    const e = err as { headers?: unknown } | null;
    let restore: (() => void) | undefined;
    if (e !== null && typeof e === 'object' && Object.isExtensible(e)) {
      const own = Object.prototype.hasOwnProperty.call(e, 'headers');
      const previous = e.headers;
      try {
        e.headers = { ...headers, ...(previous !== null && typeof previous === 'object' ? previous : {}) };
        restore = own ? () => void (e.headers = previous) : () => void delete e.headers;
      } catch {
        // a read-only `headers` (a getter without a setter): answered without ours
      }
    }
    try {
      return onerror.call(this, err as Error);
    } finally {
      restore?.();
    }
  } as typeof ctx.onerror;
}

/**
 * The default error answer: writes the RFC 6750 response directly (no throw), so it reaches
 * the client intact under Koa's default error handling and under any error middleware: the
 * status, `WWW-Authenticate`, `Cache-Control: no-store` (and `Retry-After` on 503; on a 429
 * `rate_limited`, `Retry-After`, `RateLimit` and `RateLimit-Policy`), and the JSON body
 * `{ error, message }` that every tokenaccess adapter answers with.
 *
 * @example
 * ```ts
 * app.use(tokenAuth({
 *   tokens,
 *   onError: (error, ctx) => {
 *     ctx.app.emit('auth-failure', error.code, ctx);
 *     respondTokenError(error, ctx);
 *   },
 * }));
 * ```
 */
export function respondTokenError(error: VerifyError, ctx: TokenContext): void {
  ctx.status = error.status;
  ctx.set(errorHeaders(error));
  ctx.body = errorBody(error);
}

/**
 * Throws the refusal as a Koa `HttpError` (through `ctx.throw`, koa-jwt's way) for apps that
 * answer every error in one error middleware. The error carries `status`, `expose: true`,
 * `headers` (with `WWW-Authenticate`; Koa's default `ctx.onerror` re-applies `err.headers`
 * after clearing the response headers; on a 429 also `Retry-After` and the `RateLimit` headers),
 * `body` (the JSON `{ error, message }`) and
 * `tokenError` (the `VerifyError`). Without an error middleware Koa answers the status, the
 * headers and `message` as text/plain; forward `err.body` to keep the JSON body.
 *
 * @example
 * ```ts
 * app.use(async (ctx, next) => {
 *   try {
 *     await next();
 *   } catch (err) {
 *     const e = err as { status?: number; headers?: Record<string, string>; body?: unknown };
 *     ctx.status = e.status ?? 500;
 *     if (e.headers) ctx.set(e.headers);
 *     ctx.body = e.body ?? { error: 'internal_error', message: 'Something went wrong.' };
 *   }
 * });
 * app.use(tokenAuth({ tokens, onError: throwTokenError }));
 * ```
 */
export function throwTokenError(error: VerifyError, ctx: TokenContext): never {
  ctx.throw(error.status, error.message, { expose: true, headers: errorHeaders(error), body: errorBody(error), tokenError: error });
}
