import type { TokenStore } from '@tokenaccess/core';
import { afterEach, beforeEach } from 'vitest';

/** Options of `storeTestSuite`. */
export interface StoreTestSuiteOptions {
  /** Shown in the test names, e.g. `'redis (cluster)'`. */
  name: string;
  /** A fresh, empty store (own key prefix / schema / collection). Called before every test. */
  createStore: () => TokenStore | Promise<TokenStore>;
  /** Drops what `createStore` made. Called after every test. */
  cleanup?: (store: TokenStore) => void | Promise<void>;
  /** Parallelism of the concurrency group. @default 200 */
  concurrency?: number;
}

/** @internal Gives each test a fresh store and cleans it up. */
export function useStore(options: StoreTestSuiteOptions): () => TokenStore {
  let store: TokenStore | undefined;
  beforeEach(async () => {
    store = await options.createStore();
  });
  afterEach(async () => {
    if (store && options.cleanup) await options.cleanup(store);
    store = undefined;
  });
  return () => {
    if (!store) throw new Error('[tokenaccess] [test-suite] no store: createStore did not run');
    return store;
  };
}
