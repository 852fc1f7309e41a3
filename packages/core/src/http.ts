import type { VerifyError, VerifyErrorCode } from './types';

const MESSAGES: Record<VerifyErrorCode, string> = {
  missing: 'Authentication is required.',
  invalid_request: 'The request is malformed.',
  malformed: 'The access token is invalid.',
  not_found: 'The access token is invalid.',
  expired: 'The access token expired.',
  exhausted: 'The access token has been used up.',
  url_mismatch: 'The access token is not valid for this URL.',
  insufficient_scope: 'The access token does not grant the required scope.',
  disabled: 'The access token is disabled.',
  rate_limited: 'Too many requests with this access token.',
  unavailable: 'Authentication is temporarily unavailable.',
};

/** A token's rate limit at one instant: what {@link rateLimitHeaders} reports. */
export interface RateState {
  limit: number;
  /** The window, in ms. */
  window: number;
  /** Verifications left in the current window. */
  remaining: number;
  /** Milliseconds until the current window ends. */
  resetIn: number;
}

/**
 * The `RateLimit-Policy` and `RateLimit` response headers (draft-ietf-httpapi-ratelimit-headers,
 * structured fields: `"token";q=100;w=60` and `"token";r=37;t=23`, seconds rounded up). Sent with
 * every response to a rate-limited token, and with its 429 (which adds `Retry-After`).
 *
 * @example
 * ```ts
 * rateLimitHeaders({ limit: 100, window: 60_000, remaining: 37, resetIn: 22_400 });
 * // { 'ratelimit-policy': '"token";q=100;w=60', ratelimit: '"token";r=37;t=23' }
 * ```
 */
export function rateLimitHeaders(rate: RateState): Record<string, string> {
  return {
    'ratelimit-policy': `"token";q=${rate.limit};w=${Math.ceil(rate.window / 1000)}`,
    ratelimit: `"token";r=${rate.remaining};t=${Math.max(0, Math.ceil(rate.resetIn / 1000))}`,
  };
}

/** A quoted-string for an auth-param (RFC 9110): backslash-escape `"` and `\`. */
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * Builds the {@link VerifyError} for a code, with the RFC 6750 status and `WWW-Authenticate`
 * value: no credentials → 401 without an error code; a malformed request → 400
 * `invalid_request`; a bad, unknown, expired, used-up or revoked token → 401 `invalid_token`;
 * a missing scope → 403 `insufficient_scope` with `scope="…"`; a failed store → 503.
 *
 * @example
 * ```ts
 * verifyError('expired', { realm: 'api' }).wwwAuthenticate;
 * // 'Bearer realm="api", error="invalid_token", error_description="The access token expired."'
 * ```
 */
export function verifyError(code: VerifyErrorCode, options: { realm?: string; scopes?: readonly string[]; rate?: RateState } = {}): VerifyError {
  const message = MESSAGES[code];
  const realm = options.realm ?? 'api';
  switch (code) {
    case 'rate_limited': {
      const rate = options.rate ?? { limit: 0, window: 1000, remaining: 0, resetIn: 1000 };
      const retryAfter = Math.max(1, Math.ceil(rate.resetIn / 1000));
      return { code, status: 429, error: 'rate_limited', message, retryAfter, headers: { 'retry-after': String(retryAfter), ...rateLimitHeaders(rate) } };
    }
    case 'missing':
      return { code, status: 401, error: 'unauthorized', message, wwwAuthenticate: challenge(realm, code) };
    case 'invalid_request':
      return { code, status: 400, error: 'invalid_request', message, wwwAuthenticate: challenge(realm, code) };
    case 'insufficient_scope': {
      const scopes = [...(options.scopes ?? [])];
      const scope = scopes.length ? `, scope=${quote(scopes.join(' '))}` : '';
      return { code, status: 403, error: 'insufficient_scope', message, scopes, wwwAuthenticate: `${challenge(realm, code)}${scope}` };
    }
    case 'unavailable':
      return { code, status: 503, error: 'temporarily_unavailable', message };
    default:
      return { code, status: 401, error: 'invalid_token', message, wwwAuthenticate: challenge(realm, code) };
  }
}

