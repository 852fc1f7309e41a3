// Next.js: app/api/github/secret-scanning/route.ts
import { createTokenAccess, memoryStore, secretScanningHandler } from '@tokenaccess/core';

const tokens = createTokenAccess({ store: memoryStore() }); // your app's token service (lib/tokens.ts)

export const runtime = 'nodejs';
export const POST = secretScanningHandler({ tokens, action: 'revoke' });
