import type { Pepper } from './hash';
import type { Invalidation } from './invalidation';
import type { LegacyFormat } from './legacy';
import type { TokenStore } from './store';
import type { Duration, JsonValue, ScopeMode, TokenInfo, VerifyErrorCode } from './types';

/** What `onRejected` receives: the precise reason, for logs. Never the raw token. */
export interface RejectionEvent {
  code: VerifyErrorCode;
  status: number;
  /** A precise, log-only explanation, e.g. `expired at 2026-01-01T00:00:00.000Z`. */
  reason: string;
  /** Present once the token was found. */
  tokenId?: string;
  subject?: string;
  /** `prefix_abcd` of a well-formed presented token. */
  hint?: string;
  /** The store error behind `unavailable`. */
  cause?: unknown;
}

/** Options of {@link createTokenAccess}. */
export interface TokenAccessOptions {
  /** Where tokens live: `memoryStore()`, `redisStore(…)`, `postgresStore(…)`, `mongoStore(…)`. */
  store: TokenStore;
  /** Token prefix, 1-16 lower-case letters/digits. @default 'tka' */
  prefix?: string;
  /**
   * With a pepper, tokens are stored as HMAC-SHA256 under a key id instead of plain SHA-256, so a
   * stolen database alone cannot confirm guesses. Rotate by adding a key and moving `current`.
   */
  pepper?: Pepper;
  /**
   * Formats of tokens issued by other systems (`legacyFormats.sanctum`, `.shield`, `.sha256`, or
   * your own), verified by the hash that system stored. A token that is not of our format is
   * tried against each, in order, one store round trip per format that takes it; input no format
   * takes is `malformed` without a store call. Legacy hashes are plain SHA-256 (or the format's
   * own `hash`) even with a `pepper`: that is how the source system stored them.
   * @default [] (only our own format)
   */
  legacy?: LegacyFormat[];
  defaults?: {
    /** Access tokens: `expiresIn` @default null (never), `idleTimeout` @default null (none), `rateLimit` @default null (none). */
    access?: { expiresIn?: Duration | null; idleTimeout?: Duration | null; rateLimit?: RateLimitOption | null };
    /**
     * URL tokens: `expiresIn` @default '7d', `maxUses` @default 1 (a positive integer or null),
     * `methods` @default ['GET'] (HEAD is opt-in: link previews send it and would spend a
     * one-time link), `rateLimit` @default null (none).
     */
    url?: { expiresIn?: Duration | null; maxUses?: number | null; methods?: string[]; rateLimit?: RateLimitOption | null };
  };
  /** `lastUsedAt` is written at most once per this interval per token. @default '60s' */
  lastUsedResolution?: Duration | 0;
  /** Default idle timeout of access tokens (same as `defaults.access.idleTimeout`). */
  idleTimeout?: Duration | null;
  /** Query parameter that carries a URL token. `'TOKEN'` gives Tiki's form. @default 'token' */
  urlParam?: string;
  /** Query parameters that never take part in URL matching (e.g. `utm_source`); never the token parameter. @default [] */
  ignoreParams?: string[];
  /** Also require the request's origin to equal an absolute binding's origin. @default false */
  checkOrigin?: boolean;
  /** `realm` of `WWW-Authenticate`: 1-200 printable ASCII characters without `"` or `\`. @default 'api' */
  realm?: string;
  /** Longest a verification waits for the store before answering `unavailable` (fail closed). @default '2s' */
  timeout?: Duration;
  /** Current time. @default () => new Date() */
  clock?: () => Date | number;
  onIssued?: (token: TokenInfo) => void | Promise<void>;
  onVerified?: (token: TokenInfo) => void | Promise<void>;
  onRejected?: (event: RejectionEvent) => void | Promise<void>;
  onRevoked?: (tokens: TokenInfo[] | { subject: string; count: number }) => void | Promise<void>;
  /** After `update`, `disable`, `enable` (and cascades to derived tokens): the new record. */
  onUpdated?: (token: TokenInfo) => void | Promise<void>;
  /** After `rotate`: the new token's record and the old one's (now expiring at the end of the grace). */
  onRotated?: (event: { info: TokenInfo; previous: TokenInfo }) => void | Promise<void>;
  /** Where errors thrown by hooks go (they never break a verification). @default console.error */
  onHookError?: (error: unknown, hook: string) => void;
  /**
   * Serve verified records of uncounted tokens (no `maxUses`, not disabled) from an in-process
   * cache, so their verify asks no store; counted tokens always go to the store. See
   * {@link CacheOptions} and docs/caching.md. @default none (every verify asks the store)
   */
  cache?: CacheOptions;
}

