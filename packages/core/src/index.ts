/**
 * @module @tokenaccess/core
 *
 * Access tokens for APIs (hashed Bearer tokens with scopes) and URL-bound share links, on one
 * storage contract. `npm install @tokenaccess/core`
 *
 * This is the portable entry (Web Crypto); on Node the `node` export condition selects an
 * identical entry that hashes with `node:crypto`.
 */
import { type TokenAccess, createTokenAccessWith } from './access';
import { webCryptoProvider } from './hash';
import type { TokenAccessOptions } from './options';

export * from './api';

/**
 * Creates the token service on a store.
 *
 * @example
 * ```ts
 * import { createTokenAccess, memoryStore } from '@tokenaccess/core';
 *
 * const tokens = createTokenAccess({ store: memoryStore() });
 * const { token } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['users:read'] });
 * const r = await tokens.verify(token, { scopes: ['users:read'] });
 * ```
 */
export function createTokenAccess(options: TokenAccessOptions): TokenAccess {
  return createTokenAccessWith(webCryptoProvider, options);
}

/**
 * Which hashing implementation this entry uses: `'webcrypto'` here, `'node:crypto'` on Node.
 *
 * @example
 * ```ts
 * console.log(cryptoProvider.name); // 'node:crypto' on Node
 * ```
 */
export const cryptoProvider = webCryptoProvider;
