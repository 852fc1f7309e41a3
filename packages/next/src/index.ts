/**
 * @module @tokenaccess/next
 *
 * Next.js (App Router, 15.5+ and 16) adapter for tokenaccess: `withToken()` for route handlers,
 * `tokenProxy()` for `proxy.ts` / `middleware.ts`, `getToken()` / `requireToken()` for Server
 * Components and Server Actions, `verifyPageToken()` for share-link pages, `exchangeRoute()` to
 * exchange share links for sessions, and `createNextAuth(tokens)` to bind them all to one service.
 * `npm install @tokenaccess/next @tokenaccess/core`
 */
export { withToken, type WithTokenOptions, type TokenRouteHandler } from './with-token';
export { tokenProxy, type TokenProxyOptions, type TokenProxyRule } from './proxy';
export { compilePattern, type PathMatcher } from './match';
export { readForwardedClaims, FORWARD_HEADERS, type ForwardHeaders } from './forward';
export { getToken, requireToken, interrupt, TokenRequiredError, type ServerTokenOptions, type RequireTokenOptions } from './server';
export { verifyPageToken, type VerifyPageTokenOptions, type PageSearchParams } from './page';
export { createNextAuth, type NextAuth, type NextAuthDefaults } from './bound';
export { exchangeRoute, type ExchangeRoute, type ExchangeRouteOptions, type ExchangeOptions } from './exchange';
