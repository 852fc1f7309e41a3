import { type Duration, TokenAccessError, type TokenInfo, parseDuration } from '@tokenaccess/core';
import { ASSETS } from './assets';
import { type Ctx, tokenPath } from './context';
import { createCsrf } from './csrf';
import { utc } from './format';
import { type Submitted, linkForm, tokenForm } from './forms';
import type { SafeHtml } from './html';
import { hardened, page, readForm, sameOrigin, secure, seeOther } from './http';
import type { AdminIdentity, AdminOptions } from './options';
import { spendCookie, spentNonces } from './spent';
import { linkFormPage, tokenFormPage } from './views/create';
import { detailPage } from './views/detail';
import { defaultFilters, listOptions, listPage, parseFilters } from './views/list';
import { messagePage } from './views/message';
import { noticeFrom } from './views/notice';
import { secretPage } from './views/secret';

const fail = (message: string) => new TokenAccessError('invalid_argument', `[tokenaccess] [admin] ${message}`);

/** The message of a core error as a person reads it: no `[tokenaccess]` prefix. */
const plain = (e: TokenAccessError) => e.message.replace(/^\[tokenaccess\](\s*\[[\w-]+\])?\s*/, '');

type Action = 'revoke' | 'rotate' | 'disable' | 'enable';

const NO_TOKEN = 'No token with this id: it was revoked, swept, or never existed.';
const NO_PAGE = 'There is no such page.';

/**
 * Creates the admin page: a Fetch handler, `(request: Request) => Promise<Response>`, that
 * serves everything under `basePath` (list, detail, create forms, actions and its own CSS and
 * script). Mount it for every method of `basePath` and everything below it.
 *
 * @example
 * ```ts
 * import { createTokenAccess, memoryStore } from '@tokenaccess/core';
 * import { adminHandler } from '@tokenaccess/admin';
 *
 * const tokens = createTokenAccess({ store: memoryStore() });
 * const admin = adminHandler({
 *   tokens,
 *   basePath: '/admin',
 *   secret: process.env.ADMIN_CSRF_SECRET, // 32+ bytes, the same on every instance
 *   authorize: async (request) => {
 *     const user = await sessionUser(request); // your login
 *     return user?.isAdmin ? { id: user.id, name: user.email } : false;
 *   },
 * });
 * // Bun.serve({ fetch: admin }), Deno.serve(admin), a Next route handler, Hono: app.all('/admin/*', (c) => admin(c.req.raw))
 * ```
 */
