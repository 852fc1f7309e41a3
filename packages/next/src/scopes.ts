import { validateScopes } from '@tokenaccess/core';

/**
 * @internal Refuses a malformed scope list when a wrapper is created, not on every request
 * (core would throw `invalid_argument` from inside each verification). The rule is core's.
 */
export function assertScopes(scopes: unknown, what: string): void {
  if (scopes !== undefined) validateScopes(scopes, `[tokenaccess] [next] ${what}`);
}
