/**
 * @module
 * MongoDB store for tokenaccess, on the official `mongodb` driver (a `Db` you create).
 *
 * ```sh
 * npm install @tokenaccess/mongodb @tokenaccess/core mongodb
 * ```
 *
 * Document layout, indexes, TTL, sharding and client options: `docs/stores/mongodb.md`.
 */
export { mongoStore, ensureIndexes, type MongoStoreOptions, type MongoTokenStore } from './store';
export type { TokenDocument } from './document';
export { INDEXES } from './indexes';
export { mongoInvalidation, type MongoInvalidation, type MongoInvalidationOptions } from './invalidation';
