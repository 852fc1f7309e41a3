import type { AuthenticateOptions, ScopeMode, TokenAccess, TokenInfo, VerifyError } from '@tokenaccess/core';
import type { ParameterizedContext } from 'koa';

/**
 * What {@link tokenAuth} puts on `ctx.state`, typed as its options say: the verified token
 * under `Key` (`key`, default `token`; optional with `passthrough`), the owner returned by
 * `loadSubject` (`user`), and with `passthrough` the refusal (`tokenError`). Put it into
 * `Koa<TokenState>` or `Router<TokenState>` to type `ctx.state`, or let `router.use(tokenAuth(…))`
 * infer it; nothing is augmented globally.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import Router from '@koa/router';
 * import type { TokenState } from '@tokenaccess/koa';
 *
 * type User = { id: string; name: string };
 * const router = new Router<TokenState<User>>({ prefix: '/api' });
 * router.get('/me', (ctx) => { ctx.body = { user: ctx.state.user, scopes: ctx.state.token.scopes }; });
 * ```
 */
export type TokenState<User = unknown, Key extends string = 'token', Passthrough extends boolean = false> = (Passthrough extends true
  ? { [K in Key]?: TokenInfo } & {
      /** The refusal: present when no token was accepted. */
      tokenError?: VerifyError;
    }
  : { [K in Key]: TokenInfo }) & {
  /** The owner, when `loadSubject` is configured and the token has a subject (access tokens only, by default: a share link's opener is a guest). */
  user?: User;
};

/** The Koa context the middleware of this package accept (any state, any custom context). */
export type TokenContext = ParameterizedContext<Record<string, unknown>>;

/** Replaces the default error response (see `respondTokenError` and `throwTokenError`). */
export type TokenErrorHandler = (error: VerifyError, ctx: TokenContext) => void | Promise<void>;

/** Options of {@link tokenAuth}. */
export interface TokenAuthOptions<User = unknown, Key extends string = 'token', Passthrough extends boolean = false> {
  /** The token service: `createTokenAccess({ store })`. */
  tokens: TokenAccess;
  /**
   * Scopes the token must hold. They are checked inside the store's atomic `consume`, so a
   * limited token (a share link) that lacks them spends no use. @default [] (none)
   */
  scopes?: string[];
  /** How `scopes` combine. @default 'all' */
  mode?: ScopeMode;
  /** The `ctx.state` property that receives the verified `TokenInfo`. @default 'token' */
  key?: Key;
  /**
   * On failure, call the next middleware with the refusal on `ctx.state.tokenError` (and no
   * token) instead of answering. For routes that serve anonymous and signed-in callers.
   * @default false
   */
  passthrough?: Passthrough;
  /**
   * Replaces extraction entirely (koa-jwt's `getToken`): return the raw token, or
   * null/undefined for none. A throw is answered as `invalid_request`.
   */
  getToken?: (ctx: TokenContext) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Also accept a URL token (a share link) in the query, verified against this exact request
   * and method: the origin this server serves (`requestOrigin(ctx)`: `ctx.protocol` and
   * `ctx.host`) plus the request target's path and query exactly as received (never resolved,
   * so `/admin/../files` is not `/files`). A request whose Host is missing or not a plain
   * `host[:port]` carries no URL token. Off by default in Koa so an API whose own query uses a
   * `token` parameter is not refused; turn it on for the routes that serve links. @default false
   */
  urlTokens?: boolean;
  /** Header carrying the token (`Bearer ` optional in a custom header). @default 'authorization' */
  header?: AuthenticateOptions['header'];
  /**
   * Loads the owner of the token (Shield's `auth()->user()`) onto `ctx.state.user`. Called only
   * for tokens with a `subject` whose kind is in `subjectKinds` (access tokens by default). Returning null or undefined refuses the request with 401
   * `invalid_token` (the owner is gone); a throw answers 503 `unavailable` and is emitted on
   * `app.on('error')`.
   */
  loadSubject?: (subject: string, token: TokenInfo, ctx: TokenContext) => User | null | undefined | Promise<User | null | undefined>;
  /**
   * The token kinds `loadSubject` runs for. Whoever opens a share link (a `'url'` token, or the
   * session it was exchanged for) is a guest holding the link's scopes, not the link's issuer,
   * so by default only access tokens load an owner and `ctx.state.user` stays undefined for a
   * guest. Add `'url'` (or `'session'`) only where the link's subject should act as the user.
   * @default ['access']
   */
  subjectKinds?: ReadonlyArray<TokenInfo['kind']>;
  /**
   * Also accept a share-link session token from this cookie (core's `authenticate({ cookie })`,
   * after `shareLink` exchanged the link): checked against this request's path, never counted.
   * @default none
   */
  cookie?: string;
  /**
   * Answers a refusal. The default ({@link respondTokenError}) writes the RFC 6750 response
   * directly: status, `WWW-Authenticate`, `Cache-Control: no-store`, JSON `{ error, message }`.
   * Pass {@link throwTokenError} to throw an `HttpError` to your error middleware instead
   * (koa-jwt's style). @default respondTokenError
   */
  onError?: TokenErrorHandler;
}
