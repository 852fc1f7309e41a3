import type { TokenStore } from '@tokenaccess/core/store';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { mongoStore, type MongoTokenStore } from '@tokenaccess/mongodb';
import { backend, randomName, useClient } from './helpers';

const { db } = useClient();

// Semantics, not deadlines (fault.test.ts has those): on a loaded machine the stand-in can take
// over 2 s for 200 parallel consumes, which must not read as a conformance failure.
const timeout = 30_000;

storeTestSuite({
  name: `mongodb on ${backend.kind}`,
  createStore: async () => {
    const store = mongoStore({ db, collection: randomName(), timeout });
    await store.ensureIndexes();
    return store;
  },
  // another instance on the same collection, as another process would have
  reopen: (store: TokenStore) => mongoStore({ db, collection: (store as MongoTokenStore).collection.collectionName, timeout }),
  cleanup: async (store: TokenStore) => {
    await (store as MongoTokenStore).collection.drop();
  },
});
