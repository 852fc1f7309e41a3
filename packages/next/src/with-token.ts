import { type AuthenticateOptions, type TokenAccess, type TokenInfo, type VerifyError, toResponse } from '@tokenaccess/core';
import type { NextRequest } from 'next/server.js';
import { assertScopes } from './scopes';

/** Options of {@link withToken}. */
export interface WithTokenOptions extends AuthenticateOptions {
  /** The token service: `createTokenAccess({ store })`. */
  tokens: TokenAccess;
  /**
   * Builds the response for a refused request. @default the RFC 6750 response of core's
   * `toResponse(error)` (401 / 400 / 403 / 503 with `WWW-Authenticate`)
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
  if (typeof handler !== 'function') throw new TypeError('[tokenaccess] [next] withToken needs a route handler function');
  if (!options?.tokens || typeof options.tokens.authenticate !== 'function') {
    throw new TypeError('[tokenaccess] [next] withToken needs `tokens` (the object createTokenAccess returns)');
  }
  assertScopes(options.scopes, 'scopes');
  const { tokens, onError, ...check } = options;
  return async function tokenRouteHandler(request: NextRequest, ctx: Ctx): Promise<Response> {
    const result = await tokens.authenticate(request, check);
    if (!result.ok) return onError ? onError(result.error, request) : toResponse(result.error);
    return handler(request, ctx, result.token);
  };
}
