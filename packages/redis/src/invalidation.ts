import { type FeedState, type Invalidation, decodeKeys, encodeKeys } from '@tokenaccess/core';
import type { Cluster, Redis } from 'ioredis';

/** Options of {@link redisInvalidation}. */
export interface RedisInvalidationOptions {
  /** Publishes the messages (your store's client). A `Redis` or a `Cluster`. */
  client: Redis | Cluster;
  /**
   * The connection that subscribes: it is put in subscriber mode, so it can run nothing else.
   * Closed by `close()` only when it was made here. @default client.duplicate()
   */
  subscriber?: Redis | Cluster;
  /** The pub/sub channel. Every process of one deployment uses the same. @default 'tokenaccess:invalidate' */
  channel?: string;
  /**
   * How often the subscriber is pinged, in ms: a connection that stops answering (a silent
   * network failure, which no `close` event reports) is reported `down` and reconnected after
   * this long. `0` turns it off. @default 5000
   */
  heartbeat?: number;
}

/** The feed {@link redisInvalidation} returns: an `Invalidation` you close when the app stops. */
export interface RedisInvalidation extends Invalidation {
  /** `up` while the subscriber is subscribed and answering. */
  readonly state: FeedState;
  /** Unsubscribes and closes the subscriber connection (when made here). */
  close(): Promise<void>;
}

// Messages of at most 1 MB: a cascade over many tokens is split, never one giant value.
const MAX_MESSAGE = 1 << 20;

/**
 * The verify cache's change feed on Redis pub/sub: `PUBLISH` on your client, `SUBSCRIBE` on a
 * dedicated connection (`client.duplicate()` unless you pass `subscriber`), which ioredis
 * reconnects with its own backoff and re-subscribes; it is `down` from the moment the connection
 * closes (or stops answering the heartbeat) until it is subscribed again. On a Redis Cluster,
 * `PUBLISH` is broadcast to every node over the cluster bus, so a subscriber on any node hears
 * every message (sharded `SPUBLISH` would confine a channel to one shard; a channel this quiet
 * gains nothing from it).
 *
 * @example
 * ```ts
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { redisInvalidation, redisStore } from '@tokenaccess/redis';
 *
 * const feed = redisInvalidation({ client });
 * const tokens = createTokenAccess({ store: redisStore({ client }), cache: { ttl: '30s', invalidation: feed } });
 * // on shutdown: await feed.close();
 * ```
 */
export function redisInvalidation(options: RedisInvalidationOptions): RedisInvalidation {
  if (!options || typeof options.client?.publish !== 'function') throw new TypeError('[tokenaccess] [redis] redisInvalidation needs { client } (an ioredis Redis or Cluster)');
  const { client } = options;
  const channel = options.channel ?? 'tokenaccess:invalidate';
  const heartbeat = options.heartbeat ?? 5000;
  const listeners = new Set<{ keys: (keys: string[]) => void; state: (s: FeedState) => void }>();
  let state: FeedState = 'down';
  let sub: Redis | Cluster | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let detach = () => {};

  const setState = (next: FeedState) => {
    if (next === state) return;
    state = next;
    for (const l of [...listeners]) l.state(next);
  };

  function start(): Redis | Cluster {
    const s = options.subscriber ?? client.duplicate();
    const onMessage = (ch: string, payload: string) => {
      if (ch !== channel) return;
      const keys = decodeKeys(payload);
      if (keys.length > 0) for (const l of [...listeners]) l.keys(keys);
    };
    s.on('message', onMessage);
    // every (re)connection is subscribed again before it counts as up; until then, and from the
    // moment a connection closes, messages may be lost
    const subscribe = () => {
      if (closed) return;
      s.subscribe(channel).then(
        () => setState(s.status === 'ready' ? 'up' : 'down'),
        () => setState('down'),
      );
    };
    const down = () => setState('down');
    const ignore = () => {}; // an error is reported as `down` by the close that follows; ioredis reconnects by itself
    s.on('ready', subscribe);
    s.on('close', down);
    s.on('end', down);
    s.on('error', ignore);
    detach = () => {
      s.off('message', onMessage);
      s.off('ready', subscribe);
      s.off('close', down);
      s.off('end', down);
      s.off('error', ignore);
    };
    if (s.status === 'ready') subscribe();
    else if (s.status === 'wait') s.connect().catch(() => {});
    if (heartbeat > 0) {
      timer = setInterval(() => {
        if (state !== 'up') return;
        let t: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('heartbeat')), heartbeat)));
        Promise.race([s.ping(), late])
          .catch(() => {
            // silent for a whole interval: the path is dead though no close came; start again
            setState('down');
            if (!closed) s.disconnect(true);
          })
          .finally(() => clearTimeout(t));
      }, heartbeat);
      timer.unref?.();
    }
    return s;
  }

  return {
    get state() {
      return state;
    },
    async publish(keys) {
      for (const payload of encodeKeys(keys, MAX_MESSAGE)) await client.publish(channel, payload);
    },
    subscribe(onKeys, onState) {
      const l = { keys: onKeys, state: onState };
      listeners.add(l);
      sub ??= start();
      if (state === 'up') onState('up');
      return () => void listeners.delete(l);
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      setState('down');
      listeners.clear();
      if (!sub) return;
      detach();
      if (options.subscriber) await sub.unsubscribe(channel).catch(() => {});
      else sub.disconnect();
    },
  };
}
