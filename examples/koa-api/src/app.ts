import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import type { TokenAccess, TokenInfo } from '@tokenaccess/core';
import { requestOrigin, requireAnyScope, requireScopes, shareLink, tokenAuth, type TokenState } from '@tokenaccess/koa';
import { readJson } from './body';
import { jsonErrors } from './errors';
import { type User, type Users, createUsers } from './users';

export interface AppOptions {
  /** The token service (any store). */
  tokens: TokenAccess;
  /** Directory whose files can be shared (streamed from disk, never buffered). */
  files: string;
  /** @default the two demo users, alice and bob */
  users?: Users;
}

type State = TokenState<User> & { login?: User };

/** Scopes a personal token may be issued with. */
export const SCOPES = ['users:read', 'users:write', 'files:read', 'files:share', 'batch:schedule'] as const;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** What a client may see of a token: never the hash, never the raw token. */
const publicInfo = (t: TokenInfo) => ({
  id: t.id,
  kind: t.kind,
  name: t.name,
  scopes: t.scopes,
  hint: t.hint,
  createdAt: t.createdAt,
  ...(t.lastUsedAt ? { lastUsedAt: t.lastUsedAt } : {}),
  ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
  ...(t.maxUses !== undefined ? { uses: t.uses, maxUses: t.maxUses } : {}),
  ...(t.url ? { url: t.url.url } : {}),
});

