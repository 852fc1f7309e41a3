/**
 * @module @tokenaccess/koa
 *
 * Koa middleware for tokenaccess: `tokenAuth()` verifies Bearer tokens, share links and their
 * sessions and puts the token on `ctx.state.token`; `requireScopes()` / `requireAnyScope()` guard
 * routes; `shareLink()` exchanges a share link for a session cookie.
 * Works with Koa 3 and Koa 2, and with `@koa/router` groups and single routes.
 *
 * ```sh
 * npm install @tokenaccess/core @tokenaccess/koa
 * ```
 *
 * @example
 * ```ts
 * import { tokenAuth, requireScopes } from '@tokenaccess/koa';
 * router.use(tokenAuth({ tokens }));
 * router.get('/users', requireScopes('users:read'), listUsers);
 * ```
 */
export { tokenAuth } from './token-auth';
export { requireScopes, requireAnyScope } from './scopes';
export { respondTokenError, throwTokenError, errorHeaders } from './respond';
export { requestOrigin } from './request-url';
export { shareLink, type ShareLinkOptions } from './share-link';
export type { TokenState, TokenAuthOptions, TokenContext, TokenErrorHandler } from './types';
