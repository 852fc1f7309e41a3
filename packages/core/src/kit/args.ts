import { TokenAccessError } from '../errors';
import type { ListQuery, SweepOptions } from '../store';
import { storeMessage } from './errors';

/**
 * Most records one `list` page holds.
 *
 * @example
 * ```ts
 * const page = await store.list({ limit: MAX_LIST_LIMIT });
 * ```
 */
export const MAX_LIST_LIMIT = 1000;
/**
 * Most records one sweep batch deletes.
 *
 * @example
 * ```ts
 * await store.sweep(new Date(), { batchSize: MAX_SWEEP_BATCH });
 * ```
 */
export const MAX_SWEEP_BATCH = 10_000;

const invalid = (store: string, text: string) => new TokenAccessError('invalid_argument', storeMessage(store, text));

/**
 * Checks a `list` query the same way for every store: `limit` an integer from 1 to 1000, `kind`
 * `'access'` or `'url'`, `subject`, `parentId` and `cursor` non-empty strings (a cursor at most
 * 256 characters), `expiringBefore` a valid Date. Throws `invalid_argument`; returns the query.
 *
 * @example
 * ```ts
 * async list(query) { const { subject, limit, cursor } = checkListQuery('mystore', query); … }
 * ```
 */
export function checkListQuery(store: string, query: ListQuery): ListQuery {
  if (!query || typeof query !== 'object') throw invalid(store, 'list needs a query');
  const { limit, kind, subject, cursor } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw invalid(store, `list limit must be an integer from 1 to ${MAX_LIST_LIMIT} (got ${String(limit)})`);
  if (kind !== undefined && kind !== 'access' && kind !== 'url' && kind !== 'session') throw invalid(store, `list kind must be 'access', 'url' or 'session' (got ${JSON.stringify(kind)})`);
  if (subject !== undefined && (typeof subject !== 'string' || subject === '')) throw invalid(store, 'list subject must be a non-empty string');
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor === '' || cursor.length > 256)) throw invalid(store, 'list cursor is not one this store returned');
  if (query.parentId !== undefined && (typeof query.parentId !== 'string' || query.parentId === '')) throw invalid(store, 'list parentId must be a non-empty string');
  if (query.expiringBefore !== undefined && (!(query.expiringBefore instanceof Date) || Number.isNaN(query.expiringBefore.getTime()))) throw invalid(store, 'list expiringBefore must be a valid Date');
  return query;
}

/**
 * Runs a sweep in batches with the same rules on every store: `batchSize` an integer from 1 to
 * 10,000 (default 1000; anything else throws `invalid_argument`), `batch(size)` called until it
 * reports no more, `onProgress` called after every batch that deleted something and always once
 * at the end with the total (so an empty sweep reports 0 once). Returns the total.
 *
 * @example
 * ```ts
 * sweep: (now, options) => sweepInBatches('mystore', options, async (size) => {
 *   const deleted = await deleteDead(now, size);
 *   return { deleted, more: deleted === size };
 * }),
 * ```
 */
export async function sweepInBatches(
  store: string,
  options: SweepOptions | undefined,
  batch: (size: number) => Promise<{ deleted: number; more: boolean }>,
): Promise<number> {
  const size = options?.batchSize ?? 1000;
  if (!Number.isInteger(size) || size < 1 || size > MAX_SWEEP_BATCH) throw invalid(store, `sweep batchSize must be an integer from 1 to ${MAX_SWEEP_BATCH} (got ${String(size)})`);
  const onProgress = options?.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(store, 'sweep onProgress must be a function');
  let total = 0;
  let reported = -1;
  for (;;) {
    const { deleted, more } = await batch(size);
    if (deleted > 0) {
      total += deleted;
      onProgress?.(total);
      reported = total;
    }
    if (!more) break;
  }
  if (reported !== total) onProgress?.(total);
  return total;
}
