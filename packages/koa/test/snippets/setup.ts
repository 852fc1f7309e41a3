// The 10-line setup of docs/frameworks/koa.md and the README (run by test/snippets.test.ts).
import Koa from 'koa';
import Router from '@koa/router';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { requireScopes, tokenAuth, type TokenState } from '@tokenaccess/koa';

export const tokens = createTokenAccess({ store: memoryStore() });
const api = new Router<TokenState>({ prefix: '/api' });
api.use(tokenAuth({ tokens }));
api.get('/users', requireScopes('users:read'), (ctx) => {
  ctx.body = { users: [], for: ctx.state.token.subject };
});
export const app = new Koa().use(api.routes()).use(api.allowedMethods());
