import { type ScopeMode, type TokenInfo, TokenAccessError, type VerifyError, hasScopes, validateScopes, verifyError } from '@tokenaccess/core';
import type { Middleware } from 'koa';
import { type AuthMarker, MARKER, respondTokenError } from './respond';
import type { TokenContext, TokenState } from './types';

const msg = (text: string) => `[tokenaccess] [koa] ${text}`;

function guard(scopes: string[], mode: ScopeMode, what: string): Middleware<TokenState> {
  if (scopes.length === 0) throw new TokenAccessError('invalid_argument', msg(`${what} needs at least one scope`));
  const required = validateScopes(scopes, msg(what));
  const middleware = async (ctx: TokenContext, next: () => Promise<unknown>): Promise<void> => {
    const state = ctx.state as Record<string | symbol, unknown>;
    const marker = state[MARKER] as AuthMarker | undefined;
    const realm = marker?.realm ?? 'api';
    const onError = marker?.onError ?? respondTokenError;
    const token = state[marker?.key ?? 'token'] as TokenInfo | undefined;
    if (!token) {
      // After a `passthrough` refusal, answer with that refusal (an expired token stays
      // `invalid_token`); with no token at all, RFC 6750's bare 401.
      const error = (state.tokenError as VerifyError | undefined) ?? verifyError('missing', { realm });
      return onError(error, ctx);
    }
    if (!hasScopes(token, required, mode)) return onError(verifyError('insufficient_scope', { realm, scopes: required }), ctx);
    await next();
  };
  return middleware as unknown as Middleware<TokenState>;
}

/**
 * Route-level check after {@link tokenAuth}: the token must hold **all** of `scopes`
 * (wildcards count: a token with `users:*` passes `requireScopes('users:read')`). Without a
 * token: 401; without a scope: 403 `insufficient_scope` with `scope="…"` naming them.
 * Scopes are checked on the verified record, after the use was counted: for limited tokens
 * prefer `tokenAuth({ scopes })`, which checks inside the atomic `consume`.
 *
 * @example
 * ```ts
 * router.post('/users', requireScopes('users:write', 'audit:log'), createUser);
 * ```
 */
export function requireScopes(...scopes: string[]): Middleware<TokenState> {
  return guard(scopes.flat(), 'all', 'requireScopes');
}

/**
 * Like {@link requireScopes}, but **one** of `scopes` is enough.
 *
 * @example
 * ```ts
 * router.get('/reports', requireAnyScope('reports:read', 'admin'), listReports);
 * ```
 */
export function requireAnyScope(...scopes: string[]): Middleware<TokenState> {
  return guard(scopes.flat(), 'any', 'requireAnyScope');
}
