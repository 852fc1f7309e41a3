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
 * `Cache-Control: no-store`, and `Retry-After` on 503. For a custom `onError` that builds its
 * own response.
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
  return headers;
}

/**
 * The default error answer: writes the RFC 6750 response directly (no throw), so it reaches
 * the client intact under Koa's default error handling and under any error middleware: the
 * status, `WWW-Authenticate`, `Cache-Control: no-store` (and `Retry-After` on 503), and the
 * JSON body `{ error, message }` that every tokenaccess adapter answers with.
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
 * after clearing the response headers), `body` (the JSON `{ error, message }`) and
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
