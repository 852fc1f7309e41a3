import type { AuthenticateOptions, TokenAccess, TokenInfo, VerifyError, VerifyResult } from '@tokenaccess/core';
import { headers } from 'next/headers.js';
import { setupError } from './errors';
import { verifyOnce } from './memo';

/** Options of {@link getToken} and {@link requireToken}. */
export interface ServerTokenOptions extends Omit<AuthenticateOptions, 'urlTokens'> {
  tokens: TokenAccess;
}

/** Options of {@link requireToken}. */
export interface RequireTokenOptions extends ServerTokenOptions {
  /**
   * Called on a refusal instead of the default; it should throw or call `redirect()`,
   * `unauthorized()`, `forbidden()` or `notFound()`. If it returns, a {@link TokenRequiredError}
   * is thrown.
   */
  onError?: (error: VerifyError) => never | void | Promise<never | void>;
  /**
   * Use Next's `unauthorized()` (401) / `forbidden()` (403) when `experimental.authInterrupts`
   * is on, so `unauthorized.tsx` / `forbidden.tsx` render with the right status. When it is
   * off (or for 400 / 503), a {@link TokenRequiredError} is thrown instead.
   * @default true
   */
  interrupts?: boolean;
}

/**
 * Thrown by {@link requireToken} when the request carries no acceptable token and no Next
 * interrupt applies. `error` is core's verification error (`code`, `status`, `message`; for a
 * 429 `rate_limited`, `headers` with `Retry-After` and the `RateLimit` headers).
 *
 * It is a refusal, not a misuse, so it is not a `TokenAccessError` (whose codes name bad input
 * and failing stores: every setup error of this package is one). It carries the same
 * http-errors fields, `status` (the refusal's HTTP status) and `expose` (true
 * below 500: the message is core's generic one for the code), so one error handler answers both.
 *
 * @example
 * ```ts
 * try {
 *   await requireToken({ tokens }, ['reports:read']);
 * } catch (e) {
 *   if (e instanceof TokenRequiredError && e.status === 403) return <p>Not allowed</p>;
 *   throw e;
 * }
 * ```
 */
export class TokenRequiredError extends Error {
  override readonly name = 'TokenRequiredError';
  readonly error: VerifyError;
  readonly status: VerifyError['status'];
  /** Whether the message may be shown to the client (http-errors' `expose`): `status < 500`. */
  readonly expose: boolean;
  constructor(error: VerifyError) {
    super(`[tokenaccess] [next] ${error.message} (${error.code})`);
    this.error = error;
    this.status = error.status;
    this.expose = error.status < 500;
  }
}

/**
 * Verifies the token of the current request in a Server Component, Server Action or route
 * handler, reading its headers with `await headers()`. URL tokens are not looked at: a server
 * component does not see its URL (use {@link verifyPageToken} for share-link pages). Returns
 * core's result; it never throws for a bad token.
 *
 * One verification per request: while a Server Component tree renders, calls share one
 * verification through React's `cache()` (per request and token source), so a layout and its
 * page, or `generateMetadata` and the page, spend one use of a limited token, not two; each
 * call's own `scopes` are checked on that token. Outside a render (route handlers, Server
 * Actions) React keeps no per-request cache and each call verifies: call it once there. For a
 * rate-limited token the result carries `headers` (`RateLimit`, `RateLimit-Policy`) for a route
 * handler to send. A
 * custom `getToken` is told apart by identity, so define it once (or bind it with
 * {@link createNextAuth}) rather than inline per call.
 *
 * @example
 * ```tsx
 * export default async function Page() {
 *   const auth = await getToken({ tokens, scopes: ['reports:read'] });
 *   if (!auth.ok) return <p>{auth.error.message}</p>;
 *   return <p>Hello {auth.token.subject}</p>;
 * }
 * ```
 */
export async function getToken(options: ServerTokenOptions): Promise<VerifyResult> {
  if (!options?.tokens || typeof options.tokens.authenticate !== 'function') {
    throw setupError('getToken needs `tokens` (the object createTokenAccess returns)');
  }
  // requireToken passes its own options through: keep its keys out of core's.
  const { tokens, onError: _onError, interrupts: _interrupts, ...check } = options as RequireTokenOptions;
  const requestHeaders = await headers();
  return verifyOnce(tokens, check, () => tokens.authenticate({ headers: requestHeaders, method: 'GET' }, { ...check, urlTokens: false }));
}

/**
 * Like {@link getToken}, but returns the token or does not return: on a refusal it calls
 * `onError`, else Next's `unauthorized()` (401) / `forbidden()` (403) when
 * `experimental.authInterrupts` is enabled, else throws a {@link TokenRequiredError}.
 * `scopes` (if given) replaces `options.scopes`.
 *
 * @example
 * ```tsx
 * export default async function AccountPage() {
 *   const token = await requireToken({ tokens }, ['account:read']);
 *   return <p>Signed in as {token.subject}</p>;
 * }
 * ```
 */
export async function requireToken(options: RequireTokenOptions, scopes?: string[]): Promise<TokenInfo> {
  const result = await getToken(scopes ? { ...options, scopes } : options);
  if (result.ok) return result.token;
  if (options.onError) await options.onError(result.error);
  if (options.interrupts !== false) await interrupt(result.error);
  throw new TokenRequiredError(result.error);
}

/**
 * Calls Next's `unauthorized()` / `forbidden()` for a 401 / 403 error when they are usable:
 * the returned promise rejects with Next's own control-flow error, which must propagate. It
 * resolves (does nothing) when `experimental.authInterrupts` is off, or for 400 / 503.
 *
 * @example
 * ```ts
 * const r = await verifyPageToken({ tokens, pathname: '/share/7', searchParams });
 * if (!r.ok) await interrupt(r.error);
 * ```
 */
export async function interrupt(error: VerifyError): Promise<void> {
  if (error.status !== 401 && error.status !== 403) return;
  let navigation: { unauthorized(): never; forbidden(): never };
  try {
    // Imported lazily and by its bare name: Next maps `next/navigation` to the build for the
    // server layer (a static import of `next/navigation.js` pulls the client router into route
    // handlers), and outside Next nothing here can work anyway.
    navigation = await import('next/navigation');
  } catch {
    return;
  }
  try {
    if (error.status === 401) navigation.unauthorized();
    else navigation.forbidden();
  } catch (e) {
    // Next's interrupt errors carry a `digest`; without authInterrupts it throws a plain Error.
    if (e && typeof e === 'object' && typeof (e as { digest?: unknown }).digest === 'string') throw e;
  }
}
