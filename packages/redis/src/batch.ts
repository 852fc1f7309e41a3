import type { RedisClient } from './client';

interface Waiter {
  resolve: (value: string | null) => void;
  reject: (err: unknown) => void;
}

/**
 * Read-first `GET`s started in the same turn of the event loop, sent as one `MGET` (a lone one
 * stays a `GET`). Under load the verifications of one reply batch all start in the same turn, and
 * ioredis spends most of a command's cost on the command itself, not on its key: 64 keys in one
 * `MGET` cost the client a fraction of 64 `GET`s. One `MGET` is one atomic read of every key, so
 * each verification sees what its own `GET` would have. Standalone only: on a Cluster each
 * token key is its own slot, and an `MGET` across slots is refused.
 * @internal
 *
 * @example
 * ```ts
 * const read = batchedGet(client);
 * const [a, b] = await Promise.all([read('tka:t:{…}'), read('tka:t:{…}')]); // one MGET
 * ```
 */
export function batchedGet(client: RedisClient, max = 256): (key: string) => Promise<string | null> {
  let keys: string[] = [];
  let waiters: Waiter[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (keys.length === 0) return;
    const k = keys;
    const w = waiters;
    keys = [];
    waiters = [];
    try {
      if (k.length === 1) {
        client.get(k[0]!).then(w[0]!.resolve, w[0]!.reject);
        return;
      }
      client.mget(k).then(
        (values) => {
          for (let i = 0; i < w.length; i++) w[i]!.resolve(values[i] ?? null);
        },
        (err: unknown) => {
          for (const x of w) x.reject(err);
        },
      );
    } catch (err) {
      // a client that throws instead of rejecting (closed, offline queue off)
      for (const x of w) x.reject(err);
    }
  };
  return (key) =>
    new Promise<string | null>((resolve, reject) => {
      keys.push(key);
      waiters.push({ resolve, reject });
      if (keys.length >= max) flush();
      else if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    });
}
