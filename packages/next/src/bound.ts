import type { AuthenticateOptions, TokenAccess, TokenInfo, VerifyResult } from '@tokenaccess/core';
import type { NextRequest } from 'next/server.js';
import { setupError } from './errors';
import { type ExchangeRoute, type ExchangeRouteOptions, exchangeRoute } from './exchange';
import { type VerifyPageTokenOptions, verifyPageToken } from './page';
import { type TokenProxyOptions, tokenProxy } from './proxy';
import { type RequireTokenOptions, type ServerTokenOptions, getToken, requireToken } from './server';
import { type TokenRouteHandler, type WithTokenOptions, withToken } from './with-token';

/**
 * Where every helper of {@link createNextAuth} reads the token from, unless a call says
 * otherwise: set once, so a layout and its page (and the proxy) agree, and a `getToken` keeps
 * one identity (the per-request memo of `getToken` / `requireToken` is keyed by it).
 */
export interface NextAuthDefaults {
  /** @default 'authorization' */
  header?: string;
  /** Replaces extraction entirely (as in core's `authenticate`). */
  getToken?: AuthenticateOptions['getToken'];
  /** Also accept a share-link session token from this cookie. */
  cookie?: string;
}

/** The helpers of this package with `tokens` (and {@link NextAuthDefaults}) bound. */
export interface NextAuth {
  /** {@link withToken} without `tokens`. */
  withToken<Ctx = unknown>(handler: TokenRouteHandler<Ctx>, options?: Omit<WithTokenOptions, 'tokens'>): (request: NextRequest, ctx: Ctx) => Promise<Response>;
  /** {@link tokenProxy} without `tokens`. */
  tokenProxy(options: Omit<TokenProxyOptions, 'tokens'>): (request: NextRequest) => Promise<Response>;
  /** {@link getToken} without `tokens`. */
  getToken(options?: Omit<ServerTokenOptions, 'tokens'>): Promise<VerifyResult>;
  /** {@link requireToken}, scopes first: `await requireToken(['account:read'])`. */
  requireToken(scopes?: string[], options?: Omit<RequireTokenOptions, 'tokens'>): Promise<TokenInfo>;
  /** {@link verifyPageToken} without `tokens`. */
  verifyPageToken(options: Omit<VerifyPageTokenOptions, 'tokens'>): Promise<VerifyResult>;
  /** {@link exchangeRoute} without `tokens` (the `cookie` default applies). */
  exchangeRoute<Ctx = unknown>(options?: ExchangeRouteOptions<Ctx>): ExchangeRoute<Ctx>;
  /** The bound token service. */
  tokens: TokenAccess;
}

/**
 * Binds the helpers of this package to one token service, Auth.js's `NextAuth()` pattern: create
 * it once in `lib/auth.ts` and import the helpers everywhere, without passing `tokens` (or the
 * header, `getToken` or cookie) again. The unbound exports stay as they are.
 *
 * @example
 * ```ts
 * // lib/auth.ts
 * export const { withToken, requireToken, getToken, tokenProxy, verifyPageToken } = createNextAuth(tokens);
 *
 * // app/account/page.tsx
 * const token = await requireToken(['account:read']);
 * ```
 */
export function createNextAuth(tokens: TokenAccess, defaults: NextAuthDefaults = {}): NextAuth {
  if (!tokens || typeof tokens.authenticate !== 'function') throw setupError('createNextAuth needs `tokens` (the object createTokenAccess returns)');
  const base: NextAuthDefaults = {};
  if (defaults.header !== undefined) base.header = defaults.header;
  if (defaults.getToken !== undefined) base.getToken = defaults.getToken;
  if (defaults.cookie !== undefined) base.cookie = defaults.cookie;
  // core's option types gain `cookie` with share-link sessions; spread as plain options until then
  const withBase = <T extends object>(options: T | undefined) => ({ ...base, ...options, tokens }) as T & { tokens: TokenAccess };
  return {
    tokens,
    withToken: (handler, options) => withToken(handler, withBase(options)),
    tokenProxy: (options) => tokenProxy(withBase(options)),
    getToken: (options) => getToken(withBase(options)),
    requireToken: (scopes, options) => requireToken(withBase(options), scopes),
    verifyPageToken: (options) => verifyPageToken({ ...options, tokens }),
    exchangeRoute: (options) => exchangeRoute(tokens, { ...(base.cookie ? { cookie: base.cookie } : {}), ...options }),
  };
}
