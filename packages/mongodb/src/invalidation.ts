import { type FeedState, type Invalidation, invalidationKey } from '@tokenaccess/core';
import type { ChangeStream, Db } from 'mongodb';

/** Options of {@link mongoInvalidation}. */
export interface MongoInvalidationOptions {
  /** The database of the store (a replica set or sharded cluster: change streams need an oplog). */
  db: Db;
  /** The store's collection. @default 'tokenaccess_tokens' */
  collection?: string;
  /** Delays before the change stream is opened again after it failed, in ms: doubling from `min` to `max`. @default { min: 500, max: 30000 } */
  backoff?: { min?: number; max?: number };
}

/** The feed {@link mongoInvalidation} returns. */
export interface MongoInvalidation extends Invalidation {
  /** `up` while the change stream is open (it has answered its first batch). */
  readonly state: FeedState;
  /** Why the change stream last failed, e.g. a standalone server, which has no change streams. */
  readonly error: unknown;
  /** Closes the change stream. */
  close(): Promise<void>;
}

type ChangeEvent = { operationType?: string; documentKey?: { _id?: unknown }; fullDocument?: { hash?: unknown } | null };

/**
 * The verify cache's change feed on MongoDB: a change stream on the tokens collection. Every
 * insert, update, replace and delete of a token is the message (whoever wrote it: this app, the
 * CLI, a script), so `publish` sends nothing. An update or replace names the token's hash (the
 * stream looks the document up), a delete its id (the cache knows the hash of what it holds).
 * While the driver resumes the stream after a network error, nothing is lost (it resumes after
 * the last event); when the stream fails for good it is `down` and is opened again with backoff.
 * Change streams need a replica set or a sharded cluster: on a standalone server the feed stays
 * `down` (see `error`), and the cache keeps entries only `downTtl`.
 *
 * @example
 * ```ts
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { mongoInvalidation, mongoStore } from '@tokenaccess/mongodb';
 *
 * const feed = mongoInvalidation({ db });
 * const tokens = createTokenAccess({ store: mongoStore({ db }), cache: { ttl: '30s', invalidation: feed } });
 * // on shutdown: await feed.close();
 * ```
 */
export function mongoInvalidation(options: MongoInvalidationOptions): MongoInvalidation {
  if (!options || typeof options.db?.collection !== 'function') throw new TypeError('[tokenaccess] [mongodb] mongoInvalidation needs { db } (a mongodb Db)');
  const coll = options.db.collection(options.collection ?? 'tokenaccess_tokens');
  const min = options.backoff?.min ?? 500;
  const max = options.backoff?.max ?? 30_000;
  const listeners = new Set<{ keys: (keys: string[]) => void; state: (s: FeedState) => void }>();
  let state: FeedState = 'down';
  let error: unknown;
  let stream: ChangeStream | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let delay = min;
  let closed = false;

  const setState = (next: FeedState) => {
    if (next === state) return;
    state = next;
    for (const l of [...listeners]) l.state(next);
  };

  function keysOf(ev: ChangeEvent): string[] {
    const keys: string[] = [];
    if (ev.documentKey?._id !== undefined) keys.push(invalidationKey.id(String(ev.documentKey._id)));
    if (typeof ev.fullDocument?.hash === 'string') keys.push(invalidationKey.hash(ev.fullDocument.hash));
    return keys;
  }

  function lost(s: ChangeStream, e?: unknown) {
    // the driver may close the stream before it emits the error that closed it
    if (e !== undefined) error = e;
    if (stream !== s) return;
    stream = undefined;
    setState('down');
    // after its error; on its `close` the driver may still be about to emit the error that closed it
    if (e !== undefined) s.close().catch(() => {});
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      open();
    }, delay);
    retry.unref?.();
    delay = Math.min(max, delay * 2);
  }

  function open() {
    if (closed) return;
    const s = coll.watch([{ $match: { operationType: { $in: ['insert', 'update', 'replace', 'delete'] } } }], { fullDocument: 'updateLookup' });
    stream = s;
    s.on('change', (ev: ChangeEvent) => {
      const keys = keysOf(ev);
      if (keys.length > 0) for (const l of [...listeners]) l.keys(keys);
    });
    // the first batch (and every later one) carries a resume token: the stream is open
    s.on('resumeTokenChanged', () => {
      if (stream !== s) return;
      delay = min;
      setState('up');
    });
    s.on('error', (e) => lost(s, e));
    s.on('close', () => lost(s));
  }

  return {
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    // the collection's own writes are the messages
    publish: async () => {},
    subscribe(onKeys, onState) {
      const l = { keys: onKeys, state: onState };
      listeners.add(l);
      if (!stream && !retry && !closed) open();
      if (state === 'up') onState('up');
      return () => void listeners.delete(l);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      setState('down');
      listeners.clear();
      const s = stream;
      stream = undefined;
      await s?.close().catch(() => {});
    },
  };
}
