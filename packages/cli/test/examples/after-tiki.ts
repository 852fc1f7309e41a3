// docs/migrating/tiki.md: the app after `tokenaccess import tiki` (import.test.ts runs it on every store).
import { type TokenStore, createTokenAccess, legacyFormats } from '@tokenaccess/core';

/** The links Tiki already sent (`…&TOKEN=…`) keep opening, with the hits they have left. */
export function afterTiki(store: TokenStore) {
  return createTokenAccess({ store, urlParam: 'TOKEN', legacy: [legacyFormats.sha256] });
}
