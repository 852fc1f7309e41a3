import { parseDuration } from '../duration';
import { TokenAccessError } from '../errors';
import type { Duration } from '../types';

/**
 * The one deadline watcher of tokenaccess: core's own guard and every store's calls go through
 * it. A timer per call costs more than the GET it guards at thousands of calls a second, so one
 * interval per watcher checks a FIFO queue: every call of a watcher has the same timeout, so
 * deadlines come in the order calls start and the check stops at the first one not yet due. The
 * interval runs only while something is pending and never keeps a process alive.
 */
export interface Deadlines {
  /** The timeout, in ms (`0`: no deadline, errors are still mapped). Declare it as the store's `callTimeout`. */
  readonly timeout: number;
  /**
   * Starts `op` under the deadline: resolves with its value, or rejects with `fail(what, err)`
   * when it fails, throws, or has not settled within `timeout` ms (at most `min(50, timeout/8)` ms late).
   */
  run<T>(what: string, op: () => Promise<T>): Promise<T>;
  /**
   * Puts an already started call under the deadline and maps its value in the same promise.
   * `map` never runs for a reply that arrives after the deadline: the caller already has its
   * answer (`unavailable`), so a late read must not trigger a write for nobody (a store's
   * read-first `consume` would otherwise spend a use after answering 503).
   */
  then<T, U>(what: string, started: Promise<T>, map: (value: T) => U | PromiseLike<U>): Promise<U>;
}

interface Pending {
  due: number;
  what: string;
  reject: (err: unknown) => void;
  done: boolean;
}

const identity = <T>(v: T): T => v;

/**
 * Creates a deadline watcher for a timeout (a `Duration`: ms or `'2s'`; `0` for none) and
 * `fail(what, err, timedOut)`, which maps every failure (the call's own
 * errors, and the deadline's with `timedOut` true) to the error the caller sees.
 *
 * @example
 * ```ts
 * const calls = deadlines(2000, (what, err) => storeError('mystore', what, err));
 * const row = await calls.run('findByHash', () => client.get(key));
 * ```
 */
export function deadlines(duration: Duration, fail: (what: string, err: unknown, timedOut: boolean) => unknown): Deadlines {
  let timeout = Number.NaN;
  try {
    timeout = duration === 0 ? 0 : parseDuration(duration, 'timeout');
  } catch {
    // answered below, with what a timeout may be
  }
  if (!(timeout >= 0)) {
    throw new TokenAccessError('invalid_argument', `timeout must be a duration >= 0 ('2s', 2000; 0 for none) (got ${String(duration)})`);
  }
  // at most 50 ms late: "fail closed within 2 s" holds to the tick
  const tick = Math.max(10, Math.min(50, Math.round(timeout / 8)));
  let queue: Pending[] = [];
  let head = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  let last = 0;
  const check = () => {
    const now = Date.now();
    // A check that runs late means the event loop was blocked: timers run before I/O callbacks,
    // so replies that arrived meanwhile have not been delivered yet. Give them one tick.
    const stalled = last !== 0 && now - last > tick * 3;
    last = now;
    if (stalled) return;
    while (head < queue.length) {
      const p = queue[head]!;
      if (!p.done) {
        if (p.due > now) break;
        p.done = true;
        p.reject(fail(p.what, new Error(`no answer within ${timeout} ms`), true));
      }
      head++;
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
      clearInterval(timer);
      timer = undefined;
      last = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const then = <T, U>(what: string, started: Promise<T>, map: (value: T) => U | PromiseLike<U>): Promise<U> => {
    if (!(timeout > 0)) return started.then(map, (err: unknown) => Promise.reject(fail(what, err, false)));
    return new Promise<U>((resolve, reject) => {
      const p: Pending = { due: Date.now() + timeout, what, reject, done: false };
      queue.push(p);
      if (timer === undefined) {
        timer = setInterval(check, tick);
        (timer as { unref?: () => void }).unref?.();
      }
      started.then(
        (value) => {
          if (p.done) return; // given up already: act on nothing
          p.done = true;
          try {
            resolve(map(value));
          } catch (err) {
            reject(err);
          }
        },
        (err: unknown) => {
          if (p.done) return;
          p.done = true;
          reject(fail(what, err, false));
        },
      );
    });
  };

  return {
    timeout,
    then,
    run(what, op) {
      let started;
      try {
        started = op();
      } catch (err) {
        return Promise.reject(fail(what, err, false));
      }
      return then(what, started, identity);
    },
  };
}
