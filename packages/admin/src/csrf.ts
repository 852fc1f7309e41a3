// CSRF tokens: stateless, HMAC-SHA256 over (operator id, nonce, time) under the handler's
// secret. A token rendered for one operator is refused for another, and after MAX_AGE. The
// nonce also names the form, so a form that must not be sent twice (one that shows a raw token)
// can be recognised when a reload sends it again (see spent.ts).

import { TokenAccessError } from '@tokenaccess/core';

/** How long a rendered form stays valid. */
export const CSRF_MAX_AGE_MS = 12 * 60 * 60 * 1000;

const encoder = new TextEncoder();

const b64url = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

function fromB64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** A checked CSRF token: the nonce of the form it came with. @internal */
export interface CsrfCheck {
  nonce: string;
}

/** @internal */
export interface Csrf {
  issue(identity: string): Promise<string>;
  /** The form's nonce when the token is ours, for this identity, and fresh; otherwise null. */
  check(token: string | null, identity: string): Promise<CsrfCheck | null>;
}

/** @internal */
export function createCsrf(secret: string | Uint8Array | undefined, now: () => number = Date.now): Csrf {
  let bytes: Uint8Array<ArrayBuffer>;
  if (secret === undefined) bytes = crypto.getRandomValues(new Uint8Array(32));
  else if (typeof secret === 'string') bytes = encoder.encode(secret);
  else if (secret instanceof Uint8Array) bytes = new Uint8Array(secret); // a copy: a caller's later change cannot alter the key
  else throw new TokenAccessError('invalid_argument', '[tokenaccess] [admin] secret must be a string or a Uint8Array');
  if (bytes.length < 32) throw new TokenAccessError('invalid_argument', '[tokenaccess] [admin] secret must be at least 32 bytes');
  const key = crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const message = (identity: string, nonce: string, issued: string) => encoder.encode(`tokenaccess-admin-csrf\0${identity}\0${nonce}\0${issued}`);

  return {
    async issue(identity) {
      const nonce = b64url(crypto.getRandomValues(new Uint8Array(16)));
      const issued = now().toString(36);
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await key, message(identity, nonce, issued)));
      return `${nonce}.${issued}.${b64url(mac)}`;
    },
    async check(token, identity) {
      if (typeof token !== 'string' || token.length > 200) return null;
      const [nonce, issued, mac, extra] = token.split('.');
      if (!nonce || !issued || !mac || extra !== undefined || !/^[0-9a-z]{1,12}$/.test(issued)) return null;
      const age = now() - parseInt(issued, 36);
      // a minute of clock skew between processes that share the secret
      if (!(age >= -60_000 && age <= CSRF_MAX_AGE_MS)) return null;
      const sig = fromB64url(mac);
      if (!sig) return null;
      // verify() compares in constant time
      const ok = await crypto.subtle.verify('HMAC', await key, sig, message(identity, nonce, issued));
      return ok ? { nonce } : null;
    },
  };
}
