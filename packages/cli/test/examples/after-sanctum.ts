// docs/migrating/sanctum.md: the app after `tokenaccess import sanctum` (import.test.ts runs it on every store).
import { type TokenStore, createTokenAccess, legacyFormats } from '@tokenaccess/core';

/** Sanctum's `<id>|<plaintext>` tokens keep working next to new ones. */
export function afterSanctum(store: TokenStore) {
  return createTokenAccess({ store, legacy: [legacyFormats.sanctum] });
}
