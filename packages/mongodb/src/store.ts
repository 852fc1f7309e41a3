import {
  TokenAccessError,
  evaluateConsume,
  type ConsumePolicy,
  type ConsumeResult,
  type ListPage,
  type ListQuery,
  type SweepOptions,
  type TokenStore, withTimeout } from '@tokenaccess/core';
import type { Collection, Db, Filter } from 'mongodb';
import { consumeFilter, consumeUpdate } from './consume';
import { fromDocument, toDocument, type TokenDocument } from './document';
import { storeError } from './errors';
import { createIndexes } from './indexes';

/** Options of {@link mongoStore}. */
export interface MongoStoreOptions {
  /**
   * The database, from a `MongoClient` you create, connect (or let the driver connect on first
   * use) and close. Set `serverSelectionTimeoutMS` on the client: it bounds how long a call
   * waits for an unreachable server before it throws (core then answers 503).
   */
  db: Db;
  /** The collection holding the tokens. @default 'tokenaccess_tokens' */
  collection?: string;
  /**
   * The longest a store call waits for MongoDB, in ms, before it throws `unavailable` (core
   * then answers 503): every store fails closed within 2 s by default. It also covers what
   * `serverSelectionTimeoutMS` does not: a connection that stops answering without closing.
   * `0` turns it off. @default 2000
   */
  timeout?: number;
}

/** A {@link TokenStore} on MongoDB, with the collection it uses and its index setup. */
export interface MongoTokenStore extends TokenStore {
  /** The collection the tokens live in. */
  readonly collection: Collection<TokenDocument>;
  /** Creates the store's indexes (unique hash, listing, TTL). Idempotent; run it at deploy or startup. */
  ensureIndexes(): Promise<void>;
}

const DEFAULT_COLLECTION = 'tokenaccess_tokens';

/** @internal The collection of a store's options. */
export function tokenCollection(options: Pick<MongoStoreOptions, 'db' | 'collection'>): Collection<TokenDocument> {
  if (!options || typeof options.db?.collection !== 'function') {
    throw new TokenAccessError('invalid_argument', '[tokenaccess] [mongodb] `db` must be a mongodb Db (client.db(name))');
  }
  return options.db.collection<TokenDocument>(options.collection ?? DEFAULT_COLLECTION);
}

function checkCursor(cursor: string): string {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 128) {
    throw new TokenAccessError('invalid_argument', '[tokenaccess] [mongodb] cursor is not one this store returned');
  }
  return cursor;
}

/**
 * A {@link TokenStore} on MongoDB (official `mongodb` driver). `consume` is one
 * `findOneAndUpdate` whose filter holds every check; expired and used-up tokens are removed by a
 * TTL index (see {@link MongoTokenStore.ensureIndexes}; a used-up token is kept until its
 * deadline, or 30 days after its last use without one, answering `exhausted`) and by `sweep`.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { mongoStore } from '@tokenaccess/mongodb';
 *
 * const client = new MongoClient('mongodb://127.0.0.1:27017/?serverSelectionTimeoutMS=2000');
 * const store = mongoStore({ db: client.db('app') });
 * await store.ensureIndexes();
 * const tokens = createTokenAccess({ store });
 * ```
 */
export function mongoStore(options: MongoStoreOptions): MongoTokenStore {
  return createMongoStore(options, { readFirst: true });
}

/**
 * @internal The store, with the `consume` strategy as a switch. `readFirst: true` (what
 * {@link mongoStore} uses) serves `consume` from a plain `findOne` when nothing must be written
 * and runs the atomic `findOneAndUpdate` only to count a use or touch `lastUsedAt`.
 * `readFirst: false` always runs `findOneAndUpdate`: one round trip less for counted tokens, but
 * every verify becomes a write command on the primary, and a refusal is explained by a read
 * made after the update, so a request with a wrong URL racing the use that exhausts the token
 * may be told `exhausted` rather than `url_mismatch`. Kept for `bench/mongodb`, which measures
 * both (docs/stores/mongodb.md has the figures).
 */
