/**
 * @module @tokenaccess/core (Node entry)
 *
 * Selected by the `node` export condition: the same API as the portable entry, hashing with
 * `node:crypto` (synchronous, one-shot `crypto.hash` where present).
 */
import { type TokenAccess, createTokenAccessWith } from './access';
import { nodeCryptoProvider } from './node-crypto';
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
  return createTokenAccessWith(nodeCryptoProvider, options);
}

/**
 * Which hashing implementation this entry uses: `'webcrypto'` here, `'node:crypto'` on Node.
 *
 * @example
 * ```ts
 * console.log(cryptoProvider.name); // 'node:crypto' on Node
 * ```
 */
export const cryptoProvider = nodeCryptoProvider;
