/**
 * @internal Refuses a malformed scope list when a wrapper is created, not on every request
 * (core would throw `invalid_argument` from inside each verification).
 */
export function assertScopes(scopes: unknown, what: string): void {
  if (scopes === undefined) return;
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s === '' || /[\s"\\]/.test(s))) {
    throw new TypeError(`[tokenaccess] [next] ${what} must be an array of scope names (no spaces, '"' or '\\'), got ${JSON.stringify(scopes)}`);
  }
}
