// tokenaccess counterparts of the Shield, Sanctum and Tiki snippets in docs/migrating.md.
import { can, cant, createTokenAccess, memoryStore } from '@tokenaccess/core';

export async function shield() {
  const tokens = createTokenAccess({ store: memoryStore() });
  const user = { id: 'user-1' };
  const request = new Request('https://api.example.com/users', { method: 'GET' });
  // $token = $user->generateAccessToken('Work Laptop', ['users-read']); $token->raw_token
  const { token: raw } = await tokens.issue({ subject: user.id, name: 'Work Laptop', scopes: ['users:read'] });
  // $user->tokenCan('users-read') / $user->tokenCant('users-write')
  const r = await tokens.verify(raw);
  const checks = r.ok && can(r.token, 'users:read') && cant(r.token, 'users:write');
  // $user->revokeAccessToken($raw) / revokeAccessTokenBySecret($secret) / revokeAllAccessTokens()
  await tokens.revoke(raw);
  await tokens.revokeAll(user.id);
  return { checks, request: request.method };
}

export async function sanctum() {
  const tokens = createTokenAccess({ store: memoryStore(), defaults: { access: { expiresIn: '90d' } } });
  // $user->createToken('token-name', ['server:update'], now()->addWeek())->plainTextToken
  const { token } = await tokens.issue({ subject: 'user-1', name: 'token-name', scopes: ['server:update'], expiresIn: '7d' });
  // Route::middleware(['auth:sanctum', 'abilities:check-status,place-orders'])
  const both = await tokens.verify(token, { scopes: ['check-status', 'place-orders'], mode: 'all' });
  // ->middleware(['auth:sanctum', 'ability:check-status,place-orders'])  (any)
  const either = await tokens.verify(token, { scopes: ['check-status', 'server:update'], mode: 'any' });
  // php artisan sanctum:prune-expired --hours=24
  const pruned = await tokens.sweep();
  return { both: both.ok, either: either.ok, pruned };
}

export async function tiki() {
  const tokens = createTokenAccess({ store: memoryStore(), urlParam: 'TOKEN' });
  // Admin → Tokens → "Add token": entry URL, timeout (days), max hits, groups
  const share = await tokens.issueUrl({ url: 'https://tiki.example.com/tiki-index.php?page=Report', expiresIn: '7d', maxUses: 10, scopes: ['group:Viewers'] });
  // the token grants temporary rights: the groups become scopes your code checks
  const r = await tokens.verifyUrl(share.url);
  return r.ok && can(r.token, 'group:Viewers');
}
