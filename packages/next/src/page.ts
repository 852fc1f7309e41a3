import type { ScopeMode, TokenAccess, VerifyResult } from '@tokenaccess/core';
import { headers } from 'next/headers.js';
import { setupError } from './errors';

/** What a page receives as `searchParams` (awaited or not), or a `URLSearchParams`. */
export type PageSearchParams = Record<string, string | string[] | undefined> | URLSearchParams;

/** Options of {@link verifyPageToken}. */
export interface VerifyPageTokenOptions {
  tokens: TokenAccess;
  /**
   * The page's path as it appears in the URL, e.g. `'/share/report'`, or `` `/share/${id}` ``
   * built from `params`. Next passes a page's `params` percent-encoded, exactly as in the URL
   * (`/share/caf%C3%A9` gives `id: 'caf%C3%A9'`, `/share/a%2Fb` gives `'a%2Fb'`), unlike a route
   * handler's, which are decoded: join them as they are. Encoding them again (`%` → `%25`)
   * would make `/share/a%2Fb` verify as `/share/a%252Fb`, another page's link; decoding them
   * would turn one segment `a%2Fb` into two. Next re-encodes them with `encodeURIComponent`, so
   * issue page links with segments encoded that way.
   */
  pathname: string;
  /** The page's `searchParams` prop (the Promise or its value). */
  searchParams: PageSearchParams | Promise<PageSearchParams>;
  scopes?: string[];
  /** @default 'all' */
  mode?: ScopeMode;
  /** @default 'GET' (a page render) */
  method?: string;
  /**
   * The share-link session cookie (where `tokenProxy`'s `exchange` rule or `exchangeRoute` put
   * the session): the page then also opens for a live session covering its path, read from the
   * request's cookies (`await headers()`); a link token still in the URL is verified as before.
   * @default none (share links only)
   */
  cookie?: string;
}

/**
 * Verifies a share link opened as a page. A Server Component does not see its URL, so this
 * rebuilds it from the known `pathname` and the page's `searchParams` and calls
 * `tokens.verifyUrl`: the token must be bound to exactly this path and these query parameters
 * (in any order). Verifying spends a use, so call it once per render (not in both
 * `generateMetadata` and the page, unless wrapped in React's `cache`).
 *
 * A page cannot see the raw request target: Next has already resolved dot segments
 * (`/x/../share/7` renders `/share/7`) and redirected `//` and `\`. A `pathname` holding a dot
 * segment or a backslash in any encoding matches no link (core's rule), so a param such as
 * `..%2Fadmin` never walks a link to another page.
 *
 * @example
 * ```tsx
 * export default async function SharePage({ params, searchParams }: PageProps<'/share/[id]'>) {
 *   const { id } = await params; // percent-encoded, as in the URL
 *   const r = await verifyPageToken({ tokens, pathname: `/share/${id}`, searchParams });
 *   if (!r.ok) return <p>{r.error.message}</p>;
 *   return <Report id={id} />;
 * }
 * ```
 */
export async function verifyPageToken(options: VerifyPageTokenOptions): Promise<VerifyResult> {
  if (!options?.tokens || typeof options.tokens.verifyUrl !== 'function') {
    throw setupError('verifyPageToken needs `tokens` (the object createTokenAccess returns)');
  }
  const { tokens, pathname, scopes, mode, method } = options;
  if (typeof pathname !== 'string' || !pathname.startsWith('/') || /[?#]/.test(pathname)) {
    throw setupError(`verifyPageToken needs the page's pathname, starting with '/' and without '?' or '#' (got ${JSON.stringify(pathname)})`);
  }
  const params = await options.searchParams;
  const pairs: string[] = [];
  const add = (k: string, v: string) => pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (params instanceof URLSearchParams) {
    params.forEach((v, k) => add(k, v));
  } else if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) for (const item of v) add(k, item);
      else if (typeof v === 'string') add(k, v);
    }
  }
  const url = pairs.length ? `${pathname}?${pairs.join('&')}` : pathname;
  if (options.cookie) {
    // a session is checked against the page's path: give core the URL and the request's cookies
    const request = { url, headers: await headers(), method: method ?? 'GET' };
    return tokens.authenticate(request, { cookie: options.cookie, ...(scopes ? { scopes } : {}), ...(mode ? { mode } : {}) });
  }
  return tokens.verifyUrl(url, { method: method ?? 'GET', ...(scopes ? { scopes } : {}), ...(mode ? { mode } : {}) });
}
