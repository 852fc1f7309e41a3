import { TokenAccessError } from '../errors';

/**
 * `[tokenaccess] [<store>] <text>`: the prefix of every message a store writes.
 *
 * @example
 * ```ts
 * throw new TokenAccessError('invalid_argument', storeMessage('redis', 'keyPrefix must not contain { or }'));
 * ```
 */
export function storeMessage(store: string, text: string): string {
  return `[tokenaccess] [${store}] ${text}`;
}

/**
 * Maps any failure of a store call to what core expects: a `TokenAccessError` passes through
 * (a `DuplicateTokenError`, an `invalid_argument`), everything else (the driver's error, a
 * missed deadline) becomes `unavailable` with the original as `cause`, so core answers 503.
 * The one place this mapping is written; `deadlines(timeout, (what, err) => storeError(…))`
 * applies it to every call.
 *
 * @example
 * ```ts
 * const calls = deadlines(2000, (what, err) => storeError('mystore', what, err));
 * ```
 */
export function storeError(store: string, what: string, err: unknown, hint = ''): TokenAccessError {
  if (err instanceof TokenAccessError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new TokenAccessError('unavailable', storeMessage(store, `${what} failed: ${detail}${hint}`), { cause: err });
}
