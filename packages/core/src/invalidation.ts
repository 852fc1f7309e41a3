// The change feed of the verify cache: how one process tells the others which cached records
// changed. Core owns the message format (one place); `@tokenaccess/redis`, `/postgres` and
// `/mongodb` carry it over their engine's pub/sub.

/** Whether a feed delivers messages now (`up`) or may be losing them (`down`). */
export type FeedState = 'up' | 'down';

/**
 * A change feed for the verify cache (`createTokenAccess({ cache: { invalidation } })`).
 *
 * A key is a stored token hash, or one of the markers {@link invalidationKey} builds (every token
 * of a subject, a token by id). `publish` sends keys to every subscribed process (this one
 * included); `subscribe` receives them, and hears `onState('up')` once messages flow and
 * `onState('down')` whenever some may be lost (a dead connection). A subscriber assumes `down`
 * until told `up`. Implementations: `redisInvalidation`, `postgresInvalidation`,
 * `mongoInvalidation`, and {@link memoryInvalidation} for one process.
 *
 * @example
 * ```ts
 * const off = feed.subscribe((keys) => console.log('changed', keys), (state) => console.log(state));
 * await feed.publish([info.hash]);
 * off();
 * ```
 */
export interface Invalidation {
  /** Sends `keys` to every subscriber. Rejects when the message could not be sent. */
  publish(keys: string[]): Promise<void>;
  /** Starts receiving; returns the function that stops it. */
  subscribe(onKeys: (keys: string[]) => void, onState: (state: FeedState) => void): () => void;
}

const ID = '#id:';
const SUBJECT = '#subject:';

/**
 * The keys of invalidation messages: a stored hash as is, or a marker for every token of a
 * subject (what `revokeAll` publishes) or for one token id (what a change stream that sees only
 * document ids publishes). No hash starts with `#`: hashes are hex, `<keyId>:<hex>` with a
 * pepper, or a legacy format's hash.
 *
 * @example
 * ```ts
 * await feed.publish([invalidationKey.hash(info.hash), invalidationKey.subject('user-1')]);
 * ```
 */
export const invalidationKey = {
  hash: (hash: string): string => hash,
  id: (id: string): string => `${ID}${id}`,
  subject: (subject: string): string => `${SUBJECT}${subject}`,
};

/** @internal What a key names. */
export function parseKey(key: string): { hash: string } | { id: string } | { subject: string } {
  if (key.startsWith(ID)) return { id: key.slice(ID.length) };
  if (key.startsWith(SUBJECT)) return { subject: key.slice(SUBJECT.length) };
  return { hash: key };
}

/**
 * Packs keys into message payloads of at most `maxBytes` UTF-8 bytes each (JSON arrays), for
 * feeds whose messages are strings of bounded size (PostgreSQL's NOTIFY takes under 8000 bytes).
 * A key too long for one message on its own is sent alone.
 *
 * @example
 * ```ts
 * for (const payload of encodeKeys(keys, 7900)) await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
 * ```
 */
export function encodeKeys(keys: readonly string[], maxBytes = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let size = 2;
  const enc = new TextEncoder();
  for (const key of keys) {
    const len = enc.encode(JSON.stringify(key)).length + 1;
    if (batch.length > 0 && size + len > maxBytes) {
      out.push(JSON.stringify(batch));
      batch = [];
      size = 2;
    }
    batch.push(key);
    size += len;
  }
  if (batch.length > 0) out.push(JSON.stringify(batch));
  return out;
}

/**
 * The keys of a payload {@link encodeKeys} made; anything else (another writer on the channel)
 * gives `[]`.
 *
 * @example
 * ```ts
 * subscriber.on('message', (_channel, payload) => onKeys(decodeKeys(payload)));
 * ```
 */
export function decodeKeys(payload: string): string[] {
  try {
    const v: unknown = JSON.parse(payload);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * An in-process feed: every `createTokenAccess` given the same instance sees the others' changes.
 * Always `up`. For tests and for apps that run several token services in one process; across
 * processes use the feed of your store.
 *
 * @example
 * ```ts
 * const feed = memoryInvalidation();
 * const a = createTokenAccess({ store, cache: { invalidation: feed } });
 * const b = createTokenAccess({ store, cache: { invalidation: feed } });
 * await a.revokeById(id); // b drops its cached record too
 * ```
 */
export function memoryInvalidation(): Invalidation {
  const subscribers = new Set<(keys: string[]) => void>();
  return {
    async publish(keys) {
      for (const s of [...subscribers]) s([...keys]);
    },
    subscribe(onKeys, onState) {
      subscribers.add(onKeys);
      onState('up');
      return () => void subscribers.delete(onKeys);
    },
  };
}
