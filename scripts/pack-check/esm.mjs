// (a) ESM: every package imported and used the way the READMEs show, from the packed tarballs.
import assert from 'node:assert/strict';
import { createTokenAccess, memoryStore, toResponse, cryptoProvider } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { postgresStore, migrate } from '@tokenaccess/postgres';
import { mongoStore, ensureIndexes } from '@tokenaccess/mongodb';
import { tokenAuth, requireScopes } from '@tokenaccess/koa';
import { withToken, tokenProxy } from '@tokenaccess/next';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { adminHandler } from '@tokenaccess/admin';
import Redis from 'ioredis';
import { PGlite } from '@electric-sql/pglite';
import { MongoClient } from 'mongodb';
import Koa from 'koa';

assert.equal(cryptoProvider.name, 'node:crypto', 'the node export condition selects node:crypto');
assert.equal(typeof storeTestSuite, 'function');

async function roundTrip(store, label) {
  const tokens = createTokenAccess({ store });
  const { token } = await tokens.issue({ subject: `pack-${label}`, name: 'pack-check', scopes: ['users:read'] });
  assert.equal((await tokens.verify(token, { scopes: ['users:read'] })).ok, true, label);
  assert.equal((await tokens.revokeAll(`pack-${label}`)) >= 1, true, label);
  console.log(`${label}: issue → verify → revokeAll ok`);
  return tokens;
}

const tokens = await roundTrip(memoryStore(), 'memory');
const refused = await tokens.authenticate(new Request('https://x.test/'));
assert.equal(toResponse(refused.error).status, 401);
const admin = adminHandler({ tokens, authorize: () => ({ id: 'ops' }) });
assert.equal((await admin(new Request('https://x.test/admin/'))).status < 500, true, 'the admin page answers');
console.log('admin: handler answers');

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
await roundTrip(redisStore({ client: redis, keyPrefix: `pack-check-${process.pid}:` }), 'redis');
await redis.quit();

const pg = new PGlite();
await migrate(pg);
await roundTrip(postgresStore({ client: pg }), 'postgres (PGlite)');
await pg.close();

const mongo = new MongoClient('mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200');
const mstore = mongoStore({ db: mongo.db('pack') });
assert.equal(typeof mstore.consume, 'function');
assert.equal(typeof ensureIndexes, 'function');
const down = await createTokenAccess({ store: mstore }).verify((await tokens.issue({ subject: 'm', name: 'm' })).token);
assert.equal(!down.ok && down.error.code, 'unavailable');
await mongo.close();
console.log('mongodb: factory ok, unreachable server → unavailable');

const app = new Koa();
app.use(tokenAuth({ tokens }));
app.use(requireScopes('users:read'));
app.use((ctx) => {
  ctx.body = { subject: ctx.state.token.subject };
});
const server = app.listen(0);
const port = server.address().port;
const { token } = await tokens.issue({ subject: 'koa-user', name: 'k', scopes: ['users:read'] });
const ok = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${token}` } });
assert.deepEqual([ok.status, await ok.json()], [200, { subject: 'koa-user' }]);
const no = await fetch(`http://127.0.0.1:${port}/`);
assert.equal(no.status, 401);
assert.match(no.headers.get('www-authenticate'), /^Bearer realm=/);
server.close();
console.log('koa: tokenAuth + requireScopes ok');

const GET = withToken(async (_request, _ctx, t) => Response.json({ subject: t.subject }), { tokens, scopes: ['users:read'] });
const res = await GET(new Request('https://x.test/api', { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({}) });
assert.deepEqual([res.status, await res.json()], [200, { subject: 'koa-user' }]);
assert.equal(typeof tokenProxy({ tokens, rules: [] }), 'function');
console.log('next: withToken ok');
console.log('ESM: all good');
