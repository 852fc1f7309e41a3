import {
  TokenAccessError,
  checkListQuery,
  deadlines,
  judgeRead,
  storeMessage,
  sweepInBatches,
  type ConsumePolicy,
  type ConsumeResult,
  type Duration,
  type TokenStore,
} from '@tokenaccess/core/store';
import type { Collection, Db, Filter } from 'mongodb';
import { consumeFilter, consumeUpdate } from './consume';
import { fromDocument, toDocument, type TokenDocument } from './document';
import { mongoError } from './errors';
import { createIndexes } from './indexes';
import { patchUpdate } from './update';

/** Options of {@link mongoStore}. */
export interface MongoStoreOptions {
  /**
   * The database, from a `MongoClient` you create, connect (or let the driver connect on first
   * use) and close. Set `serverSelectionTimeoutMS`, `connectTimeoutMS` and `socketTimeoutMS` on
   * the client: they bound what the driver holds behind the store's `timeout` when the server is
   * unreachable (docs/stores/mongodb.md). Its read preference is not used: the store reads and
   * writes on the primary.
   */
  db: Db;
  /** The collection holding the tokens. @default 'tokenaccess_tokens' */
  collection?: string;
  /**
   * The longest a store call waits for MongoDB, in ms, before it throws `unavailable` (core
   * then answers 503): every store fails closed within 2 s by default. It also covers what
   * `serverSelectionTimeoutMS` does not: a connection that stops answering without closing.
   * Every command also carries it as `maxTimeMS`, so the server stops working on a call the
   * store has given up on and the connection comes back to the pool. `0` turns both off.
   * @default 2000
   */
  timeout?: Duration;
}

/** A {@link TokenStore} on MongoDB, with the collection it uses and its index setup. */
export interface MongoTokenStore extends TokenStore {
  /** The collection the tokens live in. */
  readonly collection: Collection<TokenDocument>;
  /** Creates the store's indexes (unique hash, listing, TTL). Idempotent; run it at deploy or startup. */
  ensureIndexes(): Promise<void>;
}

const DEFAULT_COLLECTION = 'tokenaccess_tokens';
const AFTER = { returnDocument: 'after', includeResultMetadata: false } as const;
const ONE = { includeResultMetadata: false } as const;
// on the insert only: in a filter, an undefined value left out would widen the match
const INSERT = { ignoreUndefined: true } as const;
// an index build on a large collection takes as long as it takes: errors mapped, no deadline
const unbounded = deadlines(0, mongoError);

/**
 * Every read and write of the store goes to the primary, whatever read preference the client or
 * the `Db` carries: `db.collection(name)` inherits it, and a `secondaryPreferred` client would
 * send the read-first `findOne` of `consume` to a secondary, which may not have the latest
 * revoke, disable, update or counted use yet (a revoked token would verify, a used-up link
 * would be judged by a stale count). Reads from the primary see every acknowledged write.
 */
const PRIMARY = { readPreference: 'primary' } as const;

/** @internal The collection of a store's options, opened with a primary read preference. */
export function tokenCollection(options: Pick<MongoStoreOptions, 'db' | 'collection'>): Collection<TokenDocument> {
  if (!options || typeof options.db?.collection !== 'function') {
    throw new TokenAccessError('invalid_argument', storeMessage('mongodb', '`db` must be a mongodb Db (client.db(name))'));
  }
  return options.db.collection<TokenDocument>(options.collection ?? DEFAULT_COLLECTION, PRIMARY);
}

const toRecord = (doc: TokenDocument | null) => (doc === null ? null : fromDocument(doc));

/**
 * A {@link TokenStore} on MongoDB (official `mongodb` driver). `consume` reads first and, when a
 * use must be counted or `lastUsedAt` touched, runs one `findOneAndUpdate` whose filter holds
 * every check; expired and used-up tokens are removed by a TTL index (see
 * {@link MongoTokenStore.ensureIndexes}; a used-up token is kept until its deadline, or 30 days
 * after its last use without one, answering `exhausted`) and by `sweep`.
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
 * {@link mongoStore} uses) is core's read-first path (`judgeRead`): a plain `findOne`, and the
 * atomic `findOneAndUpdate` only to count a use or touch `lastUsedAt`. `readFirst: false` always
 * runs `findOneAndUpdate`: one round trip less for counted tokens, but every verify becomes a
 * write command on the primary, and a refusal is explained by a read made after the update, so a
 * request with a wrong URL racing the use that exhausts the token may be told `exhausted` rather
 * than `url_mismatch`. Kept for `bench/mongodb`, which measures both.
 */
