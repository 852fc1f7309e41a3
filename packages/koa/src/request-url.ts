import type { TokenContext } from './types';

/**
 * `host[:port]`: a DNS name or IPv4 address, or a bracketed IPv6 literal. Anything else in a Host
 * header (`/`, `?`, `#`, `@`, a space, `[bad`) would change where a URL parser puts the path and
 * the query, so the URL core compares would no longer be the URL the router routes.
 */
const HOST = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

/** `scheme://authority` at the start of an absolute-form request target (`GET http://a.test/x HTTP/1.1`). */
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\\]*/;

/**
 * The origin this server serves the request on: `ctx.protocol` + `://` + `ctx.host` (the `Host`
 * header, or `X-Forwarded-Proto` / `X-Forwarded-Host` when `app.proxy` is true), or `undefined`
 * when the protocol is not http(s) or the host is not a plain `host[:port]`. Never the authority
 * of an absolute-form request target, and never Koa 3's `ctx.origin` (the `Origin` request
 * header). `tokenAuth` verifies share links against this origin, so issue links with it (or with
 * your configured public URL) and the two always agree.
 *
 * @example
 * ```ts
 * router.post('/files/:name/share', async (ctx) => {
 *   const origin = requestOrigin(ctx) ?? ctx.throw(400, 'Bad Host header.');
 *   ctx.body = await tokens.issueUrl({ url: `${origin}/files/${encodeURIComponent(ctx.params.name)}` });
 * });
 * ```
 */
export function requestOrigin(ctx: Pick<TokenContext, 'protocol' | 'host'>): string | undefined {
  const { protocol, host } = ctx;
  return (protocol === 'http' || protocol === 'https') && HOST.test(host) ? `${protocol}://${host}` : undefined;
}

/**
 * @internal The URL a share link is verified against: the origin above plus the path and query
 * of the request target exactly as received (`ctx.originalUrl`, unchanged by a router prefix or
 * koa-mount). For an absolute-form target only its path and query are kept, sliced from the
 * string: never resolved, so a dot segment reaches core, which refuses it as the router would
 * not route it. `undefined` when the server cannot name its own origin (no Host header, or one
 * that is not a host): then no URL token is read from the request.
 */
export function requestUrl(ctx: Pick<TokenContext, 'protocol' | 'host' | 'originalUrl'>): string | undefined {
  const origin = requestOrigin(ctx);
  if (origin === undefined) return undefined;
  const target = ctx.originalUrl;
  const authority = AUTHORITY.exec(target);
  if (!authority) return target.startsWith('/') ? origin + target : target; // `*` or authority-form: core answers invalid_request
  const rest = target.slice(authority[0].length);
  return origin + (rest.startsWith('/') ? rest : `/${rest}`);
}
