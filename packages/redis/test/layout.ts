import { compactHash, keys } from '../src/keys';

/**
 * The store's key layout under `prefix` (the store's own `keys`), for tests that look at Redis
 * directly, plus the id-map claim forms an insert leaves.
 */
export function layout(prefix: string, buckets?: number) {
  const k = keys(prefix, buckets);
  return {
    ...k,
    /** The id map's value for a finished insert. */
    final: (hash: string) => compactHash(hash),
    /** The id map's value while an insert (started at `ms`) is in flight. */
    pending: (hash: string, ms: number) => `?${ms.toString(36)}:${compactHash(hash)}`,
  };
}
