import type { ScopeMode, TokenAccess, VerifyResult } from '@tokenaccess/core';

/** What a page receives as `searchParams` (awaited or not), or a `URLSearchParams`. */
export type PageSearchParams = Record<string, string | string[] | undefined> | URLSearchParams;

/** Options of {@link verifyPageToken}. */
export interface VerifyPageTokenOptions {
  tokens: TokenAccess;
  /**
   * The page's path as it appears in the URL, e.g. `'/share/report'` or
   * `` `/share/${encodeURIComponent(id)}` `` built from `params`.
   */
  pathname: string;
  /** The page's `searchParams` prop (the Promise or its value). */
  searchParams: PageSearchParams | Promise<PageSearchParams>;
  scopes?: string[];
  /** @default 'all' */
  mode?: ScopeMode;
  /** @default 'GET' (a page render) */
  method?: string;
}

/**
 * Verifies a share link opened as a page. A Server Component does not see its URL, so this
 * rebuilds it from the known `pathname` and the page's `searchParams` and calls
 * `tokens.verifyUrl`: the token must be bound to exactly this path and these query parameters
 * (in any order). Verifying spends a use, so call it once per render (not in both
 * `generateMetadata` and the page, unless wrapped in React's `cache`).
 *
 * @example
 * ```tsx
 * export default async function SharePage({ params, searchParams }: PageProps<'/share/[id]'>) {
 *   const { id } = await params;
 *   const r = await verifyPageToken({ tokens, pathname: `/share/${encodeURIComponent(id)}`, searchParams });
 *   if (!r.ok) return <p>{r.error.message}</p>;
 *   return <Report id={id} />;
 * }
 * ```
 */
export async function verifyPageToken(options: VerifyPageTokenOptions): Promise<VerifyResult> {
  if (!options?.tokens || typeof options.tokens.verifyUrl !== 'function') {
    throw new TypeError('[tokenaccess] [next] verifyPageToken needs `tokens` (the object createTokenAccess returns)');
  }
  const { tokens, pathname, scopes, mode, method } = options;
  if (typeof pathname !== 'string' || !pathname.startsWith('/') || /[?#]/.test(pathname)) {
    throw new TypeError(`[tokenaccess] [next] verifyPageToken needs the page's pathname, starting with '/' and without '?' or '#' (got ${JSON.stringify(pathname)})`);
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
  return tokens.verifyUrl(url, { method: method ?? 'GET', ...(scopes ? { scopes } : {}), ...(mode ? { mode } : {}) });
}
