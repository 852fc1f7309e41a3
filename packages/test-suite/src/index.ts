/**
 * @module @tokenaccess/test-suite
 *
 * The conformance suite every tokenaccess store must pass: the definition of a correct store.
 * `npm install -D @tokenaccess/test-suite vitest`
 */
import { describe } from 'vitest';
import { atomicTests } from './atomic';
import { basicTests } from './basic';
import { consumeTests } from './consume';
import { metadataTests } from './metadata';
import { type StoreTestSuiteOptions, useStore } from './context';
import { serviceTests } from './e2e';
import { securityTests } from './security';
import { sweepTests } from './sweep';
import { updateTests } from './update';
import { lifecycleTests } from './lifecycle';
import { rateLimitTests } from './rate-limit';

export type { StoreTestSuiteOptions } from './context';
export { record, urlRecord, plain, at, randomSubject } from './fixtures';
export { limitMetadata } from './metadata';

/**
 * Registers the conformance suite (vitest) for a store. Call it at the top level of a test
 * file; every test gets a fresh store from `createStore` and hands it to `cleanup`.
 *
 * @example
 * ```ts
 * import { storeTestSuite } from '@tokenaccess/test-suite';
 * import { memoryStore } from '@tokenaccess/core';
 *
 * storeTestSuite({ name: 'memory', createStore: () => memoryStore() });
 * ```
 */
export function storeTestSuite(options: StoreTestSuiteOptions): void {
  describe(`TokenStore conformance: ${options.name}`, () => {
    const { store, reader } = useStore(options);
    basicTests(store);
    metadataTests(store, reader);
    consumeTests(store, reader);
    sweepTests(store);
    atomicTests(store, reader, options.concurrency ?? 200);
    serviceTests(store, reader);
    securityTests(store);
    updateTests(store, reader);
    lifecycleTests(store, reader, options.concurrency ?? 200);
    rateLimitTests(store, reader, options.concurrency ?? 200);
  });
}
