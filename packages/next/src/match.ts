/**
 * Which requests a proxy rule covers: a Next.js matcher-style path pattern, a RegExp, or a
 * function of the pathname.
 */
export type PathMatcher = string | RegExp | ((pathname: string, request: Request) => boolean);

import { setupError } from './errors';

const SEGMENT_RE = /^:([A-Za-z_][A-Za-z0-9_]*)([*+?]?)$/;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles a Next.js matcher-style pattern to a RegExp: literal segments, `:name` (one
 * segment), `:name?` (zero or one), `:name*` (zero or more) and `:name+` (one or more). A
 * trailing slash is allowed. Patterns with regex groups (`:id(\\d+)`) are refused: pass a
 * RegExp instead.
 *
 * @example
 * ```ts
 * compilePattern('/api/admin/:path*').test('/api/admin/users/7'); // true
 * ```
 */
export function compilePattern(pattern: string): RegExp {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw setupError(`a rule's match pattern must start with '/' (got ${JSON.stringify(pattern)})`);
  }
  let source = '';
  for (const seg of pattern.split('/').slice(1)) {
    if (seg === '') continue;
    const m = SEGMENT_RE.exec(seg);
    if (m) {
      source += m[2] === '*' ? '(?:/[^/]+)*' : m[2] === '+' ? '(?:/[^/]+)+' : m[2] === '?' ? '(?:/[^/]+)?' : '/[^/]+';
    } else if (/[:()*]/.test(seg)) {
      throw setupError(`unsupported pattern segment ${JSON.stringify(seg)} in ${JSON.stringify(pattern)}: use :name, :name?, :name*, :name+ or a RegExp`);
    } else {
      source += `/${escape(seg)}`;
    }
  }
  return new RegExp(`^${source || ''}/?$`);
}

/** @internal Turns a rule's `match` into a predicate. */
export function toPredicate(match: PathMatcher): (pathname: string, request: Request) => boolean {
  if (typeof match === 'function') return match;
  const re = match instanceof RegExp ? match : compilePattern(match);
  return (pathname) => {
    re.lastIndex = 0;
    return re.test(pathname);
  };
}

/**
 * @internal Decodes each path segment (leaving an encoded `/` inside a segment encoded), so
 * `/api/%61dmin` is matched as `/api/admin`, the way the router resolves it.
 */
export function decodePathname(pathname: string): string {
  if (!pathname.includes('%')) return pathname;
  return pathname
    .split('/')
    .map((seg) => {
      try {
        return decodeURIComponent(seg).replace(/\//g, '%2F');
      } catch {
        return seg;
      }
    })
    .join('/');
}
