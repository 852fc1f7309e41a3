// docs/migrating/shield.md: the app after `tokenaccess import shield` (import.test.ts runs it on every store).
import { type TokenStore, createTokenAccess, legacyFormats } from '@tokenaccess/core';

/** Shield's 64-hex raw tokens keep working next to new ones. */
export function afterShield(store: TokenStore) {
  return createTokenAccess({ store, legacy: [legacyFormats.shield] });
}
