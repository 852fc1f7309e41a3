import type { Redis } from 'ioredis';
import { connect } from '../src/client';
import { compactHash, keys } from '../src/keys';
import { type Filed, leafIndex } from '../src/leaves';

/**
 * The store's key layout under `prefix` (the store's own `keys`), for tests that look at Redis
 * directly; the layout v2 id-map claim forms (for the fallback and migration tests); and the
 * token index read with the store's own scripts.
 */
export function layout(prefix: string, buckets?: number) {
  const k = keys(prefix, buckets);
  return {
    ...k,
    /** Layout v2's id-map value for a finished insert. */
    final: (hash: string) => compactHash(hash),
    /** Layout v2's id-map value while an insert (started at `ms`) is in flight. */
    pending: (hash: string, ms: number) => `?${ms.toString(36)}:${compactHash(hash)}`,
  };
}

/** The token index of the store on `prefix`, read and written with the store's own scripts. */
export function tokenIndex(client: Redis, prefix: string, buckets?: number) {
  const index = leafIndex(connect(client, prefix, 0, 0, buckets ?? 16));
  const k = keys(prefix, buckets);
  return {
    ...index,
    /** The entry of `id`, or null. */
    entry: (id: string) => index.get(id, 'test'),
    /** The score `id` is filed under (seconds, `inf`, or minus the claim time in ms), or null. */
    score: async (id: string) => (await index.get(id, 'test'))?.score ?? null,
    /** Every entry of every bucket. */
    async all(): Promise<Filed[]> {
      const out: Filed[] = [];
      for (const dir of k.indexBuckets) {
        let after: string | undefined;
        for (;;) {
          const { entries, more } = await index.range(dir, after, 500, 'test');
          out.push(...entries.map(({ key: _, ...filed }) => filed));
          if (!more || entries.length === 0) break;
          after = entries[entries.length - 1]!.id;
        }
      }
      return out;
    },
  };
}

/** The score of a due time in ms (whole seconds, as the index files it). */
export const sec = (ms: number) => String(Math.floor(ms / 1000));
