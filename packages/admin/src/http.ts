// What every response of the page carries, and how requests are read: one place for the
// security headers, the same-origin rule and the form body limits.

import type { SafeHtml } from './html';

/**
 * Nothing loads from outside the app; the page's own CSS and script are files it serves
 * (`'self'`), so no inline script or style is needed and none is allowed.
 */
export const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "script-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Adds the security headers (and `Cache-Control: no-store` unless `cache` says otherwise). @internal */
export function secure(headers: Headers, cache = 'no-store'): Headers {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  if (!headers.has('cache-control')) headers.set('cache-control', cache);
  return headers;
}

/** An HTML page response. @internal */
export function page(body: SafeHtml, status = 200, extra: Record<string, string> = {}): Response {
  const headers = secure(new Headers({ 'content-type': 'text/html; charset=utf-8', ...extra }));
  return new Response(body.value, { status, headers });
}

/** A 303 See Other (the answer to a POST that changed something; a reload then GETs). @internal */
export function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: secure(new Headers({ location })) });
}

/** The app's own answer from `authorize`, with the page's security headers added. @internal */
export function hardened(response: Response): Response {
  const headers = secure(new Headers(response.headers));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Whether a state-changing request comes from the page itself. A browser that sends
 * `Sec-Fetch-Site` says so directly (only `same-origin` passes: a sibling subdomain or another
 * port is another origin); otherwise `Origin` must be one of `origins`. A request with neither
 * is refused: every current browser sends one of them with a POST. @internal
 */
export function sameOrigin(request: Request, origins: string[] | undefined): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin';
  const origin = request.headers.get('origin');
  if (origin === null || origin === 'null') return false;
  return (origins ?? [new URL(request.url).origin]).includes(origin);
}

/** The largest form body read; the forms are a few hundred bytes. @internal */
export const MAX_FORM_BYTES = 64 * 1024;

/** Why a body was not read as a form. @internal */
export type FormRefusal = 'too_large' | 'not_a_form';

/** Reads an `application/x-www-form-urlencoded` body of at most {@link MAX_FORM_BYTES}. @internal */
export async function readForm(request: Request): Promise<URLSearchParams | FormRefusal> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return 'not_a_form';
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > MAX_FORM_BYTES) return 'too_large';
  if (!request.body) return new URLSearchParams();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_FORM_BYTES) {
      await reader.cancel().catch(() => undefined);
      return 'too_large';
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new URLSearchParams(new TextDecoder().decode(bytes));
}