export function createMongoStore(options: MongoStoreOptions, strategy: { readFirst: boolean }): MongoTokenStore {
  const coll = tokenCollection(options);
  // every call runs under core's one deadline watcher, which maps every failure through mongoError
  const calls = deadlines(options.timeout ?? 2000, mongoError);
  // the server gives up when the store does: a call abandoned on a slow server (not a dead path:
  // there only socketTimeoutMS frees the connection) does not keep it out of the pool
  const max = calls.timeout > 0 ? { maxTimeMS: calls.timeout } : {};
  const after = { ...AFTER, ...max };
  const one = { ...ONE, ...max };

  /** The atomic step. A miss is explained by a fresh read, which core judges; if that read now passes, the record changed in between (revoked and re-issued, say): try again, a bounded number of times. */
  const atomic = (hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult> => {
    const filter = consumeFilter(hash, now, policy) as Filter<TokenDocument>;
    const update = consumeUpdate(now, policy);
    const attempt = async (left: number): Promise<ConsumeResult> => {
      const doc = await coll.findOneAndUpdate(filter, update, after);
      if (doc) return { ok: true, record: fromDocument(doc) };
      return judgeRead(toRecord(await coll.findOne({ hash }, max)), now.getTime(), policy, () => {
        if (left > 1) return attempt(left - 1);
        throw new TokenAccessError('unavailable', storeMessage('mongodb', 'consume: the record kept changing under the update'));
      });
    };
    return calls.run('consume', () => attempt(3));
  };

  /**
   * `op` on the document with this id, addressed by id and hash: on a collection sharded by hash
   * (docs/stores/mongodb.md), findAndModify needs the shard key in its filter on servers before 7.1.
   */
  const byId = async (id: string, op: (filter: Filter<TokenDocument>) => Promise<TokenDocument | null>) => {
    const found = await coll.findOne({ _id: id }, { projection: { hash: 1 }, ...max });
    return found ? toRecord(await op({ _id: id, hash: found.hash })) : null;
  };

  return {
    collection: coll,
    // every call is bounded by `timeout` here, so core need not add its own guard
    ...(calls.timeout > 0 ? { callTimeout: calls.timeout } : {}),

    ensureIndexes: () => unbounded.run('ensureIndexes', () => createIndexes(coll)),

    insert: (record) =>
      calls.run('insert', async () => {
        await coll.insertOne(toDocument(record), { ...INSERT, ...max });
      }),

    findByHash: (hash) => calls.then('findByHash', coll.findOne({ hash }, max), toRecord),

    findById: (id) => calls.then('findById', coll.findOne({ _id: id }, max), toRecord),

    consume: strategy.readFirst
      ? (hash, now, policy) =>
          calls.then('consume', coll.findOne({ hash }, max), (doc) => judgeRead(toRecord(doc), now.getTime(), policy, () => atomic(hash, now, policy)))
      : atomic,

    list: (query) =>
      calls.run('list', async () => {
        const { subject, kind, parentId, expiringBefore, cursor, limit } = checkListQuery('mongodb', query);
        const filter: Filter<TokenDocument> = {};
        if (subject !== undefined) filter.subject = subject;
        if (kind !== undefined) filter.kind = kind;
        if (parentId !== undefined) filter.parentId = parentId;
        if (expiringBefore !== undefined) filter.expiresAt = { $lt: expiringBefore };
        if (cursor !== undefined) filter._id = { $gt: cursor };
        // one more than a page tells whether another page follows
        const docs = await coll.find(filter, { sort: { _id: 1 }, limit: limit + 1, ...max }).toArray();
        const items = docs.slice(0, limit).map(fromDocument);
        return docs.length > limit ? { items, cursor: items[items.length - 1]!.id } : { items };
      }),

    update: (id, patch) => calls.run('update', () => byId(id, (filter) => coll.findOneAndUpdate(filter, patchUpdate(patch), after))),

    deleteById: (id) => calls.run('deleteById', () => byId(id, (filter) => coll.findOneAndDelete(filter, one))),

    deleteByHash: (hash) => calls.then('deleteByHash', coll.findOneAndDelete({ hash }, one), toRecord),

    deleteBySubject: (subject) => calls.then('deleteBySubject', coll.deleteMany({ subject }, max), (r) => r.deletedCount),

    sweep: (now, opts) => {
      // dead at now: past its deadline (a range on the TTL index), or used up for good (a sparse
      // index; such a token's purgeAt may lie far ahead; a refilling token never has `usedUp`).
      const dead: Filter<TokenDocument> = { $or: [{ purgeAt: { $lte: now } }, { usedUp: true }] };
      let done = 0;
      let batch = 0;
      // Each batch is its own call under its own deadline (and maxTimeMS), and keeps no cursor or
      // offset: what is left is found afresh by the filter. So a batch that fails (timeout, a
      // failover) loses nothing: the batches before it are deleted and reported, and running
      // sweep again resumes where it stopped.
      return sweepInBatches('mongodb', opts, (size) =>
        calls.run(`sweep batch ${++batch} (${done} deleted before it; sweep again resumes)`, async () => {
          const ids = (await coll.find(dead, { projection: { _id: 1 }, limit: size, ...max }).toArray()).map((d) => d._id);
          if (ids.length === 0) return { deleted: 0, more: false };
          // the filter is repeated so a document replaced in between is judged afresh
          const { deletedCount } = await coll.deleteMany({ _id: { $in: ids }, ...dead }, max);
          done += deletedCount;
          return { deleted: deletedCount, more: ids.length === size };
        }),
      );
    },
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
export function ensureIndexes(options: Pick<MongoStoreOptions, 'db' | 'collection'>): Promise<void> {
  return unbounded.run('ensureIndexes', () => createIndexes(tokenCollection(options)));
}
