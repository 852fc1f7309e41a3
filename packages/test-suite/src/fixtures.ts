import { type ConsumePolicy, type TokenInfo, expandScope } from '@tokenaccess/core/store';
import { newId } from '@tokenaccess/core';

const hex = (n: number) => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A random subject, so tests never see each other's tokens even on a shared store.
 *
 * @example
 * ```ts
 * const subject = randomSubject(); // 'sub-3fa9c1e07b22'
 * ```
 */
export const randomSubject = () => `sub-${hex(6)}`;

/** An hour, in ms. Times in the suite are offsets from the real clock (see `at`). */
export const HOUR = 3_600_000;

/**
 * The real time, rounded to the ms. Records are created relative to it and `consume` is asked
 * about later instants, so stores whose server also expires keys (Redis PEXPIREAT, MongoDB TTL)
 * keep them long enough to answer precisely.
 *
 * @example
 * ```ts
 * await store.consume(r.hash, at(2 * HOUR), plain()); // two hours from now
 * ```
 */
export const at = (offset = 0) => new Date(Math.floor(Date.now()) + offset);

/**
 * A valid access-token record with random hash, id and subject; override any field.
 *
 * @example
 * ```ts
 * await store.insert(record({ maxUses: 3 }));
 * ```
 */
export function record(overrides: Partial<TokenInfo> = {}): TokenInfo {
  const createdAt = overrides.createdAt ?? at();
  return {
    id: newId(createdAt.getTime()),
    kind: 'access',
    subject: randomSubject(),
    name: 'test token',
    scopes: ['*'],
    uses: 0,
    createdAt,
    hint: 'tka_test',
    hash: hex(32),
    ...overrides,
  };
}

/**
 * A URL-token record bound to `canonical` (GET and HEAD).
 *
 * @example
 * ```ts
 * await store.insert(urlRecord('/files?id=7', { maxUses: 1 }));
 * ```
 */
export function urlRecord(canonical = '/files?id=7', overrides: Partial<TokenInfo> = {}): TokenInfo {
  const r = record({ kind: 'url', ...overrides });
  delete r.subject;
  if (overrides.subject !== undefined) r.subject = overrides.subject;
  return { ...r, url: { url: `https://example.com${canonical}`, origin: 'https://example.com', canonical, methods: ['GET', 'HEAD'] }, ...overrides };
}

/**
 * The policy `verify` builds with no scope requirement: a minute of last-used resolution.
 *
 * @example
 * ```ts
 * await store.consume(hash, at(), plain({ lastUsedResolution: 0 }));
 * ```
 */
export const plain = (overrides: Partial<ConsumePolicy> = {}): ConsumePolicy => ({ lastUsedResolution: 60_000, ...overrides });

/** Scope requirement as core builds it (with core's `expandScope`, the one definition of wildcards). */
export function scopes(mode: 'all' | 'any', ...required: string[]): ConsumePolicy['scopes'] {
  return { mode, anyOf: required.map(expandScope) };
}
