// (b) CommonJS: the same packages through require(), from the packed tarballs.
const assert = require('node:assert/strict');
const { createTokenAccess, memoryStore, TokenAccessError, cryptoProvider } = require('@tokenaccess/core');
const { redisStore } = require('@tokenaccess/redis');
const { postgresStore, migrate } = require('@tokenaccess/postgres');
const { mongoStore } = require('@tokenaccess/mongodb');
const { tokenAuth, requireScopes, requireAnyScope } = require('@tokenaccess/koa');
const { adminHandler } = require('@tokenaccess/admin');
if (typeof adminHandler !== 'function') throw new Error('admin: no adminHandler');
const { withToken, tokenProxy, getToken, requireToken } = require('@tokenaccess/next');

(async () => {
  assert.equal(cryptoProvider.name, 'node:crypto');
  const tokens = createTokenAccess({ store: memoryStore() });
  const share = await tokens.issueUrl({ url: 'https://x.test/files?id=7' });
  assert.equal((await tokens.verifyUrl(share.url)).ok, true);
  assert.equal((await tokens.verifyUrl(share.url)).ok, false);
  await assert.rejects(tokens.issue({ subject: '', name: 'x' }), TokenAccessError);
  for (const f of [redisStore, postgresStore, migrate, mongoStore, tokenAuth, requireScopes, requireAnyScope, withToken, tokenProxy, getToken, requireToken]) {
    assert.equal(typeof f, 'function');
  }
  console.log('CJS: all good');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
