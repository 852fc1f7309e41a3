import { type AuthenticateOptions, type TokenAccess, type TokenInfo, type VerifyError, toResponse } from '@tokenaccess/core';
import type { NextRequest } from 'next/server.js';
import { setupError } from './errors';
import { assertScopes } from './scopes';
import { servedUrl } from './served';

/** Options of {@link withToken}. */
export interface WithTokenOptions extends AuthenticateOptions {
  /** The token service: `createTokenAccess({ store })`. */
  tokens: TokenAccess;
  /**
   * Builds the response for a refused request; send `error.headers` with it (`Retry-After` and
   * the `RateLimit` headers of a 429). @default the RFC 6750 response of core's
   * `toResponse(error)` (401 / 400 / 403 / 429 / 503 with `WWW-Authenticate` or `Retry-After`)
   */
  onError?: (error: VerifyError, request: NextRequest) => Response | Promise<Response>;
}

/** A route handler that also receives the verified token. `Ctx` is whatever Next passes (`{ params: Promise<…> }`). */
export type TokenRouteHandler<Ctx> = (request: NextRequest, ctx: Ctx, token: TokenInfo) => Response | Promise<Response>;

/**
 * Wraps an App Router route handler: the request is verified (Bearer header, or a URL token in
 * its query bound to this URL) before the handler runs, and the verified token is passed as the
 * third argument. A refused request gets core's RFC 6750 response and never reaches the handler.
 *
 * A token with a `rateLimit` is counted here: the handler's response gets the `RateLimit` and
 * `RateLimit-Policy` headers (unless it set them itself), and once the window is full the
 * request is refused with 429 `rate_limited`, `Retry-After` and both headers, spending no use. A
 * custom `onError` finds them on `error.headers`.
 *
 * A URL token is compared with the path and query Next routed the request by, under the origin
 * the request was served on (the `Host` header and the protocol Next decided), so with core's
 * `checkOrigin` a link bound to `https://a.example/…` opens on `a.example` only. A reverse proxy
 * in front must pass the public `Host` on (nginx: `proxy_set_header Host $host`); otherwise
 * origin-bound links are refused, never opened elsewhere.
 *
 * `ctx` is passed through untyped-by-us: annotate it in your handler
 * (`ctx: { params: Promise<{ id: string }> }`) and the wrapped export keeps exactly that type,
 * so `next build`'s route type check passes.
 *
 * @example
 * ```ts
 * // app/api/reports/[id]/route.ts
 * export const GET = withToken(
 *   async (request, ctx: { params: Promise<{ id: string }> }, token) => {
 *     const { id } = await ctx.params;
 *     return Response.json({ id, owner: token.subject });
 *   },
 *   { tokens, scopes: ['reports:read'] },
 * );
 * ```
 */
export function withToken<Ctx = unknown>(handler: TokenRouteHandler<Ctx>, options: WithTokenOptions): (request: NextRequest, ctx: Ctx) => Promise<Response> {
  if (typeof handler !== 'function') throw setupError('withToken needs a route handler function');
  if (!options?.tokens || typeof options.tokens.authenticate !== 'function') {
    throw setupError('withToken needs `tokens` (the object createTokenAccess returns)');
  }
  assertScopes(options.scopes, 'scopes');
  const { tokens, onError, ...check } = options;
  return async function tokenRouteHandler(request: NextRequest, ctx: Ctx): Promise<Response> {
    // `getToken` replaces extraction (and gets the request itself, cookies and all); otherwise
    // core reads the headers and, for a URL token, the URL as this server serves it.
    const result = await tokens.authenticate(check.getToken ? request : { headers: request.headers, method: request.method, url: servedUrl(request) }, check);
    if (!result.ok) return onError ? onError(result.error, request) : toResponse(result.error);
    if (!result.headers) return handler(request, ctx, result.token);
    return addHeaders(await handler(request, ctx, result.token), result.headers);
  };
}

/**
 * @internal Adds the `headers` a handler's response lacks (a header it set itself wins). A
 * response whose headers are immutable (`Response.redirect`, a `fetch` response passed on) is
 * copied with them; one that cannot be copied (`Response.error()`) is returned as it is.
 */
export function addHeaders(response: Response, headers: Record<string, string>): Response {
  const missing = Object.entries(headers).filter(([name]) => !response.headers.has(name));
  if (missing.length === 0) return response;
  try {
    for (const [name, value] of missing) response.headers.set(name, value);
    return response;
  } catch {
    // immutable headers: nothing was set, so copy the response (the body is streamed, not read)
  }
  try {
    const copy = new Headers(response.headers);
    for (const [name, value] of missing) copy.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: copy });
  } catch {
    return response;
  }
}
