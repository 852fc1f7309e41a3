// The application API, except `createTokenAccess`, which each entry binds to its crypto provider.
// What only store authors need lives in the store kit, `@tokenaccess/core/store` (store-kit.ts).
export { TokenAccessError, type TokenAccessErrorCode } from './errors';
export type { TokenKind, JsonValue, Duration, UrlBinding, TokenInfo, VerifyErrorCode, VerifyError, VerifyResult, ScopeMode } from './types';
export type { TokenStore, ListPage, SweepOptions } from './store';
export { can, cant, hasScopes, validateScopes } from './scopes';
export { canonicalizeUrl, appendTokenParam, type CanonicalUrl } from './url';
export { generateToken, isWellFormed, newId } from './token';
export { parseDuration } from './duration';
export { rateLimitBounds } from './validate';
export { verifyError, toResponse, errorBody, parseBearer, rateLimitHeaders, type RateState, type RequestLike } from './http';
export { webCryptoProvider, type CryptoProvider, type Pepper } from './hash';
export { memoryStore, type MemoryStoreOptions } from './memory';
export type { TokenAccess } from './access';
export type {
  TokenAccessOptions,
  IssueOptions,
  IssueUrlOptions,
  CheckOptions,
  VerifyUrlOptions,
  AuthenticateOptions,
  ListOptions,
  RejectionEvent,
  UpdateOptions,
  RotateOptions,
  DeriveOptions,
  CacheOptions,
  RateLimitOption,
} from './options';
export { memoryInvalidation, invalidationKey, encodeKeys, decodeKeys, type Invalidation, type FeedState } from './invalidation';
export { legacyFormats, MAX_LEGACY_LENGTH, type LegacyFormat } from './legacy';
export {
  secretScanningHandler,
  githubPublicKeys,
  secretScanningPattern,
  derToRawSignature,
  type SecretScanningOptions,
  type GitHubPublicKey,
  type GitHubPublicKeysOptions,
  type LeakEvent,
  type SecretScanningRefusal,
} from './secret-scanning';
export { readCookie, DEFAULT_COOKIE, type ExchangeOptions, type ExchangeResult } from './session';
