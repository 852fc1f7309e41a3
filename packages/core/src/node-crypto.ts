import * as nodeCrypto from 'node:crypto';
import type { CryptoProvider } from './hash';

type OneShot = (algorithm: string, data: string, encoding: 'hex') => string;
// crypto.hash (Node ≥ 20.12 / 21.7) is one-shot and skips the Hash object; createHash is the fallback.
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

/**
 * The `node:crypto` provider: synchronous SHA-256 and HMAC-SHA256.
 *
 * @example
 * ```ts
 * nodeCryptoProvider.sha256Hex('abc'); // 'ba7816bf…'
 * ```
 */
export const nodeCryptoProvider: CryptoProvider = {
  name: 'node:crypto',
  sha256Hex: oneShot
    ? (data) => oneShot('sha256', data, 'hex')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest('hex'),
  hmacSha256Hex: (key, data) => nodeCrypto.createHmac('sha256', key).update(data).digest('hex'),
};
