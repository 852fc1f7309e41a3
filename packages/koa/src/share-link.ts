import { type TokenAccess, TokenAccessError, canonicalizeUrl, toResponse, validateScopes, verifyError } from '@tokenaccess/core';
import type { Middleware } from 'koa';
import { requestUrl } from './request-url';
import type { TokenContext } from './types';

const msg = (text: string) => `[tokenaccess] [koa] ${text}`;

/** Options of {@link shareLink}: core's `exchange` options (`session` (`ttl`, `path`), `confirm`, `cookie`, `scopes`, `mode`). */
export type ShareLinkOptions = NonNullable<Parameters<TokenAccess['exchange']>[1]>;

/**
 * Mounts core's share-link exchange on a route: a request carrying the link's token parameter
 * is exchanged (its use spent) for a short-lived session cookie and answered with core's
 * response, a 303 to the same URL without the token, so the token leaves the address bar,
 * history and `Referer`. With `confirm: true` a GET answers a confirm page and only its POST
 * spends the link (link previews never burn it); refusals are core's RFC 6750 responses. A
 * request without the token parameter goes on to the next middleware: put
 * `tokenAuth({ tokens, cookie })` after it to serve the page to the session.
 *
 * Core gets the request as the router routes it: the origin `requestOrigin(ctx)` names plus the
 * request target exactly as received (never resolved: a dot segment or backslash is refused with
 * 401, nothing spent); a Host that is not a plain `host[:port]` is refused with 400.
 *
 * @example
 * ```ts
 * router.get('/files/:name', shareLink(tokens, { cookie: 'file_session' }), tokenAuth({ tokens, cookie: 'file_session' }), sendFile);
 * router.post('/files/:name', shareLink(tokens, { cookie: 'file_session', confirm: true }));
 * ```
 */
export function shareLink(tokens: TokenAccess, options: ShareLinkOptions = {}): Middleware {
  if (!tokens || typeof tokens.exchange !== 'function') {
    throw new TokenAccessError('invalid_argument', msg('shareLink needs the token service (createTokenAccess({ store })) as its first argument'));
  }
  if (options.scopes) validateScopes(options.scopes, msg('shareLink scopes'));
  const { urlParam, realm } = tokens;

  return async (ctx: TokenContext, next: () => Promise<unknown>): Promise<void> => {
    if (!new URLSearchParams(ctx.querystring).has(urlParam)) {
      await next();
      return;
    }
    const url = requestUrl(ctx);
    if (url === undefined) return send(ctx, toResponse(verifyError('invalid_request', { realm })));
    try {
      // a Fetch Request resolves dot segments, which the router does not: refuse such a target
      // here, before the URL is parsed into another path (core matches it to no link either)
      canonicalizeUrl(url, { tokenParam: urlParam });
    } catch {
      return send(ctx, toResponse(verifyError('url_mismatch', { realm })));
    }
    const result = await tokens.exchange(toRequest(ctx, url), options);
    return send(ctx, result.response);
  };
}

/** The Koa request as a Fetch `Request` for core (headers as received; the body is never read). */
function toRequest(ctx: TokenContext, url: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Request(url, { method: ctx.method, headers });
}

/** Writes a Fetch `Response` to Koa: status, every header (each `Set-Cookie` on its own), body. */
async function send(ctx: TokenContext, response: Response): Promise<void> {
  const body = response.body && ctx.method !== 'HEAD' ? Buffer.from(await response.arrayBuffer()) : null;
  // the body first: Koa turns a null body under a status that may have one (a 303) into a 204,
  // and a status set afterwards keeps an explicitly empty body empty
  ctx.body = body;
  ctx.status = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') ctx.set(name, value);
  });
  // appended, each on its own line: cookies set upstream (a session of the app's own) are kept
  for (const cookie of response.headers.getSetCookie()) ctx.append('Set-Cookie', cookie);
}
