// Forms that show a raw token (create, share, rotate) are one-time: once such a form has been
// answered, the browser holds its nonce in a cookie, and the same form sent again (a reload,
// which re-POSTs, or Back and resubmit) is answered with a redirect instead of a second token.
// A cookie, not server memory, so it works the same on every process and on serverless
// functions. It guards against duplicates, not attacks: CSRF is the origin check and the token.

import { CSRF_MAX_AGE_MS } from './csrf';

const COOKIE = 'tka_admin_spent';
const KEEP = 20;

/** The nonces of the one-time forms this browser has already had answered. @internal */
export function spentNonces(request: Request): string[] {
  const header = request.headers.get('cookie') ?? '';
  for (const part of header.split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === COOKIE && value) return value.split('.').filter((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n));
  }
  return [];
}

/** The `Set-Cookie` value that adds `nonce` to the spent list. @internal */
export function spendCookie(request: Request, nonce: string, path: string): string {
  const list = [...spentNonces(request).filter((n) => n !== nonce), nonce].slice(-KEEP);
  const secure = new URL(request.url).protocol === 'https:' ? '; Secure' : '';
  return `${COOKIE}=${list.join('.')}; Path=${path}; Max-Age=${Math.ceil(CSRF_MAX_AGE_MS / 1000)}; HttpOnly; SameSite=Strict${secure}`;
}