/**
 * The verify cache (`createTokenAccess({ cache })`): records of tokens that need no counting,
 * keyed by their stored hash, checked by every rule a store applies (expiry, binding, scopes).
 *
 * Staleness: a process serves a revoked or changed token from its cache for at most `ttl` after
 * the change whatever happens to the feed, and only until the feed's message arrives while it is
 * up; while it is down, entries live at most `downTtl`.
 *
 * @example
 * ```ts
 * createTokenAccess({ store, cache: { ttl: '30s', max: 10_000, invalidation: redisInvalidation({ client }) } });
 * ```
 */
export interface CacheOptions {
  /** How long a verified record is served without asking the store. @default '30s' */
  ttl?: Duration;
  /** Records kept (least recently used forgotten first). `0` caches nothing but still publishes changes. @default 10000 */
  max?: number;
  /** How long "no such token" is remembered for a well-formed token of our format; `0` turns it off. @default '5s' */
  negativeTtl?: Duration | 0;
  /** Unknown tokens remembered (bounded apart from `max`, so a flood of garbage cannot push out real records). @default 10000 */
  negativeMax?: number;
  /**
   * The change feed every process shares (`redisInvalidation`, `postgresInvalidation`,
   * `mongoInvalidation`). Without one, only this process's own changes drop entries, and another
   * process's revoke takes up to `ttl` to be seen here.
   */
  invalidation?: Invalidation;
  /** While the feed is down (and before it first comes up), entries live at most this long. @default '1s' */
  downTtl?: Duration | 0;
}

/**
 * A per-token rate limit: at most `limit` verifications per `window` (fixed windows counted from
 * the token's creation; `window` in whole seconds, 1 s to 366 d). Exact across processes on
 * every store; more are refused as `rate_limited` (429, `Retry-After`, `RateLimit` headers)
 * without spending a use. See docs/rate-limits.md.
 *
 * @example
 * ```ts
 * await tokens.issue({ subject: 'u1', name: 'ci', rateLimit: { limit: 5000, window: '1h' } });
 * ```
 */
export interface RateLimitOption {
  limit: number;
  window: Duration;
}

/** Options of `issue`. */
export interface IssueOptions {
  /** The owner (user id). */
  subject: string;
  /** A label for humans, e.g. the device: `"John's MacBook Air"`. */
  name: string;
  /** @default ['*'] (all scopes) */
  scopes?: string[];
  /** Relative expiry; `null` never expires. @default defaults.access.expiresIn */
  expiresIn?: Duration | null;
  /** Absolute expiry (instead of `expiresIn`). */
  expiresAt?: Date;
  idleTimeout?: Duration | null;
  /** Use limit; `null` or absent is unlimited. */
  maxUses?: number | null;
  /** Renew the `maxUses` budget every period (counted from creation). Needs `maxUses`. */
  refill?: { every: Duration };
  /** At most `limit` verifications per `window`; `null` opts out of the default. @default defaults.access.rateLimit */
  rateLimit?: RateLimitOption | null;
  metadata?: Record<string, JsonValue>;
}

