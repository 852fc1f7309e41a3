import { TokenAccessError } from '@tokenaccess/core';

/**
 * Rejects with `unavailable` when `promise` has not settled within `ms` (0: never). The driver
 * bounds an unreachable server by `serverSelectionTimeoutMS`, but a connection that stops
 * answering without closing (a black-holed network path) holds an operation until the socket
 * times out, which by default is never. The operation itself cannot be cancelled: if it
 * completes later its result is dropped, and its failure is swallowed here rather than left as
 * an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      promise.catch(() => {});
      reject(new TokenAccessError('unavailable', `[tokenaccess] [mongodb] ${what} failed: no answer from MongoDB within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
