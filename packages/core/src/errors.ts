/**
 * Codes of the errors tokenaccess throws. Verification never throws for a bad token: it returns
 * a {@link VerifyError} instead. These are for misuse and for infrastructure failures.
 *
 * - `invalid_argument`: bad input to an API call (a bad duration, scope, URL, option).
 * - `duplicate`: a store refused a record whose `hash` or `id` already exists.
 * - `unavailable`: the store failed (network, timeout, server error); see `cause`.
 * - `not_found`: an administrative call named a token that does not exist.
 */
export type TokenAccessErrorCode = 'invalid_argument' | 'duplicate' | 'unavailable' | 'not_found';

/**
 * The one error class of tokenaccess. Adapters throw it too (with messages prefixed
 * `[tokenaccess] [redis]` and so on), so `instanceof TokenAccessError` and `code` are all a
 * caller needs.
 *
 * @example
 * ```ts
 * try {
 *   await tokens.issue({ subject: 'u1', name: 'ci', expiresIn: 'soon' });
 * } catch (err) {
 *   if (err instanceof TokenAccessError && err.code === 'invalid_argument') console.log(err.message);
 * }
 * ```
 */
export class TokenAccessError extends Error {
  override readonly name = 'TokenAccessError';
  readonly code: TokenAccessErrorCode;
  /**
   * The HTTP status an application should answer when this error escapes a request handler:
   * 400 for `invalid_argument` (bad input), 404 `not_found`, 409 `duplicate`, 503
   * `unavailable`. Named as http-errors names it, so Koa's and Express's default handlers
   * answer it instead of a 500.
   */
  readonly status: number;
  /** Whether the message is safe to show a client (http-errors' `expose`): true for bad input only. */
  readonly expose: boolean;

  constructor(code: TokenAccessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.startsWith('[tokenaccess]') ? message : `[tokenaccess] ${message}`, options);
    this.code = code;
    this.status = STATUS[code];
    this.expose = code === 'invalid_argument';
  }
}

const STATUS: Record<TokenAccessErrorCode, number> = { invalid_argument: 400, not_found: 404, duplicate: 409, unavailable: 503 };

/**
 * Thrown by a store's `insert` when the `hash` or `id` is already taken.
 *
 * @example
 * ```ts
 * throw new DuplicateTokenError('[tokenaccess] [redis] a token with this hash exists');
 * ```
 */
export class DuplicateTokenError extends TokenAccessError {
  constructor(message = 'a token with this hash or id already exists', options?: { cause?: unknown }) {
    super('duplicate', message, options);
  }
}

/** @internal */
export function invalid(message: string): TokenAccessError {
  return new TokenAccessError('invalid_argument', message);
}
