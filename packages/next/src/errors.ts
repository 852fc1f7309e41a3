import { TokenAccessError } from '@tokenaccess/core';

/**
 * @internal A setup error (bad options, a bad rule, a wrapper called without `tokens`): core's
 * one error class, code `invalid_argument`, so `instanceof TokenAccessError` catches every
 * misuse whichever package reports it.
 */
export function setupError(message: string): TokenAccessError {
  return new TokenAccessError('invalid_argument', `[tokenaccess] [next] ${message}`);
}
