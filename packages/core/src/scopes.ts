import { invalid } from './errors';
import type { ScopeMode, TokenInfo } from './types';

/**
 * RFC 6749 scope-token characters; `*` only as a whole last segment (a wildcard): `*` alone, or
 * after `:`, `.` or `/` (`users:*`, `files/*`), never inside a segment (`users*`).
 */
const SCOPE_RE = /^(?:\*|[\x21\x23-\x29\x2B-\x5B\x5D-\x7E]+(?:[:./]\*)?)$/;
const SEPARATORS = ':./';

/** Whether a held scope is a wildcard: `*`, or a scope ending in `:*`, `.*` or `/*`. */
const isWildcard = (s: string) => s === '*' || (s.length > 2 && s.endsWith('*') && SEPARATORS.includes(s.charAt(s.length - 2)));

type HasScopes = Pick<TokenInfo, 'scopes'> | readonly string[];
const scopesOf = (t: HasScopes): readonly string[] => (Array.isArray(t) ? t : (t as Pick<TokenInfo, 'scopes'>).scopes);

/**
 * Whether one held scope covers a required one: `*`, equality, or a whole-segment wildcard
 * (`users:*` covers `users:read` and `users:x:y`, never `usersettings`). A held scope with a
 * `*` elsewhere (possible only in records written before this rule) is a plain name.
 */
function covers(held: string, required: string): boolean {
  if (held === required || held === '*') return true;
  return isWildcard(held) && required.startsWith(held.slice(0, -1));
}

/**
 * Whether a token (or a list of scopes) holds `scope`: it holds `*`, the scope itself, or a
 * wildcard covering it (`users:*` covers `users:read`). Empty scopes can nothing.
 *
 * @example
 * ```ts
 * can({ scopes: ['users:*'] }, 'users:read'); // true
 * ```
 */
export function can(token: HasScopes, scope: string): boolean {
  return scopesOf(token).some((held) => covers(held, scope));
}

/**
 * The negation of {@link can}.
 *
 * @example
 * ```ts
 * cant({ scopes: ['users:read'] }, 'users:write'); // true
 * ```
 */
export function cant(token: HasScopes, scope: string): boolean {
  return !can(token, scope);
}

/**
 * Whether a token holds all (`mode: 'all'`, the default) or any of `scopes`. No required
 * scopes is always true.
 *
 * @example
 * ```ts
 * hasScopes(token, ['users:read', 'users:write'], 'any');
 * ```
 */
export function hasScopes(token: HasScopes, scopes: readonly string[], mode: ScopeMode = 'all'): boolean {
  if (scopes.length === 0) return true;
  return mode === 'any' ? scopes.some((s) => can(token, s)) : scopes.every((s) => can(token, s));
}

/**
 * Validates a list of scope names (the rule `issue` and every check apply) and returns a
 * deduplicated copy; throws `TokenAccessError` `invalid_argument` otherwise. Adapters call it
 * when a middleware is built, so a typo fails at start-up instead of on every request.
 *
 * @example
 * ```ts
 * validateScopes(['users:read', 'users:*']); // ['users:read', 'users:*']
 * validateScopes(['has space']); // throws invalid_argument
 * ```
 */
export function validateScopes(scopes: unknown, what = 'scopes'): string[] {
  if (!Array.isArray(scopes)) throw invalid(`${what} must be an array of strings`);
  const out: string[] = [];
  for (const s of scopes) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 200 || !SCOPE_RE.test(s)) {
      throw invalid(`${what}: ${JSON.stringify(s)} is not a valid scope (printable ASCII without space, '"' or '\\', at most 200 characters; '*' only as a whole segment: '*', 'users:*', 'files/*', 'a.*')`);
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * Expands a required scope into every held scope that would cover it, so a store can check
 * coverage with plain set intersection (`scopes && $1` in SQL, `$in` in MongoDB, a loop in
 * Lua). The list starts with `'*'` and then the scope itself (alone when it is `'*'`); then one
 * wildcard per segment boundary. This is the one place wildcard semantics live for stores.
 *
 * @example
 * ```ts
 * expandScope('users:read'); // ['*', 'users:read', 'users:*']
 * expandScope('a.b/c'); // ['*', 'a.b/c', 'a.*', 'a.b/*']
 * ```
 */
export function expandScope(required: string): string[] {
  const out = new Set<string>(['*', required]);
  const base = required.endsWith('*') ? required.slice(0, -1) : required;
  for (let i = 0; i < base.length; i++) if (SEPARATORS.includes(base.charAt(i))) out.add(`${base.slice(0, i + 1)}*`);
  return [...out];
}
