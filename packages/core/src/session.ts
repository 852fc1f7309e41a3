import { parseDuration } from './duration';
import { invalid } from './errors';
import { parseBearer, readHeader, toResponse, type RequestLike } from './http';
import type { CheckOptions } from './options';
import { evaluateConsume } from './store';
import { routedPath } from './url';
import type { Duration, TokenInfo, VerifyErrorCode, VerifyResult } from './types';

// Share-link sessions: open a link once, then browse its page and sub-resources with a short
// session cookie (Tiki's "temporary identity with the link's groups"), done so the raw token
// leaves the address bar, link previews cannot burn a link, and a session is only a session.

/** Options of `exchange`. */
export interface ExchangeOptions extends CheckOptions {
  session?: {
    /** How long the session lasts (never longer than the link). @default '15m' */
    ttl?: Duration;
    /**
     * The path the session covers (the cookie's `Path`, and the prefix every request must be
     * under). @default the link's path
     */
    path?: string;
  };
  /**
   * Answer a GET (and HEAD) with a page holding a button instead of spending the link: only the
   * page's POST spends the use, so link previews (chat apps, mail scanners) never burn it.
   * @default false
   */
  confirm?: boolean;
  /** The session cookie's name. @default 'tka_session' */
  cookie?: string;
}

/** What `exchange` answers: always a `response` to send. */
export type ExchangeResult =
  | { ok: true; response: Response; session: TokenInfo; link: TokenInfo }
  | { ok: false; pending: true; response: Response }
  | { ok: false; pending?: false; error: import('./types').VerifyError; response: Response };

/** The prefix of a session record's `url.canonical`: no request canonical (they start with `/`) can equal it. */
export const SESSION_CANONICAL = 'session:';
const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/**
 * The session cookie's name when `exchange` and `authenticate` are not given one.
 *
 * @example
 * ```ts
 * await tokens.authenticate(request, { cookie: DEFAULT_COOKIE });
 * ```
 */
export const DEFAULT_COOKIE = 'tka_session';

/** @internal What sessions need from `createTokenAccess`. */
export interface SessionContext {
  urlParam: string;
  realm: string;
  now: () => number;
  /** verifyUrl's path: spends a use of the link (`count: false` only checks it). */
  checkUrl: (url: string, method: string, check: CheckOptions & { count?: boolean }) => Promise<VerifyResult>;
  create: (fields: { name: string; scopes: string[]; expiresAt: Date; url: NonNullable<TokenInfo['url']>; parentId: string }, at: number) => Promise<{ token: string; info: TokenInfo }>;
  /** The record of a well-formed raw token (any pepper key), or null; throws when the store fails. */
  lookUp: (raw: string) => Promise<TokenInfo | null>;
  isWellFormed: (raw: string) => boolean;
  reject: (code: VerifyErrorCode, reason: string, raw: string | undefined, token?: TokenInfo, scopes?: string[]) => VerifyResult;
  failed: (raw: string, e: unknown) => VerifyResult;
}

/**
 * Reads one cookie from a request's `Cookie` header (RFC 6265 syntax; the first of a repeated
 * name), or `undefined`.
 *
 * @example
 * ```ts
 * readCookie(new Request('https://x.test/', { headers: { cookie: 'a=1; tka_session=tka_…' } }), 'tka_session');
 * ```
 */
