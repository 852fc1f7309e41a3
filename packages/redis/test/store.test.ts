import { storeTestSuite } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { REDIS_URL, clientOptions, dropPrefix, randomPrefix } from './servers';

// Every test gets its own key prefix on the shared local Redis; cleanup drops it.
const client = new Redis(REDIS_URL, clientOptions);
const prefixes = new WeakMap<object, string>();
afterAll(() => client.quit());

storeTestSuite({
  name: 'redis',
  createStore: () => {
    const keyPrefix = randomPrefix();
    const store = redisStore({ client, keyPrefix });
    prefixes.set(store, keyPrefix);
    return store;
  },
  cleanup: (store) => dropPrefix(client, prefixes.get(store)!),
});

storeTestSuite({
  name: 'redis (script only, no read-first)',
  createStore: () => {
    const keyPrefix = randomPrefix();
    const store = redisStore({ client, keyPrefix, readFirst: false });
    prefixes.set(store, keyPrefix);
    return store;
  },
  cleanup: (store) => dropPrefix(client, prefixes.get(store)!),
});
