import { afterAll, beforeAll, expect, it } from 'vitest';
import { app, tokens } from './snippets/setup';
import { type Running, listen } from './helpers';

let srv: Running;
beforeAll(async () => (srv = await listen(app)));
afterAll(() => srv.close());

it('the 10-line setup of the docs protects /api and passes a token with users:read', async () => {
  const { token } = await tokens.issue({ subject: 'user-1', name: 'docs', scopes: ['users:read'] });
  const ok = await fetch(`${srv.url}/api/users`, { headers: { authorization: `Bearer ${token}` } });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ users: [], for: 'user-1' });
  expect((await fetch(`${srv.url}/api/users`)).status).toBe(401);
});