export function readCookie(request: RequestLike, name: string): string | undefined {
  const header = readHeader(request.headers, 'cookie');
  const value = Array.isArray(header) ? header.join('; ') : header;
  if (!value) return undefined;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

/** The request path as routed (before `?`), from an absolute URL or a path. */
function pathOf(url: string): string {
  const noFragment = url.split('#')[0]!;
  const q = noFragment.indexOf('?');
  const target = q === -1 ? noFragment : noFragment.slice(0, q);
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(target);
  const p = m ? target.slice(m[0].length) : target;
  return p === '' ? '/' : p;
}

/** A cookie `Path` for a link's path: the path itself, or the directory above its first character a cookie attribute cannot hold. */
function cookiePath(path: string): string {
  const bad = path.search(/[\x00-\x20;,\x7F]/);
  if (bad === -1) return path;
  const cut = path.lastIndexOf('/', bad);
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Whether `path` is `prefix` or below it (`/a` covers `/a` and `/a/b`, not `/ab`). */
export function underPath(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  return path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

/** The URL without the token parameter, as a relative reference (what the 303 sends the browser to). */
function withoutToken(url: string, param: string): string {
  const noFragment = url.split('#')[0]!;
  const q = noFragment.indexOf('?');
  const path = pathOf(url);
  if (q === -1) return path;
  const kept = noFragment
    .slice(q + 1)
    .split('&')
    .filter((part) => {
      if (part === '') return false;
      const eq = part.indexOf('=');
      let key = eq === -1 ? part : part.slice(0, eq);
      try {
        key = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        /* kept as sent */
      }
      return key !== param;
    });
  return kept.length > 0 ? `${path}?${kept.join('&')}` : path;
}

/** The URL as a relative reference (path and query, no fragment): the confirm form posts back to it. */
function relative(url: string): string {
  const noFragment = url.split('#')[0]!;
  const q = noFragment.indexOf('?');
  return q === -1 ? pathOf(url) : `${pathOf(url)}${noFragment.slice(q)}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The confirm page: a form that POSTs to the link itself. No script, nothing loaded from anywhere. */
function confirmPage(action: string, name: string, head: boolean): Response {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Open shared link</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem}</style></head>
<body><main><h1>Open shared link</h1>
<p>${escapeHtml(name)}</p>
<p>This link may work only once. Continue to open it.</p>
<form method="post" action="${escapeHtml(action)}"><button type="submit">Continue</button></form>
</main></body></html>`;
  return new Response(head ? null : body, {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'x-robots-tag': 'noindex',
      // the one inline style is hashed away by allowing inline styles only; no script at all
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    },
  });
}

/** @internal Share-link sessions, bound to one token service. */
export function sessions(ctx: SessionContext) {
  async function exchange(request: Request, options: ExchangeOptions = {}): Promise<ExchangeResult> {
    if (!request || typeof request !== 'object' || typeof request.url !== 'string') throw invalid('exchange needs a Fetch Request');
    const cookie = options.cookie ?? DEFAULT_COOKIE;
    if (!COOKIE_NAME.test(cookie)) throw invalid(`cookie must be a cookie name (1-64 token characters), got ${JSON.stringify(cookie)}`);
    const ttl = parseDuration(options.session?.ttl ?? '15m', 'session.ttl');
    const method = (request.method ?? 'GET').toUpperCase();
    const refuse = (r: Extract<VerifyResult, { ok: false }>): ExchangeResult => ({ ok: false, error: r.error, response: toResponse(r.error) });
    // options are checked before anything is spent
    const linkPath = routedPath(request.url).path;
    const path = options.session?.path ?? cookiePath(linkPath);
    if (typeof path !== 'string' || !path.startsWith('/') || /[\x00-\x20;,\x7F]/.test(path) || !underPath(linkPath, path)) {
      throw invalid(`session.path must be a path that the link's path is under (got ${JSON.stringify(path)})`);
    }
    const check: CheckOptions = {};
    if (options.scopes) check.scopes = options.scopes;
    if (options.mode) check.mode = options.mode;

    // one credential per request, as authenticate rules: a link opened with a Bearer token too is refused
    if (parseBearer(readHeader(request.headers, 'authorization'), false) !== undefined) {
      return refuse(ctx.reject('invalid_request', 'a Bearer token and a URL token were both presented', undefined) as Extract<VerifyResult, { ok: false }>);
    }
    if (options.confirm && (method === 'GET' || method === 'HEAD')) {
      // a preview fetches this page: nothing is spent, but a dead link is refused at once
      const peek = await ctx.checkUrl(request.url, 'GET', { ...check, count: false });
      if (!peek.ok) return refuse(peek);
      return { ok: false, pending: true, response: confirmPage(relative(request.url), peek.token.name, method === 'HEAD') };
    }
    // with confirm, the POST opens the link as the GET it stands for
    const result = await ctx.checkUrl(request.url, options.confirm && method === 'POST' ? 'GET' : method, check);
    if (!result.ok) return refuse(result);
    const link = result.token;
    const at = ctx.now();
    let expiresAt = new Date(at + ttl);
    if (link.expiresAt && link.expiresAt < expiresAt) expiresAt = link.expiresAt;
    let made;
    try {
      made = await ctx.create(
        {
          name: `session of ${link.name}`.slice(0, 512),
          scopes: link.scopes,
          expiresAt,
          parentId: link.id,
          url: { url: link.url?.url ?? linkPath, ...(link.url?.origin ? { origin: link.url.origin } : {}), canonical: `${SESSION_CANONICAL}${path}`, methods: ALL_METHODS },
        },
        at,
      );
    } catch (e) {
      const r = ctx.failed('', e);
      if (r.ok) throw e;
      return refuse(r);
    }
    const secure = request.url.startsWith('https:');
    const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - at) / 1000));
    const headers = new Headers({
      location: withoutToken(request.url, ctx.urlParam),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    headers.append('set-cookie', `${cookie}=${made.token}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
    // a rate-limited link's RateLimit / RateLimit-Policy, as on every answer to it
    for (const [name, value] of Object.entries(result.headers ?? {})) headers.set(name, value);
    return { ok: true, session: made.info, link, response: new Response(null, { status: 303, headers }) };
  }

  /**
   * Verifies the session token in a cookie: one read, no write (sessions are never counted).
   * Refused unless it is a live session whose path covers the request's.
   */
  async function checkSession(raw: string, request: RequestLike, check: { scopes?: { mode: 'all' | 'any'; anyOf: string[][] }; required?: string[] }): Promise<VerifyResult> {
    if (!ctx.isWellFormed(raw)) return ctx.reject('malformed', 'the session cookie is not a well-formed token (no store was asked)', undefined);
    let record: TokenInfo | null;
    try {
      record = await ctx.lookUp(raw);
    } catch (e) {
      return ctx.failed(raw, e);
    }
    if (!record) return ctx.reject('not_found', 'no session with this hash (expired and removed, or revoked)', raw);
    if (record.kind !== 'session' || !record.url?.canonical.startsWith(SESSION_CANONICAL)) {
      return ctx.reject('url_mismatch', `a ${record.kind} token was presented in the session cookie`, raw, record);
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const out = evaluateConsume(record, ctx.now(), {
      lastUsedResolution: Number.POSITIVE_INFINITY,
      url: { canonical: record.url.canonical, method },
      ...(check.scopes ? { scopes: check.scopes } : {}),
    });
    if (!out.ok) return ctx.reject(out.reason, `session refused: ${out.reason}`, raw, record, out.reason === 'insufficient_scope' ? check.required : undefined);
    const prefix = record.url.canonical.slice(SESSION_CANONICAL.length);
    // the path as sent, never resolved: `/a.pdf/../../elsewhere` is not under `/a.pdf`
    const target = routedPath(typeof request.url === 'string' ? request.url : '/');
    if (target.unsafe) return ctx.reject('url_mismatch', `the request path is not in routable form: ${target.unsafe}`, raw, record);
    if (!underPath(target.path, prefix)) return ctx.reject('url_mismatch', `the session covers ${prefix}, not this path`, raw, record);
    return { ok: true, token: record };
  }

  return { exchange, checkSession };
}
