// ctx.state's type follows tokenAuth's options (`key`, `passthrough`): the @ts-expect-error lines
// are checked by `npm run typecheck` (a wrong type fails it), the requests check the runtime agrees.
import Router from '@koa/router';
import Koa from 'koa';
import { afterAll, expect, it } from 'vitest';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { bearer, listen, setup } from './helpers';

const { tokens } = setup();

// type the router with the state the middleware fills (@koa/router's use() does not infer it)
const keyed = new Router<TokenState<unknown, 'auth'>>().use(tokenAuth({ tokens, key: 'auth' }));
keyed.get('/keyed', (ctx) => {
  const id: string = ctx.state.auth.id;
  ctx.body = { id, token: 'token' in ctx.state };
});
const open = new Router<TokenState<unknown, 'token', true>>().use(tokenAuth({ tokens, passthrough: true }));
open.get('/open', (ctx) => {
  ctx.body = { id: ctx.state.token?.id ?? null, refused: ctx.state.tokenError?.code ?? null };
});

/** Never called: what the types refuse. */
export function refused(a: TokenState<unknown, 'auth'>, b: TokenState<unknown, 'token', true>, c: TokenState): string[] {
  // @ts-expect-error the token is under `auth`, not `token`
  const wrongKey: string = a.token.id;
  // @ts-expect-error with passthrough the token may be absent
  const maybeAbsent: string = b.token.id;
  // @ts-expect-error without passthrough there is no tokenError
  const noError = c.tokenError;
  return [wrongKey, maybeAbsent, String(noError), c.token.id];
}

const running = listen(new Koa().use(keyed.routes()).use(open.routes()));
afterAll(async () => (await running).close());

it('the token is where the types say: under `key`; optional with passthrough', async () => {
  const srv = await running;
  const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
  expect(await (await fetch(`${srv.url}/keyed`, { headers: bearer(token) })).json()).toEqual({ id: info.id, token: false });
  expect(await (await fetch(`${srv.url}/open`)).json()).toEqual({ id: null, refused: 'missing' });
  expect(await (await fetch(`${srv.url}/open`, { headers: bearer(token) })).json()).toEqual({ id: info.id, refused: null });
});
