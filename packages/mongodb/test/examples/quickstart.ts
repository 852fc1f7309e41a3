// The example of docs/stores/mongodb.md and the README, run by test/example.test.ts.
import { createTokenAccess } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { MongoClient } from 'mongodb';

export async function quickstart(url = 'mongodb://127.0.0.1:27017/?serverSelectionTimeoutMS=2000', dbName = 'app') {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 }); // yours: created, configured and closed by you
  const store = mongoStore({ db: client.db(dbName) }); // collection 'tokenaccess_tokens'
  const tokens = createTokenAccess({ store });
  try {
    await store.ensureIndexes(); // idempotent: at deploy or startup

    // an API token: the raw token is shown once; MongoDB stores only its hash
    const { token } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['repo:read'] });
    const api = await tokens.verify(token, { scopes: ['repo:read'] });

    // a one-time share link
    const share = await tokens.issueUrl({ url: 'https://example.com/files?id=7', expiresIn: '1d', maxUses: 1 });
    const first = await tokens.verifyUrl(share.url);
    const second = await tokens.verifyUrl(share.url);

    return { api: api.ok, first: first.ok, second: second.ok ? 'ok' : second.error.code };
  } finally {
    await client.close();
  }
}
