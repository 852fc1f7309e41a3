// Building requests for the handler called directly (no server): what a browser would send.
import { OPS, basic } from '../examples/authorize';

export const ORIGIN = 'https://app.test';
export const AUTH = { authorization: basic(OPS.username, OPS.password) };

export type Handler = (request: Request) => Promise<Response>;

export const get = (h: Handler, path: string, headers: Record<string, string> = AUTH) => h(new Request(`${ORIGIN}${path}`, { headers }));

/** The CSRF token of the first form on a page. */
export async function csrfOf(h: Handler, path = '/admin/new/token', headers: Record<string, string> = AUTH): Promise<string> {
  const body = await (await get(h, path, headers)).text();
  const m = /name="csrf" value="([^"]+)"/.exec(body);
  if (!m) throw new Error(`no csrf field on ${path}`);
  return m[1]!;
}

/** A form POST as a browser on the page sends it (same-origin, urlencoded). */
export function post(h: Handler, path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  return h(
    new Request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'sec-fetch-site': 'same-origin', ...headers },
      body,
    }),
  );
}

/** The value of a read-only field of the one-time page. */
export const shown = (body: string, id: string) => new RegExp(`id="${id}" type="text" readonly value="([^"]+)"`).exec(body)?.[1];

export const SECURITY = {
  'content-security-policy': "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export const securityHeaders = (r: Response) => Object.fromEntries(Object.keys(SECURITY).map((k) => [k, r.headers.get(k)]));
