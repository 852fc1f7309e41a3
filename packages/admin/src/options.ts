import type { TokenAccess } from '@tokenaccess/core';

/**
 * Who is using the admin page, as `authorize` returns it. `id` is what the CSRF tokens are bound
 * to (a form rendered for one operator is refused for another), so make it stable per operator:
 * a user id, a login name.
 */
export interface AdminIdentity {
  id: string;
  /** Shown in the page header ("Signed in as …"). @default id */
  name?: string;
}

/**
 * What `authorize` may answer:
 * - an {@link AdminIdentity}: let the request in;
 * - a `Response`: send it as it is (with the admin page's security headers added), e.g. a 401
 *   with `WWW-Authenticate: Basic realm="admin"`, or a redirect to your login page;
 * - `false`, `null` or `undefined`: refused with a 403 page.
 */
export type AuthorizeResult = AdminIdentity | Response | false | null | undefined;

/** Options of {@link adminHandler}. */
export interface AdminOptions {
  /** The token service (`createTokenAccess(...)`) whose tokens the page manages. */
  tokens: TokenAccess;
  /**
   * Decides who may enter. Called for every request except the page's static assets (its CSS,
   * script and icon, which hold no data). Read your session cookie or `Authorization` header here.
   */
  authorize: (request: Request) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * The path the page is mounted at: `''` for the root, else `/` followed by path segments, no
   * trailing slash. Every link and form of the page starts with it.
   * @default '/admin'
   */
  basePath?: string;
  /** The page's heading and `<title>`. @default 'Tokens' */
  title?: string;
  /**
   * The key of the CSRF tokens (HMAC-SHA256): at least 32 bytes (a string is taken as UTF-8).
   * Give the same secret to every process that serves the page (behind a load balancer, on
   * serverless functions); without one, each handler makes a random key, and a form rendered by
   * one process is refused by another.
   * @default 32 random bytes per handler
   */
  secret?: string | Uint8Array;
  /**
   * The origins the page is served from (`https://admin.example.com`), for the same-origin check
   * of browsers that send `Origin` but no `Sec-Fetch-Site`. Give it when a proxy in front of the
   * app changes the scheme or host, so `request.url` is not what the browser sees.
   * @default the origin of `request.url`
   */
  origins?: string[];
  /** How many tokens a list page shows unless the filter says otherwise (1 to 1000). @default 50 */
  pageSize?: number;
  /**
   * Where unexpected errors go (the page itself shows only "Something went wrong"). Never given a
   * raw token: the page holds none except in the one response that shows it.
   * @default console.error
   */
  onError?: (error: unknown, request: Request) => void;
}
