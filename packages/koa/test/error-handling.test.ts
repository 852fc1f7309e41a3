import Koa from 'koa';
import Router from '@koa/router';
import { afterEach, describe, expect, it } from 'vitest';
import { throwTokenError, tokenAuth, requireScopes, type TokenErrorHandler } from '@tokenaccess/koa';
import { centralErrorsApp, jsonErrors } from './snippets/error-middleware';
import { type Running, bearer, brokenStore, listen, setup } from './helpers';

const { tokens } = setup();
const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** An app with `upstream` middleware (an error handler or nothing), then a protected router. */
async function start(opts: { upstream?: Koa.Middleware; onError?: TokenErrorHandler; tokens?: typeof tokens }) {
  const app = new Koa();
  const errors: unknown[] = [];
  app.on('error', (e) => errors.push(e)); // replaces Koa's console logger; Koa still emits every thrown error here
  if (opts.upstream) app.use(opts.upstream);
  const router = new Router({ prefix: '/api' });
  router.use(tokenAuth({ tokens: opts.tokens ?? tokens, ...(opts.onError ? { onError: opts.onError } : {}) }));
  router.get('/admin', requireScopes('admin'), (ctx) => (ctx.body = 'admin'));
  app.use(router.routes());
  const srv = await listen(app);
  running.push(srv);
  return { url: srv.url, errors };
}

async function read(res: Response) {
  return { status: res.status, www: res.headers.get('www-authenticate'), cache: res.headers.get('cache-control'), type: res.headers.get('content-type'), text: await res.text() };
}

const JSON_401 = JSON.stringify({ error: 'unauthorized', message: 'Authentication is required.' });
const naive: Koa.Middleware = async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    const e = err as { status?: number; message: string };
    ctx.status = e.status ?? 500;
    ctx.body = { message: e.message };
  }
};

describe('default: the refusal is answered directly (no throw)', () => {
  it("under Koa's default error handling: status, WWW-Authenticate and the JSON body arrive, no 'error' event", async () => {
    const { url, errors } = await start({});
    const r = await read(await fetch(`${url}/api/admin`));
    expect(r).toMatchObject({ status: 401, www: 'Bearer realm="api"', cache: 'no-store', text: JSON_401 });
    expect(r.type).toMatch(/^application\/json/);
    expect(errors).toEqual([]);
  });

  it('under an upstream error middleware, even a naive one that forwards no headers, the same response arrives', async () => {
    for (const upstream of [jsonErrors(), naive]) {
      const { url } = await start({ upstream });
      const r = await read(await fetch(`${url}/api/admin`));
      expect(r).toMatchObject({ status: 401, www: 'Bearer realm="api"', text: JSON_401 });
      const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:read'] });
      const s = await read(await fetch(`${url}/api/admin`, { headers: bearer(token) }));
      expect(s.status).toBe(403);
      expect(s.www).toContain('error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="admin"');
    }
  });
});

describe('onError: throwTokenError (koa-jwt style: an HttpError with err.headers)', () => {
  it("Koa's default error handler re-applies err.headers: status and WWW-Authenticate arrive, the body is the message as text", async () => {
    const { url, errors } = await start({ onError: throwTokenError });
    const r = await read(await fetch(`${url}/api/admin`, { headers: bearer('tka_bad') }));
    expect(r.status).toBe(401);
    expect(r.www).toBe('Bearer realm="api", error="invalid_token", error_description="The access token is invalid."');
    expect(r.cache).toBe('no-store');
    expect(r.type).toMatch(/^text\/plain/);
    expect(r.text).toBe('The access token is invalid.');
    // Koa emits it; its default logger stays silent because the error is `expose`d
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, expose: true, tokenError: { code: 'malformed' }, body: { error: 'invalid_token', message: 'The access token is invalid.' } });
  });

  it('a custom error middleware that forwards err.headers and err.body answers exactly like the default', async () => {
    const { url } = await start({ upstream: jsonErrors(), onError: throwTokenError });
    const r = await read(await fetch(`${url}/api/admin`));
    expect(r).toMatchObject({ status: 401, www: 'Bearer realm="api"', cache: 'no-store', text: JSON_401 });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:read'] });
    const s = await read(await fetch(`${url}/api/admin`, { headers: bearer(token) }));
    expect(s.status).toBe(403);
    expect(s.www).toContain('scope="admin"');
    expect(JSON.parse(s.text)).toEqual({ error: 'insufficient_scope', message: 'The access token does not grant the required scope.' });
  });

  it('the documented app (jsonErrors + throwTokenError) answers refusals as JSON with WWW-Authenticate, and lets tokens through', async () => {
    const srv = await listen(centralErrorsApp(tokens));
    running.push(srv);
    const r = await read(await fetch(srv.url, { headers: bearer('tka_bad') }));
    expect(r).toMatchObject({ status: 401, www: 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid."', cache: 'no-store' });
    expect(JSON.parse(r.text)).toEqual({ error: 'invalid_token', message: 'The access token is invalid.' });
    const { token } = await tokens.issue({ subject: 'u7', name: 'n' });
    expect(await (await fetch(srv.url, { headers: bearer(token) })).json()).toEqual({ hello: 'u7' });
  });

  it('a store failure thrown this way is still a 503 with Retry-After, not a 500', async () => {
    const { url } = await start({ upstream: jsonErrors(), onError: throwTokenError, tokens: setup({ store: brokenStore() }).tokens });
    const r = await fetch(`${url}/api/admin`, { headers: bearer('tka_whatever') });
    // malformed is decided before the store is asked; a well-formed token reaches it
    expect(r.status).toBe(401);
    const { generateToken } = await import('@tokenaccess/core');
    const s = await fetch(`${url}/api/admin`, { headers: bearer(generateToken('tka')) });
    expect(s.status).toBe(503);
    expect(s.headers.get('retry-after')).toBe('5');
    expect(await s.json()).toEqual({ error: 'temporarily_unavailable', message: 'Authentication is temporarily unavailable.' });
  });

  it('why the headers travel on the error: a handler that does not forward err.headers loses WWW-Authenticate', async () => {
    const { url } = await start({ upstream: naive, onError: throwTokenError });
    const r = await read(await fetch(`${url}/api/admin`));
    expect(r.status).toBe(401);
    expect(r.www).toBeNull();
  });
});
