// Everything public except `createTokenAccess`, which each entry binds to its crypto provider.
export { TokenAccessError, DuplicateTokenError, type TokenAccessErrorCode } from './errors';
export type { TokenKind, JsonValue, Duration, UrlBinding, TokenInfo, VerifyErrorCode, VerifyError, VerifyResult, ScopeMode } from './types';
export {
  type TokenStore,
  type ConsumePolicy,
  type ConsumeResult,
  type ConsumeRefusal,
  type ListQuery,
  type ListPage,
  type SweepOptions,
  evaluateConsume,
  deadReason,
  deadAt,
  bindingMatches,
  satisfiesScopes,
} from './store';
export { can, cant, hasScopes, validateScopes, expandScope } from './scopes';
export { canonicalizeUrl, appendTokenParam, type CanonicalUrl } from './url';
export { generateToken, isWellFormed, newId } from './token';
export { parseDuration } from './duration';
export { withTimeout } from './timeout';
export { verifyError, toResponse, errorBody, parseBearer, type RequestLike } from './http';
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
} from './options';
