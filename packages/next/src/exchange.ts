import { type TokenAccess, toResponse, verifyError } from '@tokenaccess/core';
import type { NextRequest } from 'next/server.js';
import { setupError } from './errors';
import { assertScopes } from './scopes';
import { servedRequest } from './served';
import { type TokenRouteHandler, withToken } from './with-token';

/** What core's `tokens.exchange(request, options)` takes: `session` (`ttl`, `path`), `confirm`, `cookie`, `scopes`, `mode`. */
export type ExchangeOptions = NonNullable<Parameters<TokenAccess['exchange']>[1]>;

/** Options of {@link exchangeRoute}. */
export interface ExchangeRouteOptions<Ctx = unknown> extends ExchangeOptions {
  /**
   * Serves the link's URL once exchanged: a request without the link's token parameter is
   * authenticated by its session cookie (`cookie`, required with `handler`) and handed to this
   * handler with the session token, as {@link withToken} does. Without it, such a request gets
   * core's exchange answer (401 `missing`).
   */
  handler?: TokenRouteHandler<Ctx>;
}

/** A route handler for the methods a share link arrives with: GET (the link) and POST (its confirm button). */
export interface ExchangeRoute<Ctx = unknown> {
  GET: (request: NextRequest, ctx: Ctx) => Promise<Response>;
  POST: (request: NextRequest, ctx: Ctx) => Promise<Response>;
}

/**
 * Mounts core's share-link exchange as an App Router route handler: a request carrying the link's
 * token is exchanged (its use spent) for a short-lived session cookie and answered with a 303 to
 * the same URL without the token, so the token leaves the address bar, history and `Referer`;
 * with `confirm: true` a GET answers a confirm page and only its POST spends the link. Core
 * answers every case (303, the confirm page, the RFC 6750 refusal); this passes its `response`
 * on. The request is given to core under the origin it was served on (the `Host` header and the
 * protocol Next decided), as {@link withToken} verifies links; without a usable `Host` it is
 * refused with 400.
 *
 * The returned handler is a plain `(request) => Promise<Response>` too, so `proxy.ts` can call
 * `route.GET(request)` for the paths that serve pages.
 *
 * @example
 * ```ts
 * // app/files/[name]/route.ts: the link /files/q3.pdf?token=… becomes a session for /files/q3.pdf
 * export const { GET, POST } = exchangeRoute(tokens, {
 *   cookie: 'file_session',
 *   confirm: true,
 *   handler: async (_request, ctx: { params: Promise<{ name: string }> }) => new Response(`contents of ${(await ctx.params).name}`),
 * });
 * ```
 */
export function exchangeRoute<Ctx = unknown>(tokens: TokenAccess, options: ExchangeRouteOptions<Ctx> = {}): ExchangeRoute<Ctx> {
  if (!tokens || typeof tokens.authenticate !== 'function') throw setupError('exchangeRoute needs `tokens` (the object createTokenAccess returns)');
  assertScopes(options.scopes, 'exchangeRoute scopes');
  const { handler, ...exchangeOptions } = options;
  if (handler !== undefined && (typeof handler !== 'function' || !options.cookie)) {
    throw setupError('exchangeRoute with a `handler` needs the session `cookie` name it authenticates by');
  }
  const serve = handler
    ? withToken(handler, {
        tokens,
        urlTokens: false,
        cookie: options.cookie,
        ...(options.scopes ? { scopes: options.scopes } : {}),
        ...(options.mode ? { mode: options.mode } : {}),
      })
    : undefined;

  const route = async (request: NextRequest, ctx: Ctx): Promise<Response> => {
    if (serve && !new URL(request.url).searchParams.has(tokens.urlParam)) return serve(request, ctx);
    const served = await servedRequest(request);
    if (!served) return toResponse(verifyError('invalid_request', { realm: tokens.realm }));
    return (await tokens.exchange(served, exchangeOptions)).response;
  };
  return { GET: route, POST: route };
}
