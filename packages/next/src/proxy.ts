import {
  type AuthenticateOptions,
  type ScopeMode,
  type TokenAccess,
  type TokenInfo,
  type VerifyError,
  type VerifyErrorCode,
  canonicalizeUrl,
  isWellFormed,
  parseBearer,
  toResponse,
  verifyError,
} from '@tokenaccess/core';
import { type NextRequest, NextResponse } from 'next/server.js';
import { setupError } from './errors';
import { assertScopes } from './scopes';
import { type ForwardHeaders, resolveForwardHeaders, setClaims, stripClaims } from './forward';
import { type PathMatcher, decodePathname, toPredicate } from './match';
import type { ExchangeOptions } from './exchange';
import { servedRequest } from './served';

/** One path rule of {@link tokenProxy}. The first rule that matches a request decides. */
export interface TokenProxyRule {
  /** `'/api/admin/:path*'` (Next matcher syntax), a RegExp, or `(pathname, request) => boolean`. */
  match: PathMatcher;
  /** Methods the rule applies to (upper case). @default every method except OPTIONS (CORS preflights carry no credentials) */
  methods?: string[];
  /** Let matching requests through unchecked (put it before a broader rule). @default false */
  public?: boolean;
  /** Scopes a token needs here. @default [] (any valid token) */
  scopes?: string[];
  /** @default 'all' */
  mode?: ScopeMode;
  /**
   * How a Bearer token is checked:
   * - `'verify'`: every rule of a verification (one store read: unknown, revoked, disabled,
   *   expired, used up, scopes) without spending a use or writing anything (core's
   *   `count: false`), so a token with `maxUses` reaches the handler, whose verification is its
   *   one use.
   * - `'format'`: presence, prefix and checksum only; no store is asked.
   * @default 'verify'
   */
  check?: 'verify' | 'format';
  /**
   * Whether a URL token (share link) may open the path. The proxy never verifies URL tokens,
   * because verifying spends a use (one, for a one-time link) and the handler must spend it:
   * it only checks that there is exactly one, well formed, and no Bearer token beside it, and
   * lets the handler verify. `false` treats a URL token as absent (as core's `urlTokens: false`).
   * @default true
   */
  urlTokens?: boolean;
  /**
   * Exchange a share link on this path for a session (core's `tokens.exchange`): a request
   * carrying a well-formed URL token is answered here with core's response (a 303 to the same
   * URL without the token and a session cookie, the confirm page, or the refusal), spending
   * the link's use; the page then reads the session cookie (`verifyPageToken({ cookie })`).
   * `true` uses core's defaults; `cookie` here should match the proxy's and the page's.
   * @default false
   */
  exchange?: boolean | ExchangeOptions;
}

/** Options of {@link tokenProxy}. */
export interface TokenProxyOptions {
  tokens: TokenAccess;
  /** Path rules, first match wins. Paths no rule matches pass through unchecked. */
  rules: TokenProxyRule[];
  /** Header carrying the token, as in core's `authenticate`. @default 'authorization' */
  header?: string;
  /** Replaces token extraction (as in core's `authenticate`). */
  getToken?: AuthenticateOptions['getToken'];
  /**
   * Also accept a share-link session token from this cookie (core's `authenticate({ cookie })`),
   * checked like a Bearer token. @default none
   */
  cookie?: string;
  /**
   * Forward the verified token's id, subject and scopes to the app as request headers. Client
   * copies of these headers are removed on every request the proxy sees, forwarding or not.
   * The subject is forwarded for access tokens only: whoever opens a share link (a URL or
   * session token) is a guest, not the link's issuer.
   * `true` uses the default names (`x-tokenaccess-id`, `-subject`, `-scopes`).
   * @default false
   */
  forward?: boolean | ForwardHeaders;
  /**
   * Builds the response for a refused request; send `error.headers` with it (`Retry-After` and
   * the `RateLimit` headers of a 429). @default core's RFC 6750 `toResponse(error)`
   */
  onError?: (error: VerifyError, request: NextRequest) => Response | Promise<Response>;
  /**
   * Continues the chain for a request that may pass, with the sanitised request headers (and the
   * token, when one was verified). Use it to compose with your own proxy logic.
   * @default (request, { headers }) => NextResponse.next({ request: { headers } })
   */
  next?: (request: NextRequest, pass: { headers: Headers; token?: TokenInfo; rule?: TokenProxyRule }) => Response | Promise<Response>;
}

