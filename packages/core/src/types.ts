/**
 * The kinds of token: API (`access`) tokens, URL-bound share (`url`) tokens, and the short
 * `session` a share link is exchanged for (`exchange`), accepted only from its cookie.
 */
export type TokenKind = 'access' | 'url' | 'session';

/** A JSON value, as `metadata` may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A duration: milliseconds, or a string such as `'500ms'`, `'45s'`, `'30m'`, `'12h'`, `'90d'`, `'2w'`.
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd' | 'w'}`;

/**
 * What a URL token is bound to. `canonical` is what matching compares (path plus the query as a
 * sorted multiset of decoded pairs, token parameter and ignored parameters excluded); `url` is
 * the URL as it was issued, for display.
 */
export interface UrlBinding {
  /** The URL as given to `issueUrl` (token parameter not included). */
  url: string;
  /** `scheme://host[:port]` when the bound URL was absolute. */
  origin?: string;
  /** The canonical path and query that a request must equal. */
  canonical: string;
  /** Upper-case HTTP methods the link may be opened with. */
  methods: string[];
}

/**
 * A token as stored and as every read returns it. Never holds the raw token.
 */
export interface TokenInfo {
  /** Public id: safe to show, list, log and revoke by. Sorts in creation order. */
  id: string;
  kind: TokenKind;
  /** The owner (user id). Optional for URL tokens. */
  subject?: string;
  name: string;
  scopes: string[];
  /** The binding of a URL token. */
  url?: UrlBinding;
  expiresAt?: Date;
  /** Idle timeout in milliseconds, counted from the last use or, if never used, from creation. */
  idleTimeout?: number;
  /** Use limit; absent means unlimited. */
  maxUses?: number;
  /** Uses counted so far. Only tokens with a use limit are counted (so verifying unlimited tokens writes nothing). */
  uses: number;
  createdAt: Date;
  /** Last use, written at most once per `lastUsedResolution`. */
  lastUsedAt?: Date;
  metadata?: Record<string, JsonValue>;
  /** The token this one was derived from (a child never outlives or out-scopes it). Set at insert, never changed. */
  parentId?: string;
  /** Set while the token is disabled (`disable(id)`): refused as `disabled`, spends nothing. */
  disabledAt?: Date;
  /**
   * The use budget renews every `every` ms (periods counted from `createdAt`); needs `maxUses`.
   * `uses` then counts the period that holds `lastUsedAt` (every counted use of such a token
   * sets `lastUsedAt`), and a use in a later period starts again from 0.
   */
  refill?: { every: number };
  /**
   * At most `limit` verifications per `window` ms (fixed windows counted from `createdAt`); more
   * are refused as `rate_limited` (429) without spending a use. Exact across processes: counted
   * in the store's atomic step. See docs/rate-limits.md.
   */
  rateLimit?: { limit: number; window: number };
  /**
   * Verifications counted in the rate window that holds `lastUsedAt` (every counted verification
   * of a rate-limited token sets `lastUsedAt`). Absent until the first one.
   */
  rateCount?: number;
  /** Prefix and the first 4 random characters, for UIs: `tka_Ab3x`. */
  hint: string;
  /** The stored hash (SHA-256 hex, or `<keyId>:<HMAC hex>` with a pepper). Not a credential. */
  hash: string;
}

/** Machine-readable reasons a verification failed. */
export type VerifyErrorCode =
  | 'missing'
  | 'invalid_request'
  | 'malformed'
  | 'not_found'
  | 'expired'
  | 'exhausted'
  | 'url_mismatch'
  | 'insufficient_scope'
  | 'disabled'
  | 'rate_limited'
  | 'unavailable';

/**
 * A failed verification, ready to become an HTTP response (see `toResponse`). `message` is the
 * generic text a client may see; the precise reason goes only to the `onRejected` hook.
 */
export interface VerifyError {
  code: VerifyErrorCode;
  /** HTTP status: 400, 401, 403, 429 or 503. */
  status: 400 | 401 | 403 | 429 | 503;
  /** The RFC 6750 / 6749 error code for the response body (`rate_limited` for a 429). */
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unauthorized' | 'rate_limited' | 'temporarily_unavailable';
  message: string;
  /** The `WWW-Authenticate` header value, where the response needs one. */
  wwwAuthenticate?: string;
  /** The scopes that were required, for `insufficient_scope`. */
  scopes?: string[];
  /** Seconds until a retry can succeed, for `rate_limited` (also in `headers`). */
  retryAfter?: number;
  /**
   * Extra response headers every adapter sends with this error: for `rate_limited`,
   * `Retry-After`, `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
   */
  headers?: Record<string, string>;
}

/** The result of `verify`, `verifyUrl` and `authenticate`. */
export type VerifyResult =
  | {
      ok: true;
      token: TokenInfo;
      /** For a rate-limited token: the `RateLimit` and `RateLimit-Policy` headers to send with the response. */
      headers?: Record<string, string>;
    }
  | { ok: false; error: VerifyError };

/** How several scopes combine: all of them, or any one. */
export type ScopeMode = 'all' | 'any';
