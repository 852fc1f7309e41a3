// The getting-started walkthrough, runnable: npx tsx docs/examples/getting-started.ts
import { can, createTokenAccess, memoryStore, toResponse } from '@tokenaccess/core';

export async function main(log: (...args: unknown[]) => void = console.log) {
  // 1. One service, on a store (memory here; Redis, Postgres or MongoDB in production)
  const tokens = createTokenAccess({ store: memoryStore() });

  // 2. An API token: the raw token is returned here and never again
  const { token, info } = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read'] });
  log('give this to the user once:', token, '- store and show only', info.id, info.hint);

  // 3. Verify it (one store round trip); a bad token is a result, not an exception
  const r = await tokens.verify(token, { scopes: ['users:read'] });
  if (r.ok) log('verified', r.token.subject, 'can write?', can(r.token, 'users:write'));
  else log('refused:', r.error.code);

  // 4. A one-time share link, bound to one exact URL
  const share = await tokens.issueUrl({ url: 'https://example.com/files?id=7', expiresIn: '1d', maxUses: 1 });
  log('share link:', share.url);
  const first = await tokens.verifyUrl(share.url, { method: 'GET' });
  const second = await tokens.verifyUrl(share.url, { method: 'GET' });
  log('first open:', first.ok, '- second open:', second.ok ? 'ok' : second.error.code);

  // 5. Any Fetch-API framework: a Request in, a Response out
  const request = new Request('https://api.example.com/users', { headers: { authorization: `Bearer ${token}` } });
  const auth = await tokens.authenticate(request, { scopes: ['users:read'] });
  const response = auth.ok ? Response.json({ users: [] }) : toResponse(auth.error);
  log('status', response.status);

  // 6. List and revoke
  const { items } = await tokens.list({ subject: 'user-1' });
  log('user-1 has', items.length, 'token(s)');
  await tokens.revoke(token); // also revokeById(id), revokeByHash(hash), revokeAll(subject)
  return { first: first.ok, second: second.ok ? 'ok' : second.error.code, status: response.status, revoked: !(await tokens.verify(token)).ok };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