const ALL_BUT_OPTIONS = (m: string) => m !== 'OPTIONS';

/**
 * A first gate for `proxy.ts` (Next 16) or `middleware.ts` (Next 15.5+, edge or Node):
 * decides per path which scopes a request needs, answers refusals itself with core's RFC 6750
 * response, and optionally forwards the verified token's claims as request headers, after
 * removing any client-sent copies of them.
 *
 * It is a first gate only: route handlers and pages verify again (`withToken`,
 * `requireToken`, `verifyPageToken`), as Next's own guidance asks since CVE-2025-29927 showed
 * a middleware can be skipped. Nothing is spent here: Bearer tokens are checked without
 * counting a use (`check`), URL tokens are format-checked and verified (spent) only by the
 * handler. Nor is a rate limit counted: a token whose window is already full is refused here
 * with core's 429 (`Retry-After`, `RateLimit`, `RateLimit-Policy`); otherwise the handler's
 * verification counts it and sends the `RateLimit` headers.
 *
 * Rules match the path as Next routes it: `request.nextUrl.pathname` (dot segments already
 * resolved by Next), each segment percent-decoded except an encoded `/` (`/api/%61dmin` is
 * matched as `/api/admin`; `a%2Fb` stays one segment, as Next routes it), case-sensitively (Next
 * answers `/API/admin` with 404). A path Next would not route as written, or that a handler
 * could resolve again, is refused with 400 `invalid_request` before any rule: an empty segment
 * (`//`), a dot segment or a backslash in any encoding (`%2e%2e`, `..%2F`, `%5C`).
 *
 * @example
 * ```ts
 * // proxy.ts
 * import { tokenProxy } from '@tokenaccess/next';
 * import { tokens } from './lib/tokens';
 *
 * export const proxy = tokenProxy({
 *   tokens,
 *   rules: [
 *     { match: '/api/health', public: true },
 *     { match: '/api/admin/:path*', scopes: ['admin'] },
 *     { match: '/api/:path*' },
 *   ],
 *   forward: true,
 * });
 * ```
 */
