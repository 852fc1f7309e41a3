import { createHash } from 'node:crypto';
import { TokenAccessError } from '@tokenaccess/core';
import type { Cluster, Redis } from 'ioredis';

/**
 * An ioredis client: a standalone `Redis` or a `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Cluster([{ host: '127.0.0.1', port: 7000 }], { enableAutoPipelining: true });
 * ```
 */
export type RedisClient = Redis | Cluster;

/** A Lua script with its SHA1, run with EVALSHA and loaded on `NOSCRIPT`. */
export interface Script {
  source: string;
  sha: string;
}

/** @internal */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

interface Pending {
  /** performance.now() after which the call is given up. */
  until: number;
  what: string;
  reject: (err: Error) => void;
}

/**
 * Runs commands with a deadline and turns every failure into `TokenAccessError('unavailable')`,
 * so a store call never hangs in ioredis's offline queue and never rejects with a raw error.
 * One interval timer watches every call in flight (a timer per call costs more than the GET it
 * guards, at thousands of calls per second); a call is given up between `timeout` and `timeout`
 * + one tick (50 ms, or a quarter of `timeout` when that is shorter) after it started. Calls wait
 * in start order and share one timeout, so a tick looks only at the calls that are due.
 * @internal
 */
export class Commands {
  private readonly pending = new Set<Pending>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly client: RedisClient,
    private readonly timeout: number,
  ) {}

  /** Runs one command (or a short chain of them) under the store's deadline. */
  run<T>(what: string, op: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = op();
    } catch (err) {
      return Promise.reject(fail(what, err));
    }
    return this.guard(what, p);
  }

  /** Puts an already started command under the store's deadline. */
  guard<T>(what: string, p: Promise<T>): Promise<T> {
    return this.guardThen(what, p, identity as (v: T) => T);
  }

  /**
   * Puts an already started command under the store's deadline and maps its result, in one
   * promise: this is the hot path of `consume`, where every allocation shows at 64 in flight.
   */
  guardThen<T, U>(what: string, p: Promise<T>, map: (v: T) => U | PromiseLike<U>): Promise<U> {
    if (!(this.timeout > 0)) return p.then(map, (err: unknown) => Promise.reject(fail(what, err)));
    return new Promise<U>((resolve, reject) => {
      const entry: Pending = { until: performance.now() + this.timeout, what, reject };
      this.pending.add(entry);
      if (this.timer === undefined) this.startTimer();
      p.then(
        (v) => {
          // given up already: the caller has its answer (unavailable), so do not act on a late
          // reply (for consume, that would run the script for nobody and spend a use)
          if (!this.pending.delete(entry)) return;
          try {
            resolve(map(v));
          } catch (err) {
            reject(err);
          }
        },
        (err: unknown) => {
          this.pending.delete(entry);
          reject(fail(what, err));
        },
      );
    });
  }

  private startTimer() {
    this.timer = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      const now = performance.now();
      // a Set iterates in insertion order, which is start order, which is deadline order
      for (const e of this.pending) {
        if (e.until > now) break;
        this.pending.delete(e);
        e.reject(fail(e.what, new Error(`no answer within ${this.timeout} ms`)));
      }
    }, Math.max(10, Math.min(50, this.timeout / 4)));
    // the watch must not keep a process alive on its own
    this.timer.unref?.();
  }

  /**
   * EVALSHA, and EVAL when the server answers `NOSCRIPT` (a restart, a failover, `SCRIPT FLUSH`,
   * or a Cluster node that has not seen the script yet): EVAL also loads it for next time.
   */
  eval(what: string, s: Script, key: string, args: (string | number)[]): Promise<unknown> {
    return this.run(what, async () => {
      try {
        return await this.client.evalsha(s.sha, 1, key, ...args);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return this.client.eval(s.source, 1, key, ...args);
        throw err;
      }
    });
  }
}

const identity = <T>(v: T): T => v;

function fail(what: string, err: unknown): Error {
  if (err instanceof TokenAccessError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TokenAccessError('unavailable', `[tokenaccess] [redis] ${what} failed: ${message}`, { cause: err });
}
