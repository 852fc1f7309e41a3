// A TokenAccessError carries http-errors' `status` and `expose`: bad user input passed to
// `tokens.issue(...)` is a 400 under Koa's default error handling, and a misconfigured
// tokenAuth stays a 500 (logged), never a 400 that blames the client.
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenAccessError, type TokenAccess, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { tokenAuth } from '@tokenaccess/koa';
import { type Running, listen, rawRequest } from './helpers';

const tokens = createTokenAccess({ store: memoryStore() });
const errors: Error[] = [];
let srv: Running;

beforeAll(async () => {
  const app = new Koa(); // no error middleware: Koa's own ctx.onerror answers
  app.on('error', (err: Error) => errors.push(err));
  const router = new Router();
  router.get('/issue', async (ctx) => {
    const { token } = await tokens.issue({ subject: ctx.query.s as string, name: '' });
    ctx.body = { token };
  });
  router.get('/share', async (ctx) => {
    ctx.body = await tokens.issueUrl({ url: String(ctx.query.url) });
  });
  // a TokenAccess whose authenticate throws as a misconfigured one does
  const misconfigured: TokenAccess = {
    ...tokens,
    authenticate: () => Promise.reject(new TokenAccessError('invalid_argument', "mode must be 'all' or 'any'")),
  };
  router.get('/guarded', tokenAuth({ tokens: misconfigured }), (ctx) => (ctx.body = 'never'));
  app.use(router.routes());
  srv = await listen(app);
});
afterAll(() => srv.close());
beforeEach(() => void (errors.length = 0));
const get = (target: string) => rawRequest(srv, `GET ${target} HTTP/1.1`, { Host: 'a.test' });

describe("bad input to tokens.issue in a route, under Koa's default error handler", () => {
  it('answers 400 with the message as text, no stack, and is not logged as a server error', async () => {
    const res = await get('/issue?s=user-1');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const body = res.body;
    expect(body).toMatch(/^\[tokenaccess\] .*name/);
    expect(body).not.toMatch(/\n\s+at |TokenAccessError|\.ts:\d/);
    // Koa emits every error; its default logger skips exposed ones, and so does this check
    expect(errors.map((e) => [e.name, (e as { status?: number }).status, (e as { expose?: boolean }).expose])).toEqual([['TokenAccessError', 400, true]]);
  });

  it('a missing subject and a bad share URL are 400s too', async () => {
    expect((await get('/issue')).status).toBe(400);
    const share = await get('/share?url=javascript%3Aalert(1)');
    expect(share.status).toBe(400);
    expect(share.body).toMatch(/^\[tokenaccess\] /);
  });
});

describe('a misconfigured tokenAuth', () => {
  it('is a 500 with no message exposed, not the error’s own 400', async () => {
    const res = await get('/guarded');
    expect(res.status).toBe(500);
    expect(res.body).toBe('Internal Server Error');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { cause?: unknown }).cause).toBeInstanceOf(TokenAccessError);
  });

  it('refuses an invalid mode at start-up rather than on each request', () => {
    expect(() => tokenAuth({ tokens, scopes: ['a:read'], mode: 'every' as 'all' })).toThrow(/^\[tokenaccess\] \[koa\] mode must be 'all' or 'any' \(got "every"\)$/);
    expect(() => tokenAuth({ tokens, mode: 'every' as 'all' })).toThrow(TokenAccessError);
  });
});
