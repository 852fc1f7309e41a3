import type { TokenStore } from '@tokenaccess/core';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { mongoStore, type MongoTokenStore } from '@tokenaccess/mongodb';
import { backend, randomName, useClient } from './helpers';

const { db } = useClient();

storeTestSuite({
  name: `mongodb on ${backend.kind}`,
  createStore: async () => {
    const store = mongoStore({ db, collection: randomName() });
    await store.ensureIndexes();
    return store;
  },
  cleanup: async (store: TokenStore) => {
    await (store as MongoTokenStore).collection.drop();
  },
});
