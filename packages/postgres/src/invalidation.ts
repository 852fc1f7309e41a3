import { type FeedState, type Invalidation, decodeKeys, encodeKeys } from '@tokenaccess/core';
import type { Queryable } from './client';

/**
 * A connection that LISTENs: a `pg` `Client` or `PoolClient` (it emits `notification`, `error`
 * and `end`). Held for the life of the feed, so it is never one a pool hands to others.
 */
export interface ListenConnection {
  query(text: string, values?: unknown[]): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (...args: unknown[]) => void): unknown;
  removeAllListeners?(event?: string): unknown;
  /** A `pg` `Client`: closed by `end()`. */
  end?(): unknown;
  /** A `PoolClient`: given back (destroyed) by `release(error)`. */
  release?(destroy?: boolean | Error): void;
}

/** PGlite's own LISTEN (one process: its notifications never leave it). */
interface PgliteListen {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Options of {@link postgresInvalidation}. */
export interface PostgresInvalidationOptions {
  /**
   * Publishes with `SELECT pg_notify(channel, payload)`: a `pg` Pool (whose `connect()` also
   * gives the listening connection, unless `listener` is set), a PGlite instance (which listens
   * through its own `listen()`), or any `Queryable` together with `listener`.
   */
  client: Queryable;
  /** Opens the dedicated listening connection (called again after each loss). @default client.connect() */
  listener?: () => Promise<ListenConnection>;
  /** The NOTIFY channel (an identifier: letters, digits, `_`). @default 'tokenaccess_invalidate' */
  channel?: string;
  /** How often the listening connection runs `SELECT 1`, in ms: one that does not answer within it is dropped and reopened. `0` turns it off. @default 5000 */
  heartbeat?: number;
  /** Reconnection delays, in ms: doubling from `min` to `max`. @default { min: 100, max: 5000 } */
  backoff?: { min?: number; max?: number };
}

/** The feed {@link postgresInvalidation} returns. */
export interface PostgresInvalidation extends Invalidation {
  /** `up` while the listening connection is LISTENing and answering. */
  readonly state: FeedState;
  /** Stops listening and closes (or releases) the listening connection. */
  close(): Promise<void>;
}

// NOTIFY takes a payload under 8000 bytes
const MAX_PAYLOAD = 7900;

const msg = (text: string) => `[tokenaccess] [postgres] ${text}`;

/**
 * The verify cache's change feed on PostgreSQL `LISTEN` / `NOTIFY`: `pg_notify` on your client,
 * `LISTEN` on one dedicated connection (from your Pool, or from `listener`), reopened with
 * backoff and LISTENed again whenever it is lost; it is `down` from the loss until LISTEN
 * succeeds again. A NOTIFY sent inside a transaction is delivered at its commit. With PGlite, the
 * notifications stay in the one process that holds the database.
 *
 * @example
 * ```ts
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { postgresInvalidation, postgresStore } from '@tokenaccess/postgres';
 *
 * const feed = postgresInvalidation({ client: pool });
 * const tokens = createTokenAccess({ store: postgresStore({ client: pool }), cache: { ttl: '30s', invalidation: feed } });
 * // on shutdown: await feed.close();
 * ```
 */
export function postgresInvalidation(options: PostgresInvalidationOptions): PostgresInvalidation {
  if (!options || typeof options.client?.query !== 'function') throw new TypeError(msg('postgresInvalidation needs { client } (a pg Pool, PGlite, or a Queryable with a listener)'));
  const { client } = options;
  const channel = options.channel ?? 'tokenaccess_invalidate';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(channel)) throw new TypeError(msg(`channel must be an identifier of letters, digits and _ (got ${JSON.stringify(channel)})`));
  const heartbeat = options.heartbeat ?? 5000;
  const min = options.backoff?.min ?? 100;
  const max = options.backoff?.max ?? 5000;
  const pglite = typeof (client as Partial<PgliteListen>).listen === 'function' && !options.listener ? (client as unknown as PgliteListen) : undefined;
  const connect =
    options.listener ??
    (typeof (client as { connect?: unknown }).connect === 'function' ? () => (client as unknown as { connect(): Promise<ListenConnection> }).connect() : undefined);
  if (!pglite && !connect) throw new TypeError(msg('postgresInvalidation needs a client with connect() (a pg Pool) or a `listener` to open the LISTEN connection'));

  const listeners = new Set<{ keys: (keys: string[]) => void; state: (s: FeedState) => void }>();
  let state: FeedState = 'down';
  let started = false;
  let closed = false;
  let conn: ListenConnection | undefined;
  let stopPglite: (() => Promise<void>) | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let delay = min;

  const setState = (next: FeedState) => {
    if (next === state) return;
    state = next;
    for (const l of [...listeners]) l.state(next);
  };
  const deliver = (payload: string | undefined) => {
    const keys = payload ? decodeKeys(payload) : [];
    if (keys.length > 0) for (const l of [...listeners]) l.keys(keys);
  };

  /** Drops the connection (it is broken: a PoolClient is destroyed, not reused) and tries again later. */
  function lost(c: ListenConnection) {
    if (conn !== c) return;
    conn = undefined;
    setState('down');
    c.removeAllListeners?.('notification');
    try {
      if (c.release) c.release(true);
      else void Promise.resolve(c.end?.()).catch(() => {});
    } catch {
      // already released or ended
    }
    schedule();
  }

  function schedule() {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void open();
    }, delay);
    retry.unref?.();
    delay = Math.min(max, delay * 2);
  }

  async function open() {
    if (closed) return;
    let c: ListenConnection;
    try {
      c = await connect!();
    } catch {
      return schedule();
    }
    if (closed) return void (c.release ? c.release() : c.end?.());
    conn = c;
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    c.on('notification', (m) => m.channel === channel && deliver(m.payload));
    try {
      await c.query(`LISTEN ${channel}`);
    } catch {
      return lost(c);
    }
    if (conn !== c) return;
    delay = min;
    setState('up');
  }

  function start() {
    started = true;
    if (pglite) {
      pglite.listen(channel, deliver).then(
        (stop) => {
          stopPglite = stop;
          if (closed) void stop();
          else setState('up');
        },
        () => setState('down'),
      );
      return;
    }
    void open();
    if (heartbeat > 0) {
      timer = setInterval(() => {
        const c = conn;
        if (!c || state !== 'up') return;
        let t: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('heartbeat')), heartbeat)));
        Promise.race([c.query('SELECT 1'), late])
          .catch(() => lost(c))
          .finally(() => clearTimeout(t));
      }, heartbeat);
      timer.unref?.();
    }
  }

  return {
    get state() {
      return state;
    },
    async publish(keys) {
      for (const payload of encodeKeys(keys, MAX_PAYLOAD)) await client.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    subscribe(onKeys, onState) {
      const l = { keys: onKeys, state: onState };
      listeners.add(l);
      if (!started) start();
      if (state === 'up') onState('up');
      return () => void listeners.delete(l);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (timer) clearInterval(timer);
      setState('down');
      listeners.clear();
      if (stopPglite) await stopPglite().catch(() => {});
      const c = conn;
      conn = undefined;
      if (!c) return;
      c.removeAllListeners?.('notification');
      await c.query(`UNLISTEN ${channel}`).catch(() => {});
      if (c.release) c.release();
      else await Promise.resolve(c.end?.()).catch(() => {});
    },
  };
}
