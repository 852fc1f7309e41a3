// Legacy tokens (docs/concepts/legacy.md): tokens issued by Sanctum, Shield or Tiki keep working
// after their rows are imported, until they are retired with rotate(id).
import { type LegacyFormat, type TokenInfo, createTokenAccess, cryptoProvider, legacyFormats, memoryStore } from '@tokenaccess/core';

// Tiki's tokens are hex: 32 characters (MD5, older Tiki) or 64 (HMAC-SHA256). A strict format of
// your own costs no store call for anything else.
const tiki: LegacyFormat = { name: 'tiki', secret: (raw) => (/^(?:[0-9a-f]{32}|[0-9a-f]{64})$/.test(raw) ? raw : null) };

export async function main() {
  const store = memoryStore();
  const rejected: (string | undefined)[] = [];
  const tokens = createTokenAccess({
    store,
    // tried in order, only for tokens that are not of our own format
    legacy: [legacyFormats.sanctum, legacyFormats.shield, tiki],
    onRejected: (event) => void rejected.push(event.hint), // 'sanctum:7', never the secret
  });

  // What `tokenaccess import sanctum` writes for one personal_access_tokens row: Sanctum's own
  // hash (SHA-256 of the plaintext), id, owner, name, abilities as scopes, expiry.
  const plaintext = 'Zx8mQ2vR7tLk3pW9sN4bY6cH1dF5gJ0aE2uI8oKr';
  const imported: TokenInfo = {
    id: 'sanctum-7',
    kind: 'access',
    subject: '42',
    name: 'deploy script',
    scopes: ['servers:read'],
    uses: 0,
    createdAt: new Date('2025-06-01T00:00:00Z'),
    hint: 'sanctum:7',
    hash: await cryptoProvider.sha256Hex(plaintext),
  };
  await store.insert(imported);

  // the holder still sends what Sanctum gave them: `<id>|<plaintext>`
  const legacy = await tokens.verify(`7|${plaintext}`, { scopes: ['servers:read'] });

  // garbage matches no format: refused as malformed without a store call
  const garbage = await tokens.verify('not|a token');

  // retire it: a token of our format with the same owner, name and scopes; the old one keeps
  // working for the grace period, then is refused as expired
  const { token: replacement } = await tokens.rotate('sanctum-7', { grace: '7d' });
  const fresh = await tokens.verify(replacement, { scopes: ['servers:read'] });

  await tokens.verify('8|unknownunknownunknownunknownunknown00000');
  return {
    legacy: legacy.ok ? legacy.token.id : legacy.error.code,
    garbage: garbage.ok ? 'ok' : garbage.error.code,
    fresh: fresh.ok,
    stillInGrace: (await tokens.verify(`7|${plaintext}`)).ok,
    hints: rejected,
  };
}
