import type { TokenStore } from '@tokenaccess/core/store';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { mongoStore, type MongoTokenStore } from '@tokenaccess/mongodb';
import { DB_NAME, backend, randomName, useClient } from './helpers';

const { client, db } = useClient();

// On a mongos, TOKENACCESS_MONGODB_SHARD_COLLECTIONS=1 shards every collection the suite
// creates on { hash: 1 }, as docs/stores/mongodb.md advises (scripts/mongo-real.sh sets it).
const shard = process.env.TOKENACCESS_MONGODB_SHARD_COLLECTIONS === '1';
let shardingEnabled: Promise<unknown> | undefined;

// Semantics, not deadlines (fault.test.ts has those): on a loaded machine the stand-in can take
// over 2 s for 200 parallel consumes, which must not read as a conformance failure.
const timeout = 30_000;

storeTestSuite({
  name: `mongodb on ${backend.kind}`,
  createStore: async () => {
    const store = mongoStore({ db, collection: randomName(), timeout });
    await store.ensureIndexes();
    if (shard) {
      const admin = client.db('admin');
      // needed before 6.0; later servers answer ok (or, on some versions, AlreadyInitialized)
      await (shardingEnabled ??= admin.command({ enableSharding: DB_NAME }).catch(() => {}));
      await admin.command({ shardCollection: `${DB_NAME}.${store.collection.collectionName}`, key: { hash: 1 }, unique: true });
    }
    return store;
  },
  // another instance on the same collection, as another process would have
  reopen: (store: TokenStore) => mongoStore({ db, collection: (store as MongoTokenStore).collection.collectionName, timeout }),
  cleanup: async (store: TokenStore) => {
    await (store as MongoTokenStore).collection.drop();
  },
});
