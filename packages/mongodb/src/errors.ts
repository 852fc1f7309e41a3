import { DuplicateTokenError, storeError, storeMessage } from '@tokenaccess/core/store';

/** MongoDB's duplicate-key codes (11001 is what servers before 2.6 sent on updates). */
const DUPLICATE_KEY = new Set([11000, 11001]);

/**
 * Which key an E11000 is about: the first field of `keyPattern` when the server sends it; else the
 * index its `errmsg` names (`… index: _id_ dup key: …`, `… index: tokenaccess_hash dup key: …`),
 * which every server version and mongos write; else, when neither says, `hash or id`. A
 * duplicate must never be blamed on the wrong key: an id collision reported as a hash collision
 * sends whoever reads it hunting for a leaked credential.
 */
export function duplicateField(err: { keyPattern?: Record<string, unknown>; errmsg?: unknown; message?: unknown }): 'id' | 'hash' | 'hash or id' {
  const first = err.keyPattern ? Object.keys(err.keyPattern)[0] : undefined;
  if (first === '_id') return 'id';
  if (first === 'hash') return 'hash';
  const text = String(err.errmsg ?? err.message ?? '');
  const index = / index: (\S+) dup key/.exec(text)?.[1];
  if (index === '_id_') return 'id';
  if (index === 'tokenaccess_hash' || index === 'hash_1') return 'hash';
  return 'hash or id';
}

/**
 * What every store call throws for a failure (the `fail` of the store's deadline watcher):
 * `DuplicateTokenError` for E11000, naming the key that collided; everything else through
 * core's `storeError` (`unavailable`, the driver's error as `cause`; core answers 503).
 */
export function mongoError(what: string, err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'number' || !DUPLICATE_KEY.has(code)) return storeError('mongodb', what, err);
  const field = duplicateField(err as Parameters<typeof duplicateField>[0]);
  return new DuplicateTokenError(storeMessage('mongodb', `a token with this ${field} already exists`), { cause: err });
}
