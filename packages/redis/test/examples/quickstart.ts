import { createTokenAccess } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Cluster, Redis } from 'ioredis';

/** Client options that make a dead Redis answer fast (503) instead of queueing forever. */
const failFast = {
  maxRetriesPerRequest: 1, // fail a command after one reconnect attempt (default 20)
  commandTimeout: 1000, // a connection that stopped answering fails in 1 s, not never
};

/** One Redis: issue, verify, share a one-time link, revoke. */
export async function standalone(url = 'redis://127.0.0.1:6379', keyPrefix = 'myapp:tka:') {
  const client = new Redis(url, { ...failFast, enableAutoPipelining: true });
  client.on('error', (err) => console.error('[redis]', err.message));
  const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });

  const { token, info } = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read'] });
  const verified = await tokens.verify(token, { scopes: ['users:read'] }); // { ok: true, token }
  const denied = await tokens.verify(token, { scopes: ['users:write'] }); // insufficient_scope, 403

  const share = await tokens.issueUrl({ url: 'https://example.com/files?id=7', expiresIn: '1d', maxUses: 1 });
  const opened = await tokens.verifyUrl(share.url); // ok, and the link is used up
  const reopened = await tokens.verifyUrl(share.url); // exhausted, as on every store, until the link expires

  const listed = await tokens.list({ subject: 'user-1' });
  const revoked = await tokens.revokeAll('user-1');
  await client.quit();
  return { info, verified, denied, opened, reopened, listed, revoked };
}

/** Redis Cluster: the same store, on a Cluster client. */
export async function cluster(nodes: { host: string; port: number }[], keyPrefix = 'myapp:tka:') {
  const client = new Cluster(nodes, { enableAutoPipelining: true, redisOptions: failFast });
  client.on('error', (err) => console.error('[redis]', err.message));
  const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix }) });

  const { token } = await tokens.issue({ subject: 'user-1', name: 'CI', maxUses: 2 });
  const uses = [await tokens.verify(token), await tokens.verify(token), await tokens.verify(token)];
  const swept = await tokens.sweep(); // 1: deletes the used-up token now, with its index entries
  await client.quit();
  return { uses, swept };
}
