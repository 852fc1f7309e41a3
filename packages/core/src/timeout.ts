import { TokenAccessError } from './errors';
import { type Deadlines, deadlines } from './kit/deadline';

// One watcher per distinct timeout (an application uses one or two), so each keeps its FIFO order.
const watchers = new Map<number, Deadlines>();
const asUnavailable = (message: string, err: unknown, timedOut: boolean) => (timedOut ? new TokenAccessError('unavailable', message) : err);

/**
 * Rejects with `TokenAccessError` `unavailable` when `promise` has not settled within `ms`
 * (`0` or less: no deadline); the promise's own rejection passes through unchanged. It runs on
 * the one deadline watcher of tokenaccess (see `deadlines` in `@tokenaccess/core/store`), so
 * the cost on a hot path is a queue push, not a timer. A late settlement is absorbed (never an
 * unhandled rejection).
 *
 * @example
 * ```ts
 * const row = await withTimeout(client.query(sql, values), 2000, '[tokenaccess] [mystore] consume: no answer within 2000 ms');
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = 'the store did not answer in time'): Promise<T> {
  if (!(ms > 0)) return promise;
  let w = watchers.get(ms);
  if (!w) {
    if (watchers.size >= 16) watchers.clear();
    watchers.set(ms, (w = deadlines(ms, asUnavailable)));
  }
  return w.then(message, promise, (v) => v);
}
