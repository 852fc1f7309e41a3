import { DuplicateTokenError, storeError, storeMessage } from '@tokenaccess/core/store';

/** MongoDB's duplicate-key codes (11001 is what servers before 2.6 sent on updates). */
const DUPLICATE_KEY = new Set([11000, 11001]);

/**
 * What every store call throws for a failure (the `fail` of the store's deadline watcher):
 * `DuplicateTokenError` for E11000, naming the field that collided; everything else through
 * core's `storeError` (`unavailable`, the driver's error as `cause`; core answers 503).
 */
export function mongoError(what: string, err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'number' || !DUPLICATE_KEY.has(code)) return storeError('mongodb', what, err);
  const { keyPattern } = err as { keyPattern?: Record<string, unknown> };
  const field = keyPattern && Object.keys(keyPattern)[0] === '_id' ? 'id' : 'hash';
  return new DuplicateTokenError(storeMessage('mongodb', `a token with this ${field} already exists`), { cause: err });
}