export function adminHandler(options: AdminOptions): (request: Request) => Promise<Response> {
  if (!options || typeof options !== 'object') throw fail('adminHandler needs { tokens, authorize }');
  const { tokens, authorize } = options;
  if (!tokens || typeof tokens.list !== 'function' || typeof tokens.issue !== 'function') throw fail('adminHandler needs `tokens` (createTokenAccess(...))');
  if (typeof authorize !== 'function') throw fail('adminHandler needs `authorize(request)`: who may use the page is your decision');
  const base = options.basePath ?? '/admin';
  if (typeof base !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*$/.test(base)) throw fail(`basePath must be '' or /segment[/segment…] of [A-Za-z0-9._~-], without a trailing slash (got ${JSON.stringify(base)})`);
  const title = options.title ?? 'Tokens';
  if (typeof title !== 'string' || title.trim() === '' || title.length > 200) throw fail('title must be 1-200 characters');
  const pageSize = options.pageSize ?? 50;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw fail('pageSize must be an integer from 1 to 1000');
  const origins = options.origins;
  if (origins !== undefined && (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string' || !/^https?:\/\/[^/]+$/.test(o)))) {
    throw fail('origins must be a list of origins such as https://admin.example.com (scheme and host, no path)');
  }
  const csrf = createCsrf(options.secret);
  const onError = options.onError ?? ((e: unknown) => console.error('[tokenaccess] [admin] request failed', e));
  const cookiePath = base || '/';

  const bareCtx = (identity: AdminIdentity | null = null, token = ''): Ctx => ({ tokens, base, title, identity, csrf: token, now: Date.now(), pageSize });

  /** Answers an error with a page that says what happened and nothing else. */
  function failure(ctx: Ctx, e: unknown, request: Request): Response {
    if (e instanceof TokenAccessError) {
      if (e.code === 'not_found') return notFound(ctx, NO_TOKEN);
      if (e.code === 'unavailable') return page(messagePage(ctx, 'Store unavailable', 'The token store did not answer. Nothing was changed; try again in a moment.'), 503);
      if (e.code === 'invalid_argument') return page(messagePage(ctx, 'Bad request', plain(e)), 400);
    }
    onError(e, request);
    return page(messagePage(ctx, 'Error', 'Something went wrong. Nothing more is shown here; the server log has the details.'), 500);
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const path = url.pathname;
    if (path !== base && !path.startsWith(`${base}/`)) return notFound(bareCtx(), NO_PAGE);
    const rest = path.slice(base.length) || '/';
    const read = method === 'GET' || method === 'HEAD';

    // static files hold no data: served before `authorize`, so the 401/403 pages have their style too
    if (rest.startsWith('/assets/')) {
      const asset = Object.hasOwn(ASSETS, rest.slice(8)) ? ASSETS[rest.slice(8)] : undefined;
      if (!asset) return notFound(bareCtx(), NO_PAGE);
      if (!read) return new Response(null, { status: 405, headers: secure(new Headers({ allow: 'GET, HEAD' })) });
      return new Response(asset.body, { headers: secure(new Headers({ 'content-type': asset.type }), 'public, max-age=300') });
    }

    const who = await authorize(request);
    if (who instanceof Response) return hardened(who);
    if (!who || typeof who !== 'object' || typeof who.id !== 'string') return page(messagePage(bareCtx(), 'Forbidden', 'You may not use this page.'), 403);
    const ctx = bareCtx(who, await csrf.issue(who.id));

    try {
      if (read) return await get(ctx, rest, url.searchParams);
      if (method !== 'POST') return new Response(null, { status: 405, headers: secure(new Headers({ allow: 'GET, HEAD, POST' })) });
      return await post(ctx, rest, request);
    } catch (e) {
      return failure(ctx, e, request);
    }
  }

  async function get(ctx: Ctx, rest: string, query: URLSearchParams): Promise<Response> {
    if (rest === '/') {
      const filters = parseFilters(query, pageSize);
      if (typeof filters === 'string') return page(listPage(ctx, defaultFilters(pageSize), null, noticeFrom(query), filters), 400);
      try {
        return page(listPage(ctx, filters, await tokens.list(listOptions(filters, ctx.now)), noticeFrom(query)));
      } catch (e) {
        if (e instanceof TokenAccessError && e.code === 'invalid_argument') return page(listPage(ctx, { ...filters, cursor: '' }, null, noticeFrom(query), `${plain(e)} Start again from the first page.`), 400);
        throw e;
      }
    }
    if (rest === '/new/token') return page(tokenFormPage(ctx));
    if (rest === '/new/link') return page(linkFormPage(ctx));
    const detailMatch = /^\/tokens\/([^/]+)$/.exec(rest);
    if (detailMatch) {
      const id = decodeId(detailMatch[1]!);
      if (id === null) return notFound(ctx, NO_TOKEN);
      const info = await tokens.get(id);
      if (!info) return notFound(ctx, NO_TOKEN);
      return page(detailPage(ctx, info, noticeFrom(query)));
    }
    if (/^\/(new\/(token|link)|sweep|tokens\/[^/]+\/(revoke|rotate|disable|enable))$/.test(rest)) {
      return new Response(null, { status: 405, headers: secure(new Headers({ allow: 'POST' })) });
    }
    return notFound(ctx, NO_PAGE);
  }

  async function post(ctx: Ctx, rest: string, request: Request): Promise<Response> {
    const action = /^\/tokens\/([^/]+)\/(revoke|rotate|disable|enable)$/.exec(rest);
    const known = rest === '/new/token' || rest === '/new/link' || rest === '/sweep' || action !== null;
    if (!known) return notFound(ctx, NO_PAGE);
    // CSRF: same origin first (no body is read for a cross-site request), then the form's token
    if (!sameOrigin(request, origins)) {
      return page(messagePage(ctx, 'Refused', 'This request did not come from this page (a cross-site request). Nothing was changed.'), 403);
    }
    const form = await readForm(request);
    if (form === 'too_large') return page(messagePage(ctx, 'Too large', 'The form is larger than this page accepts. Nothing was changed.'), 413);
    if (form === 'not_a_form') return page(messagePage(ctx, 'Unsupported', 'Send the page’s own forms (application/x-www-form-urlencoded). Nothing was changed.'), 415);
    const checked = await csrf.check(form.get('csrf'), ctx.identity!.id);
    if (!checked) {
      return page(messagePage(ctx, 'Form expired', 'This form has expired or did not come from this page. Go back, reload the page and try again. Nothing was changed.'), 403);
    }
    const once = rest === '/new/token' || rest === '/new/link' || action?.[2] === 'rotate';
    if (once && spentNonces(request).includes(checked.nonce)) return seeOther(`${base}/?notice=resubmitted`);
    const shown = (heading: string, made: { token: string; info: TokenInfo; url?: string }, note?: string) =>
      page(secretPage(ctx, heading, made, note), 200, { 'set-cookie': spendCookie(request, checked.nonce, cookiePath) });

    /** Issues from a parsed form: the one-time page, or the form again (400) with what is wrong. */
    async function create<O>(
      parsed: { submitted: Submitted; options?: O },
      issue: (options: O) => Promise<{ token: string; info: TokenInfo; url?: string }>,
      formPage: (ctx: Ctx, s?: Submitted, error?: string) => SafeHtml,
      heading: string,
    ): Promise<Response> {
      const again = (error?: string) => page(formPage(ctx, parsed.submitted, error), 400);
      if (!parsed.options) return again();
      try {
        return shown(heading, await issue(parsed.options));
      } catch (e) {
        if (e instanceof TokenAccessError && e.code === 'invalid_argument') return again(`${plain(e)} Nothing was created.`);
        throw e;
      }
    }

    if (rest === '/sweep') return seeOther(`${base}/?notice=swept&count=${await tokens.sweep()}`);
    if (rest === '/new/token') return create(tokenForm(form), (o) => tokens.issue(o), tokenFormPage, 'API token created');
    if (rest === '/new/link') return create(linkForm(form), (o) => tokens.issueUrl(o), linkFormPage, 'Share link created');

    const id = decodeId(action![1]!);
    if (id === null) return notFound(ctx, NO_TOKEN);
    const verb = action![2] as Action;
    const detail = tokenPath(ctx, id);
    if (verb === 'revoke') {
      const gone = await tokens.revokeById(id);
      if (!gone) return notFound(ctx, NO_TOKEN);
      return seeOther(`${base}/?notice=revoked`);
    }
    if (verb === 'disable' || verb === 'enable') {
      await (verb === 'disable' ? tokens.disable(id) : tokens.enable(id));
      return seeOther(`${detail}?notice=${verb}d`);
    }
    const graceText = (form.get('grace') ?? '').trim();
    let grace = 0;
    try {
      if (!/^0*$/.test(graceText)) grace = parseDuration((/^\d+$/.test(graceText) ? Number(graceText) : graceText) as Duration, 'grace');
    } catch {
      return page(messagePage(ctx, 'Bad request', 'The time the old token keeps working must be 0 or a duration such as 30m, 1h or 7d. Nothing was changed.', { href: detail, label: 'Back to the token' }), 400);
    }
    const r = await tokens.rotate(id, { grace });
    const until = r.previous.expiresAt && grace > 0 ? ` keeps working until ${utc(r.previous.expiresAt)}` : ' no longer works';
    return shown('Token rotated', { token: r.token, info: r.info, ...(r.url ? { url: r.url } : {}) }, `The old one (${r.previous.hint}…)${until}.`);
  }

  return async (request) => {
    try {
      const response = await handle(request);
      return request.method.toUpperCase() === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (e) {
      return failure(bareCtx(), e, request);
    }
  };
}

const notFound = (ctx: Ctx, text: string) => page(messagePage(ctx, 'Not found', text), 404);

/** A path segment percent-decoded; null for a bad escape. */
function decodeId(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