// The challenge strings are the same for every request of a realm: build each once (refusing
// garbage tokens is a path an attacker controls the rate of).
const challenges = new Map<string, Map<VerifyErrorCode, string>>();
function challenge(realm: string, code: VerifyErrorCode): string {
  let byCode = challenges.get(realm);
  if (!byCode) {
    if (challenges.size >= 100) challenges.clear();
    challenges.set(realm, (byCode = new Map()));
  }
  let value = byCode.get(code);
  if (value === undefined) {
    const base = `Bearer realm=${quote(realm)}`;
    const rfc = code === 'invalid_request' ? 'invalid_request' : code === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token';
    value = code === 'missing' ? base : `${base}, error="${rfc}", error_description=${quote(MESSAGES[code])}`;
    byCode.set(code, value);
  }
  return value;
}

/**
 * Turns a verification error into the Fetch `Response` RFC 6750 asks for: the status, the
 * `WWW-Authenticate` header, `Cache-Control: no-store`, and a JSON body `{ error, message }`.
 * A 503 also carries `Retry-After`; a 429 (`rate_limited`) its `headers`: `Retry-After`,
 * `RateLimit` and `RateLimit-Policy`.
 *
 * @example
 * ```ts
 * const auth = await tokens.authenticate(request, { scopes: ['users:read'] });
 * if (!auth.ok) return toResponse(auth.error);
 * ```
 */
export function toResponse(error: VerifyError, init: { headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json; charset=utf-8');
  headers.set('cache-control', 'no-store');
  if (error.wwwAuthenticate) headers.set('www-authenticate', error.wwwAuthenticate);
  if (error.status === 503) headers.set('retry-after', '5');
  if (error.headers) for (const [k, v] of Object.entries(error.headers)) headers.set(k, v);
  return new Response(JSON.stringify(errorBody(error)), { status: error.status, headers });
}

/**
 * The JSON body of an error response: `{ error, message }`. Framework adapters use it so every
 * framework answers with the same body.
 *
 * @example
 * ```ts
 * ctx.body = errorBody(result.error);
 * ```
 */
export function errorBody(error: VerifyError): { error: string; message: string } {
  return { error: error.error, message: error.message };
}

/** What `authenticate` accepts: a Fetch `Request`, or a Node-style `{ headers, url, method }`. */
export type RequestLike =
  | Request
  | {
      headers: Headers | Record<string, string | string[] | undefined>;
      /** Absolute, or a path (then origin checks of URL tokens cannot pass). */
      url?: string;
      method?: string;
    };

/** @internal Reads one header from a Fetch `Headers` or a Node headers object (case-insensitive). */
export function readHeader(headers: RequestLike['headers'], name: string): string | string[] | undefined {
  if (typeof (headers as Headers).get === 'function') {
    const v = (headers as Headers).get(name);
    return v === null ? undefined : v;
  }
  const h = headers as Record<string, string | string[] | undefined>;
  const lower = name.toLowerCase();
  if (lower in h) return h[lower];
  for (const k of Object.keys(h)) if (k.toLowerCase() === lower) return h[k];
  return undefined;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const VISIBLE = /^[\x21-\x7E]+$/;

/**
 * Extracts a bearer credential from an `Authorization` (or custom) header value, in one linear
 * pass (no backtracking pattern: header values are attacker-sized). Returns `undefined` when
 * none is offered (absent, empty, or another scheme such as Basic), `null` when one is offered
 * but malformed (→ `invalid_request`), else the credential. With `bare`, a custom header may
 * carry the token without the `Bearer ` scheme. Adapters use it so every framework reads a
 * header the same way.
 *
 * @example
 * ```ts
 * parseBearer('Bearer tka_abc', false); // 'tka_abc'
 * parseBearer('Basic dXNlcg==', false); // undefined
 * parseBearer('Bearer a, b', false); // null
 * ```
 */
export function parseBearer(value: string | string[] | undefined | null, bare: boolean): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.length === 1 ? parseBearer(value[0], bare) : null;
  const v = value.trim();
  if (v === '') return undefined;
  if (v.length >= 6 && v.slice(0, 6).toLowerCase() === 'bearer' && (v.length === 6 || v.charAt(6).trim() === '')) {
    const cred = v.slice(6).trim();
    // RFC 6750 b64token: one token, no spaces or commas (no second credential smuggled in).
    return cred !== '' && B64TOKEN.test(cred) ? cred : null;
  }
  if (!bare) return undefined;
  return VISIBLE.test(v) ? v : null;
}
