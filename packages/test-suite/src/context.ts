import type { TokenStore } from '@tokenaccess/core/store';
import { afterEach, beforeEach } from 'vitest';

/** Options of `storeTestSuite`. */
export interface StoreTestSuiteOptions {
  /** Shown in the test names, e.g. `'redis (cluster)'`. */
  name: string;
  /** A fresh, empty store (own key prefix / schema / collection). Called before every test. */
  createStore: () => TokenStore | Promise<TokenStore>;
  /**
   * A second store over the same data as `store`: a new instance, as another process would make
   * (same client, key prefix, schema or collection). The suite reads through it what the first
   * one wrote, so an encoding that only the writing instance understands (a cache, a hint, a
   * value changed on the way in) shows. Not cleaned up separately. A store with no second
   * instance over the same data (the memory store) leaves it out: the suite then reads through
   * `store` itself. @default the same store
   */
  reopen?: (store: TokenStore) => TokenStore | Promise<TokenStore>;
  /** Drops what `createStore` made. Called after every test. */
  cleanup?: (store: TokenStore) => void | Promise<void>;
  /** Parallelism of the concurrency group. @default 200 */
  concurrency?: number;
}

/** @internal The store of the running test, and a second reader over its data. */
export interface Stores {
  /** The store `createStore` made for this test. */
  store: () => TokenStore;
  /** The store `reopen` made over the same data (or `store` itself without `reopen`). */
  reader: () => TokenStore;
}

/** @internal Gives each test a fresh store (and its second reader) and cleans it up. */
export function useStore(options: StoreTestSuiteOptions): Stores {
  let store: TokenStore | undefined;
  let reader: TokenStore | undefined;
  beforeEach(async () => {
    store = await options.createStore();
    reader = options.reopen ? await options.reopen(store) : store;
  });
  afterEach(async () => {
    if (store && options.cleanup) await options.cleanup(store);
    store = undefined;
    reader = undefined;
  });
  const none = () => new Error('[tokenaccess] [test-suite] no store: createStore did not run');
  return {
    store: () => {
      if (!store) throw none();
      return store;
    },
    reader: () => {
      if (!reader) throw none();
      return reader;
    },
  };
}
