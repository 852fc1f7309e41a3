import { type AuthenticateOptions, type RequestLike, TokenAccessError, type VerifyError, type VerifyResult, validateScopes, verifyError } from '@tokenaccess/core';
import type { Middleware } from 'koa';
import { type AuthMarker, MARKER, respondTokenError, setKeptHeaders } from './respond';
import { requestUrl } from './request-url';
import type { TokenAuthOptions, TokenContext, TokenState } from './types';

const msg = (text: string) => `[tokenaccess] [koa] ${text}`;

/**
 * Verifies the request's Bearer token (and, with `urlTokens`, a share-link token in its query)
 * and puts the verified `TokenInfo` on `ctx.state.token`. A refusal is answered with core's
 * RFC 6750 status, `WWW-Authenticate` header and JSON body `{ error, message }`; a failing
 * store answers 503 `unavailable`, never a 500. A token with a `rateLimit` gets the `RateLimit`
 * and `RateLimit-Policy` headers on the response (also when a later middleware throws), and
 * once its window is full a 429 `rate_limited` with `Retry-After`, spending no use. Mount it on
 * the app, on a router group (`router.use(tokenAuth(…))`) or on a single route.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import Router from '@koa/router';
 * import { createTokenAccess, memoryStore } from '@tokenaccess/core';
 * import { requireScopes, tokenAuth, type TokenState } from '@tokenaccess/koa';
 *
 * const tokens = createTokenAccess({ store: memoryStore() });
 * const api = new Router<TokenState>({ prefix: '/api' });
 * api.use(tokenAuth({ tokens }));
 * api.get('/users', requireScopes('users:read'), (ctx) => { ctx.body = { subject: ctx.state.token.subject }; });
 * new Koa().use(api.routes()).use(api.allowedMethods()).listen(3000);
 * ```
 */
export function tokenAuth<User = unknown, Key extends string = 'token', Passthrough extends boolean = false>(
  options: TokenAuthOptions<User, Key, Passthrough>,
): Middleware<TokenState<User, Key, Passthrough>> {
  if (!options || typeof options !== 'object' || !options.tokens || typeof options.tokens.authenticate !== 'function') {
    throw new TokenAccessError('invalid_argument', msg('tokenAuth needs { tokens } (createTokenAccess({ store }))'));
  }
  const { tokens, passthrough = false, loadSubject, getToken, cookie } = options;
  const subjectKinds = new Set<string>(options.subjectKinds ?? ['access']);
  const key = options.key ?? 'token';
  if (typeof key !== 'string' || key.length === 0) throw new TokenAccessError('invalid_argument', msg('key must be a non-empty string'));
  const onError = options.onError ?? respondTokenError;
  const marker: AuthMarker = { realm: tokens.realm, key, onError };
  const authOptions: AuthenticateOptions = { urlTokens: options.urlTokens ?? false };
  // validated now, so a malformed scope fails at start-up rather than as a 500 on each request
  if (options.scopes && options.scopes.length > 0) authOptions.scopes = validateScopes(options.scopes, msg('tokenAuth scopes'));
  if (options.mode !== undefined) {
    // checked now: at request time core's `invalid_argument` would be answered as the client's 400
    if (options.mode !== 'all' && options.mode !== 'any') throw new TokenAccessError('invalid_argument', msg(`mode must be 'all' or 'any' (got ${JSON.stringify(options.mode)})`));
    authOptions.mode = options.mode;
  }
  if (options.header) authOptions.header = options.header;
  if (cookie !== undefined) {
    if (typeof cookie !== 'string' || cookie.length === 0) throw new TokenAccessError('invalid_argument', msg('cookie must be a cookie name'));
    authOptions.cookie = cookie;
  }

  // a URL token is compared with the request URL, and a session with its path
  const withUrl = authOptions.urlTokens === true || cookie !== undefined;
  const withGetToken = (ctx: TokenContext): AuthenticateOptions => (getToken ? { ...authOptions, getToken: () => getToken(ctx) } : authOptions);

  const middleware = async (ctx: TokenContext, next: () => Promise<unknown>): Promise<void> => {
    const state = ctx.state as Record<string | symbol, unknown>;
    state[MARKER] = marker;
    // The URL matters only for URL tokens: the origin this server serves plus the raw request
    // target, as the router routes it (never `ctx.href`, which trusts an absolute-form target's
    // authority, and never a resolved path). No URL (a bad or missing Host): no URL token is read.
    const url = withUrl ? requestUrl(ctx) : undefined;
    const request: RequestLike = { headers: ctx.headers, method: ctx.method, ...(url !== undefined ? { url } : {}) };
    let result: VerifyResult;
    try {
      result = await tokens.authenticate(request, withGetToken(ctx));
    } catch (err) {
      // Core returns refusals and turns store failures into `unavailable`; what is still thrown
      // is an infrastructure failure (503), or a misconfiguration: a 500, never the error's own
      // `status` 400 with an exposed message, which would blame the client and go unlogged.
      if (err instanceof TokenAccessError && err.code !== 'unavailable') ctx.throw(500, err.message, { cause: err });
      ctx.app.emit('error', err, ctx);
      result = { ok: false, error: verifyError('unavailable', { realm: tokens.realm }) };
    }
    if (!result.ok) return fail(ctx, result.error, next);
    // a rate-limited token: its `RateLimit` headers go on whatever answers this request (the use
    // is counted now), an error thrown further down included
    if (result.headers) setKeptHeaders(ctx, result.headers);
    state[key] = result.token;
    // a share link's opener is a guest, not its issuer: owners load for the kinds asked for only
    if (loadSubject && result.token.subject !== undefined && subjectKinds.has(result.token.kind)) {
      let user: User | null | undefined;
      try {
        user = await loadSubject(result.token.subject, result.token, ctx);
      } catch (err) {
        // The owner's database is down: fail closed like a failing token store, and log it.
        ctx.app.emit('error', err, ctx);
        delete state[key];
        return fail(ctx, verifyError('unavailable', { realm: tokens.realm }), next);
      }
      if (user === null || user === undefined) {
        delete state[key];
        return fail(ctx, verifyError('not_found', { realm: tokens.realm }), next);
      }
      state.user = user;
    }
    await next();
  };

  async function fail(ctx: TokenContext, error: VerifyError, next: () => Promise<unknown>): Promise<void> {
    if (passthrough) {
      ctx.state.tokenError = error;
      await next();
      return;
    }
    await onError(error, ctx);
  }

  return middleware as unknown as Middleware<TokenState<User, Key, Passthrough>>;
}