export function tokenProxy(options: TokenProxyOptions): (request: NextRequest) => Promise<Response> {
  if (!options?.tokens || typeof options.tokens.authenticate !== 'function') {
    throw setupError('tokenProxy needs `tokens` (the object createTokenAccess returns)');
  }
  if (!Array.isArray(options.rules)) throw setupError('tokenProxy needs `rules`: an array of { match, scopes }');
  const { tokens, header, getToken, cookie, onError } = options;
  const names = resolveForwardHeaders(typeof options.forward === 'object' ? options.forward : undefined);
  const forward = options.forward !== undefined && options.forward !== false;
  const rules = options.rules.map((rule) => {
    if (!rule || typeof rule !== 'object' || rule.match === undefined) throw setupError('every rule needs `match`');
    if (rule.check !== undefined && rule.check !== 'verify' && rule.check !== 'format') {
      throw setupError(`rule check must be 'verify' or 'format' (got ${JSON.stringify(rule.check)})`);
    }
    assertScopes(rule.scopes, 'rule scopes');
    if (rule.exchange && rule.urlTokens === false) throw setupError('a rule with `exchange` takes URL tokens: drop `urlTokens: false`');
    if (rule.check === 'format' && rule.scopes?.length) {
      throw setupError(`a rule with check: 'format' cannot check scopes (${rule.scopes.join(' ')}): that needs the store, use check: 'verify'`);
    }
    const methods = rule.methods ? new Set(rule.methods.map((m) => m.toUpperCase())) : null;
    return { rule, test: toPredicate(rule.match), method: methods ? (m: string) => methods.has(m) : ALL_BUT_OPTIONS };
  });
  const headerName = header ?? 'authorization';
  const bare = headerName.toLowerCase() !== 'authorization';

  const refuse = (code: VerifyErrorCode, request: NextRequest) => {
    const error = verifyError(code, { realm: tokens.realm });
    return onError ? onError(error, request) : toResponse(error);
  };
  const pass = (request: NextRequest, headers: Headers, changed: boolean, token?: TokenInfo, rule?: TokenProxyRule) => {
    if (options.next) return options.next(request, { headers, ...(token ? { token } : {}), ...(rule ? { rule } : {}) });
    return changed ? NextResponse.next({ request: { headers } }) : NextResponse.next();
  };

  const exchangeLink = async (request: NextRequest, exchangeOptions: ExchangeOptions): Promise<Response> => {
    const served = await servedRequest(request);
    if (!served) return refuse('invalid_request', request);
    const { response } = await tokens.exchange(served, { ...(cookie ? { cookie } : {}), ...exchangeOptions });
    // core redirects to a relative URL; Next's proxy adapter parses a Location as an absolute one
    const location = response.headers.get('location');
    if (location === null) return response;
    const headers = new Headers(response.headers);
    headers.set('location', new URL(location, served.url).href);
    return new Response(response.body, { status: response.status, headers });
  };

  return async function tokenProxyHandler(request: NextRequest): Promise<Response> {
    const headers = new Headers(request.headers);
    const stripped = stripClaims(headers, names);
    // Before any rule: a spelling Next would not route as written (it redirects `//` and `\`,
    // resolves dot segments) or that a handler could resolve again (`..%2F`, `%5C`) matches no
    // rule safely, so it is refused whatever the rules say.
    if (!routable(request.nextUrl.pathname, tokens.urlParam)) return refuse('invalid_request', request);
    const pathname = decodePathname(request.nextUrl.pathname);
    const method = request.method.toUpperCase();
    const found = rules.find((r) => r.method(method) && r.test(pathname, request));
    if (!found || found.rule.public) return pass(request, headers, stripped, undefined, found?.rule);
    const { rule } = found;

    // As in core: `getToken` replaces extraction entirely, so the query is not looked at then.
    const urlTokens = rule.urlTokens === false || getToken ? [] : request.nextUrl.searchParams.getAll(tokens.urlParam);
    if (urlTokens.length > 0) {
      if (urlTokens.length > 1 || parseBearer(request.headers.get(headerName), bare) !== undefined) return refuse('invalid_request', request);
      if (!wellFormed(urlTokens[0]!)) return refuse('malformed', request);
      if (rule.exchange) return exchangeLink(request, rule.exchange === true ? {} : rule.exchange);
      return pass(request, headers, stripped, undefined, rule);
    }

    if (rule.check === 'format') {
      let raw: string | null | undefined;
      try {
        raw = getToken ? await getToken(request) : parseBearer(request.headers.get(headerName), bare);
      } catch {
        return refuse('invalid_request', request);
      }
      if (raw === null) return refuse('invalid_request', request);
      // no header: the session cookie, when one is configured (core's order)
      if ((raw === undefined || raw === '') && cookie && !getToken) raw = request.cookies.get(cookie)?.value;
      if (raw === undefined || raw === '') return refuse('missing', request);
      return wellFormed(raw) ? pass(request, headers, stripped, undefined, rule) : refuse('malformed', request);
    }

    // `count: false`: every rule of a verification, nothing spent or written; the handler's
    // verification is the token's use.
    const result = await tokens.authenticate(request, {
      urlTokens: false,
      count: false,
      ...(rule.scopes ? { scopes: rule.scopes } : {}),
      ...(rule.mode ? { mode: rule.mode } : {}),
      ...(header ? { header } : {}),
      ...(getToken ? { getToken } : {}),
      ...(cookie ? { cookie } : {}),
    });
    if (!result.ok) return onError ? onError(result.error, request) : toResponse(result.error);
    if (forward) setClaims(headers, names, result.token);
    return pass(request, headers, stripped || forward, result.token, rule);
  };
}

/** A URL or Bearer token is well formed under its own prefix (the store is never asked). */
function wellFormed(raw: string): boolean {
  const i = raw.indexOf('_');
  return i > 0 && isWellFormed(raw, raw.slice(0, i));
}

/**
 * Whether a request path is in the form Next routes as written: no empty segment (`//`), and
 * nothing core refuses to compare as routed (a dot segment or a backslash, in any encoding, also
 * `..%2F` inside a segment, which a route handler receives decoded as `../`). Core owns that rule.
 */
function routable(pathname: string, tokenParam: string): boolean {
  if (pathname.includes('//')) return false;
  try {
    canonicalizeUrl(pathname, { tokenParam });
    return true;
  } catch {
    return false;
  }
}
