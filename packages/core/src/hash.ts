import { invalid } from './errors';

/**
 * The hashing primitives core needs. Two implementations ship: Web Crypto (any runtime, the
 * default export) and `node:crypto` (picked by the `node` export condition; ~300× faster
 * sequentially because it is synchronous and one-shot). Both produce identical hex.
 */
export interface CryptoProvider {
  readonly name: string;
  sha256Hex(data: string): string | Promise<string>;
  hmacSha256Hex(key: string, data: string): string | Promise<string>;
}

const enc = new TextEncoder();
const hex = (buf: ArrayBuffer) => {
  const b = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
};

/**
 * The Web Crypto provider (`crypto.subtle`), for edge runtimes without `node:crypto`.
 *
 * @example
 * ```ts
 * await webCryptoProvider.sha256Hex('abc'); // 'ba7816bf…'
 * ```
 */
export const webCryptoProvider: CryptoProvider = (() => {
  const keys = new Map<string, Promise<CryptoKey>>();
  const keyFor = (secret: string) => {
    let k = keys.get(secret);
    if (!k) {
      k = globalThis.crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      keys.set(secret, k);
    }
    return k;
  };
  return {
    name: 'webcrypto',
    async sha256Hex(data) {
      return hex(await globalThis.crypto.subtle.digest('SHA-256', enc.encode(data)));
    },
    async hmacSha256Hex(key, data) {
      return hex(await globalThis.crypto.subtle.sign('HMAC', await keyFor(key), enc.encode(data)));
    },
  };
})();

/**
 * A pepper: one secret, or several under key ids so the current one can be rotated. Tokens
 * hashed under an older key still verify while that key stays in `keys`.
 */
export type Pepper = string | { current: string; keys: Record<string, string> };

/** @internal How core hashes raw tokens: the hash to store, and the hashes to look up. */
export interface TokenHasher {
  /** The hash a new token is stored under. */
  issue(raw: string): string | Promise<string>;
  /** Hashes to try at verification, current key first. Length 1 without rotation. */
  lookups: ((raw: string) => string | Promise<string>)[];
}

const KEY_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** @internal */
export function createHasher(provider: CryptoProvider, pepper: Pepper | undefined): TokenHasher {
  if (pepper === undefined) {
    const f = (raw: string) => provider.sha256Hex(raw);
    return { issue: f, lookups: [f] };
  }
  const { current, keys } = typeof pepper === 'string' ? { current: 'k1', keys: { k1: pepper } } : pepper;
  if (!keys || typeof keys !== 'object' || !(current in keys)) throw invalid(`pepper.current (${JSON.stringify(current)}) must name a key in pepper.keys`);
  const fns = new Map<string, (raw: string) => string | Promise<string>>();
  for (const [id, secret] of Object.entries(keys)) {
    if (!KEY_ID_RE.test(id)) throw invalid(`pepper key id ${JSON.stringify(id)} must match ${KEY_ID_RE}`);
    if (typeof secret !== 'string' || secret.length < 16) throw invalid(`pepper key ${JSON.stringify(id)} must be a string of at least 16 characters (32 random bytes recommended)`);
    fns.set(id, (raw) => {
      const h = provider.hmacSha256Hex(secret, raw);
      return typeof h === 'string' ? `${id}:${h}` : h.then((v) => `${id}:${v}`);
    });
  }
  const first = fns.get(current)!;
  return { issue: first, lookups: [first, ...[...fns].filter(([id]) => id !== current).map(([, f]) => f)] };
}
