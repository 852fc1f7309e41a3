import { TokenAccessError } from './errors';

interface Pending {
  deadline: number;
  reject: (e: unknown) => void;
  message: string;
}

// One shared watchdog instead of a timer per call: verification is a hot path, and most calls
// settle long before any deadline. The interval runs only while something is pending.
const pending = new Set<Pending>();
let timer: ReturnType<typeof setInterval> | undefined;
const TICK = 50;

function tick() {
  const t = Date.now();
  for (const p of pending) {
    if (p.deadline <= t) {
      pending.delete(p);
      p.reject(new TokenAccessError('unavailable', p.message));
    }
  }
  if (pending.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/**
 * Rejects with `TokenAccessError` `unavailable` when `promise` has not settled within `ms`
 * (±50 ms; `0` or less: no deadline). One shared watchdog timer serves every pending call, so
 * the cost on a hot path is a Set insert and delete, not a timer each. A late settlement of
 * `promise` is absorbed (never an unhandled rejection). For store authors: bound every call to
 * a server that may stop answering without closing the connection.
 *
 * @example
 * ```ts
 * const row = await withTimeout(client.query(sql, values), 2000, '[tokenaccess] [mystore] consume: no answer within 2000 ms');
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = 'the store did not answer in time'): Promise<T> {
  if (!(ms > 0)) return promise;
  return new Promise<T>((resolve, reject) => {
    const p: Pending = { deadline: Date.now() + ms, reject, message };
    pending.add(p);
    if (timer === undefined) {
      timer = setInterval(tick, TICK);
      (timer as { unref?: () => void }).unref?.();
    }
    promise.then(
      (v) => {
        pending.delete(p);
        resolve(v);
      },
      (e) => {
        pending.delete(p);
        reject(e);
      },
    );
  });
}