export function createMongoStore(options: MongoStoreOptions, strategy: { readFirst: boolean }): MongoTokenStore {
  const coll = tokenCollection(options);
  const { readFirst } = strategy;
  const timeout = options.timeout ?? 2000;
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new TokenAccessError('invalid_argument', `[tokenaccess] [mongodb] timeout must be a number of ms, 0 or more (got ${timeout})`);
  }

  // An unreachable server is bounded by serverSelectionTimeoutMS, but a connection that stops
  // answering without closing holds an operation until the socket times out (by default, never).
  const late = (what: string) => `[tokenaccess] [mongodb] ${what} failed: no answer from MongoDB within ${timeout} ms`;

  /** A store call: bounded by `timeout` as a whole, or step by step (`perStep`) for long ones. */
  const run = async <T>(what: string, op: () => Promise<T>, perStep = false): Promise<T> => {
    try {
      return await (perStep ? op() : withTimeout(op(), timeout, late(what)));
    } catch (err) {
      throw storeError(what, err);
    }
  };
  const step = <T>(what: string, p: Promise<T>) => withTimeout(p, timeout, late(what));

  const findByHash = (hash: string) => coll.findOne({ hash });

  /** The reason `consume` was refused, from a fresh read; null if the record now passes. */
  const refusal = async (hash: string, t: number, policy: ConsumePolicy): Promise<ConsumeResult | null> => {
    const doc = await findByHash(hash);
    if (!doc) return { ok: false, reason: 'not_found' };
    const record = fromDocument(doc);
    const out = evaluateConsume(record, t, policy);
    return out.ok ? null : { ok: false, reason: out.reason, record };
  };

  const atomic = async (hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult> => {
    const filter = consumeFilter(hash, now, policy) as Filter<TokenDocument>;
    const update = consumeUpdate(now, policy);
    // A refusal followed by a read that passes means the record changed in between (revoked
    // and re-issued with the same hash, say): try again, a bounded number of times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const doc = await coll.findOneAndUpdate(filter, update, { returnDocument: 'after', includeResultMetadata: false });
      if (doc) return { ok: true, record: fromDocument(doc) };
      const refused = await refusal(hash, now.getTime(), policy);
      if (refused) return refused;
    }
    throw new TokenAccessError('unavailable', '[tokenaccess] [mongodb] consume: the record kept changing under the update');
  };

  return {
    collection: coll,
    // every call is bounded by `timeout` here, so core need not add its own guard
    ...(timeout > 0 ? { callTimeout: timeout } : {}),

    // an index build on a large collection takes as long as it takes: no timeout
    ensureIndexes: () => run('ensureIndexes', () => createIndexes(coll), true),

    insert: (record) =>
      run('insert', async () => {
        await coll.insertOne(toDocument(record));
      }),

    findByHash: (hash) => run('findByHash', async () => {
      const doc = await findByHash(hash);
      return doc ? fromDocument(doc) : null;
    }),

    findById: (id) => run('findById', async () => {
      const doc = await coll.findOne({ _id: id });
      return doc ? fromDocument(doc) : null;
    }),

    consume: (hash, now, policy) =>
      run('consume', async () => {
        if (!readFirst) return atomic(hash, now, policy);
        const doc = await findByHash(hash);
        if (!doc) return { ok: false, reason: 'not_found' };
        const record = fromDocument(doc);
        const out = evaluateConsume(record, now.getTime(), policy);
        if (!out.ok) return { ok: false, reason: out.reason, record };
        if (!out.write) return { ok: true, record };
        // The read says a use must be counted or lastUsedAt touched: the atomic update re-checks
        // everything against the current document.
        return atomic(hash, now, policy);
      }),

    list: (query: ListQuery): Promise<ListPage> =>
      run('list', async () => {
        const limit = query.limit;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new TokenAccessError('invalid_argument', `[tokenaccess] [mongodb] list limit must be an integer from 1 to 1000 (got ${limit})`);
        }
        const filter: Filter<TokenDocument> = {};
        if (query.subject !== undefined) filter.subject = query.subject;
        if (query.kind !== undefined) filter.kind = query.kind;
        if (query.cursor !== undefined) filter._id = { $gt: checkCursor(query.cursor) };
        // one more than a page tells whether another page follows
        const docs = await coll.find(filter, { sort: { _id: 1 }, limit: limit + 1 }).toArray();
        const items = docs.slice(0, limit).map(fromDocument);
        return docs.length > limit ? { items, cursor: items[items.length - 1]!.id } : { items };
      }),

    deleteById: (id) =>
      run('deleteById', async () => {
        // Look the hash up first: on a collection sharded by hash (docs/stores/mongodb.md),
        // findAndModify needs the shard key in its filter on servers before 7.1.
        const found = await coll.findOne({ _id: id }, { projection: { hash: 1 } });
        if (!found) return null;
        const doc = await coll.findOneAndDelete({ _id: id, hash: found.hash }, { includeResultMetadata: false });
        return doc ? fromDocument(doc) : null;
      }),

    deleteByHash: (hash) => run('deleteByHash', async () => {
      const doc = await coll.findOneAndDelete({ hash }, { includeResultMetadata: false });
      return doc ? fromDocument(doc) : null;
    }),

    deleteBySubject: (subject) => run('deleteBySubject', async () => (await coll.deleteMany({ subject })).deletedCount),

    sweep: (now: Date, opts: SweepOptions = {}) =>
      run('sweep', async () => {
        const batchSize = opts.batchSize ?? 1000;
        if (!Number.isInteger(batchSize) || batchSize < 1) {
          throw new TokenAccessError('invalid_argument', `[tokenaccess] [mongodb] sweep batchSize must be a positive integer (got ${batchSize})`);
        }
        // Dead at now: past its deadline (a range on the TTL index), or used up (a sparse index;
        // a used-up token's purgeAt may lie far ahead)
        const dead: Filter<TokenDocument> = { $or: [{ purgeAt: { $lte: now } }, { usedUp: true }] };
        let deleted = 0;
        for (;;) {
          const ids = (await step('sweep', coll.find(dead, { projection: { _id: 1 }, limit: batchSize }).toArray())).map((d) => d._id);
          if (ids.length > 0) {
            // the filter is repeated so a document replaced in between is judged afresh
            deleted += (await step('sweep', coll.deleteMany({ _id: { $in: ids }, ...dead }))).deletedCount;
          }
          if (ids.length > 0 || deleted === 0) opts.onProgress?.(deleted);
          if (ids.length < batchSize) return deleted;
        }
      }, true),
  };
}

/**
 * Creates the indexes of a store's collection without building a store, for a deploy script.
 *
 * @example
 * ```ts
 * import { ensureIndexes } from '@tokenaccess/mongodb';
 * await ensureIndexes({ db: client.db('app') });
 * ```
 */
export async function ensureIndexes(options: Pick<MongoStoreOptions, 'db' | 'collection'>): Promise<void> {
  try {
    await createIndexes(tokenCollection(options));
  } catch (err) {
    throw storeError('ensureIndexes', err);
  }
}