export function createApp({ tokens, files, users = createUsers() }: AppOptions): Koa<State> {
  const app = new Koa<State>();
  app.use(jsonErrors());

  // --- Token management, behind the demo login ---------------------------------------------
  // `X-Demo-User: alice` stands in for your real login (a session cookie, OAuth, ...): the
  // signed-in user issues, lists and revokes their own personal API tokens here.
  const account = new Router<State>({ prefix: '/auth' });
  account.use(async (ctx, next) => {
    const user = users.get(ctx.get('x-demo-user'));
    if (!user) ctx.throw(401, 'Sign in first: send X-Demo-User: alice (the demo login).');
    ctx.state.login = user;
    await next();
  });
  account.post('/tokens', async (ctx) => {
    const body = await readJson(ctx);
    const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim() : ctx.throw(400, 'name is required.');
    const scopes = body.scopes ?? ['users:read'];
    if (!Array.isArray(scopes) || scopes.some((s) => !(SCOPES as readonly unknown[]).includes(s))) ctx.throw(400, `scopes must be a list of: ${SCOPES.join(', ')}.`);
    const { token, info } = await tokens.issue({ subject: ctx.state.login!.id, name, scopes: scopes as string[], expiresIn: '90d' });
    ctx.status = 201;
    ctx.body = { token, ...publicInfo(info) }; // the raw token: shown once, here
  });
  account.get('/tokens', async (ctx) => {
    const page = await tokens.list({ subject: ctx.state.login!.id, limit: 100, ...(ctx.query.cursor ? { cursor: String(ctx.query.cursor) } : {}) });
    ctx.body = { items: page.items.map(publicInfo), ...(page.cursor ? { cursor: page.cursor } : {}) };
  });
  account.delete('/tokens/:id', async (ctx) => {
    const found = await tokens.get(ctx.params.id!);
    if (!found || found.subject !== ctx.state.login!.id) return ctx.throw(404, 'No such token.');
    await tokens.revokeById(found.id);
    ctx.status = 204;
  });

  // --- The API: the whole /api group requires a token --------------------------------------
  const api = new Router<State>({ prefix: '/api' });
  api.use(tokenAuth<User>({ tokens, loadSubject: (id) => users.get(id) }));
  api.get('/me', (ctx) => {
    ctx.body = { user: ctx.state.user, token: publicInfo(ctx.state.token) };
  });
  api.get('/users', requireScopes('users:read'), (ctx) => {
    ctx.body = { items: users.list() };
  });
  api.post('/users', requireScopes('users:write'), async (ctx) => {
    const body = await readJson(ctx);
    if (typeof body.name !== 'string' || typeof body.email !== 'string' || !body.name || !body.email.includes('@')) ctx.throw(400, 'name and email are required.');
    ctx.status = 201;
    ctx.body = users.add({ name: body.name as string, email: body.email as string });
  });
  api.get('/files', requireAnyScope('files:read', 'files:share'), async (ctx) => {
    const names = (await readdir(files)).filter((n) => FILE_NAME.test(n)).sort();
    ctx.body = { items: await Promise.all(names.map(async (name) => ({ name, size: (await stat(join(files, name))).size }))) };
  });
  // A one-time download link (by default) for a file: anyone holding the URL may fetch it once.
  api.post('/files/:name/share', requireScopes('files:share'), async (ctx) => {
    const name = ctx.params.name!;
    if (!FILE_NAME.test(name) || !(await isFile(join(files, name)))) ctx.throw(404, 'No such file.');
    const body = await readJson(ctx);
    const maxUses = body.maxUses === undefined ? 1 : Number(body.maxUses);
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1000) ctx.throw(400, 'maxUses must be an integer from 1 to 1000.');
    const share = await tokens.issueUrl({
      url: `${baseUrl(ctx)}/files/${encodeURIComponent(name)}`,
      scopes: ['files:download'],
      maxUses,
      expiresIn: '1d',
      subject: ctx.state.token.subject!,
      name: `download ${name}`,
    });
    ctx.status = 201;
    ctx.body = { url: share.url, id: share.info.id, maxUses, expiresAt: share.info.expiresAt };
  });
  // A cron URL: several runs of one exact export, for a scheduler that can only call a URL.
  api.post('/batch-links', requireScopes('batch:schedule'), async (ctx) => {
    const body = await readJson(ctx);
    const trackerId = String(body.trackerId ?? '3');
    const separator = String(body.separator ?? ',');
    const recordsMax = String(body.recordsMax ?? '-1');
    const runs = Number(body.runs ?? 31);
    if (!Number.isInteger(runs) || runs < 1 || runs > 10_000) ctx.throw(400, 'runs must be an integer from 1 to 10000.');
    const query = new URLSearchParams({ action: 'export', trackerId, separator, recordsMax });
    const link = await tokens.issueUrl({
      url: `${baseUrl(ctx)}/batch?${query.toString().replace(/%2C/g, ',')}`,
      scopes: ['batch:run'],
      maxUses: runs,
      expiresIn: '31d',
      subject: ctx.state.token.subject!,
      name: `cron export of tracker ${trackerId}`,
    });
    ctx.status = 201;
    ctx.body = { url: link.url, id: link.info.id, maxUses: runs, expiresAt: link.info.expiresAt };
  });

  // --- Single protected routes, opened by URL tokens (or a Bearer token with the scope) -----
  const links = new Router<State>();
  // The link is exchanged once for a short session cookie (303 to the URL without the token),
  // then the file is served to that cookie: the token leaves the address bar and the history.
  const session = { cookie: 'file_session', session: { ttl: '10m' as const } };
  links.get('/files/:name', shareLink(tokens, session), tokenAuth({ tokens, cookie: session.cookie, scopes: ['files:download'] }), async (ctx) => {
    const name = ctx.params.name!;
    const path = join(files, name);
    const info = FILE_NAME.test(name) ? await stat(path).catch(() => null) : null;
    if (!info?.isFile()) return ctx.throw(404, 'No such file.');
    ctx.type = 'application/octet-stream';
    ctx.length = info.size;
    ctx.attachment(name);
    ctx.body = createReadStream(path); // streamed: a 1 GB file costs no memory
  });
  links.get('/batch', tokenAuth({ tokens, urlTokens: true, scopes: ['batch:run'] }), (ctx) => {
    const { action, trackerId, separator = ',', recordsMax = '-1' } = ctx.query as Record<string, string>;
    if (action !== 'export') ctx.throw(400, 'Unknown action.');
    if (trackerId !== '3') ctx.throw(404, 'No such tracker (the demo has tracker 3: users).');
    const max = Number(recordsMax);
    const rows = users.list().slice(0, max < 0 ? undefined : max);
    const sep = separator.slice(0, 1) || ',';
    const token = ctx.state.token;
    ctx.set('X-Runs-Left', token.maxUses === undefined ? 'unlimited' : String(token.maxUses - token.uses));
    ctx.type = 'text/csv';
    ctx.body = ['id', 'name', 'email'].join(sep) + '\n' + rows.map((u) => [u.id, u.name, u.email].join(sep)).join('\n') + '\n';
  });

  app.use(async (ctx, next) => {
    if (ctx.path !== '/') return next();
    ctx.body = {
      name: 'koa-api, the tokenaccess example',
      endpoints: [
        'POST /auth/tokens, GET /auth/tokens, DELETE /auth/tokens/:id (X-Demo-User: alice)',
        'GET /api/me, GET /api/users [users:read], POST /api/users [users:write]',
        'GET /api/files [files:read|files:share], POST /api/files/:name/share [files:share], POST /api/batch-links [batch:schedule]',
        'GET /files/:name?token=… (share link), GET /batch?…&token=… (cron URL)',
      ],
    };
  });
  for (const r of [account, api, links]) app.use(r.routes()).use(r.allowedMethods());
  return app;
}

/**
 * This server as clients see it, and as `tokenAuth` verifies links against: `ctx.protocol` and
 * `ctx.host`, refused when the Host header is not a plain host (`a.test/x?` would bind the link
 * to another path). Koa 3's `ctx.origin` is the `Origin` request header, not this.
 */
function baseUrl(ctx: Koa.Context): string {
  return requestOrigin(ctx) ?? ctx.throw(400, 'The Host header is not a valid host.');
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