/** Options of `issueUrl`. */
export interface IssueUrlOptions {
  /** The exact URL the token opens: absolute (`https://…`) or a path (`/files?id=7`). */
  url: string;
  /**
   * Scopes (Tiki's groups) the link grants beyond opening its URL.
   * @default [] (least privilege: the link opens its one URL and grants nothing else)
   */
  scopes?: string[];
  /** @default defaults.url.expiresIn ('7d'); `null` never expires */
  expiresIn?: Duration | null;
  expiresAt?: Date;
  /** @default defaults.url.maxUses (1, a one-time link); `null` is unlimited */
  maxUses?: number | null;
  /** @default defaults.url.methods (['GET']) */
  methods?: string[];
  subject?: string;
  /** @default 'share link' */
  name?: string;
  idleTimeout?: Duration | null;
  /** Renew the `maxUses` budget every period (counted from creation). Needs `maxUses`. */
  refill?: { every: Duration };
  /** At most `limit` opens per `window`; `null` opts out of the default. @default defaults.url.rateLimit */
  rateLimit?: RateLimitOption | null;
  metadata?: Record<string, JsonValue>;
}

/**
 * A change to a token (`update(id, patch)`): each field optional; absent keeps, `null` clears.
 * Validated by the same rules as `issue`. The raw token and its hash never change.
 */
export interface UpdateOptions {
  name?: string;
  scopes?: string[];
  /** A future Date, or `null` for no expiry (instead of `expiresIn`). */
  expiresAt?: Date | null;
  /** Expire this long from now; `null` for no expiry. */
  expiresIn?: Duration | null;
  idleTimeout?: Duration | null;
  maxUses?: number | null;
  metadata?: Record<string, JsonValue> | null;
  /** `{ every }` renews the `maxUses` budget each period; `null` stops it. */
  refill?: { every: Duration } | null;
  /** A new rate limit (the count of the current window is kept); `null` removes it. */
  rateLimit?: RateLimitOption | null;
}

/** Options of `rotate`. */
export interface RotateOptions {
  /** How long the old token keeps working. @default 0 (refused at once, as `expired`) */
  grace?: Duration;
}

/** Options of `derive`: an attenuated child of a token. */
export interface DeriveOptions {
  /** Must be covered by the parent's scopes (wildcard-aware). @default the parent's scopes */
  scopes?: string[];
  /** Clamped to the parent's expiry. @default the parent's expiry */
  expiresIn?: Duration | null;
  expiresAt?: Date;
  maxUses?: number | null;
  /** @default `<parent name> (derived)` */
  name?: string;
  idleTimeout?: Duration | null;
  /** The child's own rate limit (its own count); `null` for none. @default the parent's rateLimit */
  rateLimit?: RateLimitOption | null;
  metadata?: Record<string, JsonValue>;
}

/** Scope requirement of a verification. */
export interface CheckOptions {
  scopes?: string[];
  /** @default 'all' */
  mode?: ScopeMode;
  /**
   * `false` checks without counting: every rule applies (disabled, expiry, limits, binding,
   * scopes) but no use is spent and nothing is written (one plain read). For a gate in front of
   * the handler that verifies again, such as Next's `proxy.ts`. @default true
   */
  count?: boolean;
}

/** Options of `verifyUrl`. */
export interface VerifyUrlOptions extends CheckOptions {
  /** @default 'GET' */
  method?: string;
}

/** Options of `authenticate`. */
export interface AuthenticateOptions extends CheckOptions {
  /** Header carrying the token (Shield's `authenticatorHeader`); `Bearer ` is optional in a custom header. @default 'authorization' */
  header?: string;
  /** Replaces extraction entirely: return the raw token, or null/undefined for none. */
  getToken?: (request: import('./http').RequestLike) => string | null | undefined | Promise<string | null | undefined>;
  /** Accept a URL token in the request's query (verified against the request URL and method). @default true */
  urlTokens?: boolean;
  /**
   * Also accept a share-link session (see `exchange`) from the cookie of this name. A session is
   * accepted only from it, and only under its path; a cookie together with another credential is
   * `invalid_request`.
   */
  cookie?: string;
}

/** Options of `list`. */
export interface ListOptions {
  subject?: string;
  kind?: import('./types').TokenKind;
  /** Only tokens derived from this one. */
  parentId?: string;
  /** Only tokens that expire before this date ("expiring soon"; expired ones are included until swept). */
  expiringBefore?: Date;
  /** @default 100 (1 to 1000) */
  limit?: number;
  cursor?: string;
}
