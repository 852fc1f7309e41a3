import { DuplicateTokenError, invalid } from './errors';
import { type ConsumePolicy, type ConsumeResult, type ListPage, type ListQuery, type SweepOptions, type TokenStore, deadReason, evaluateConsume } from './store';
import type { TokenInfo } from './types';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Delete a token on the `consume` that uses it up, as Redis does. @default false */
  deleteExhausted?: boolean;
}

/**
 * The embedded store: complete and atomic (every operation runs synchronously inside one
 * call, so no other operation interleaves), for tests, single-process apps and demos. Records
 * are copied in and out, so callers cannot change what is stored.
 *
 * @example
 * ```ts
 * import { createTokenAccess, memoryStore } from '@tokenaccess/core';
 * const tokens = createTokenAccess({ store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): TokenStore & { readonly size: number } {
  const byHash = new Map<string, TokenInfo>();
  const byId = new Map<string, string>();
  // ids sort in creation order; kept sorted for cursor pagination
  const order: string[] = [];

  const indexOf = (id: string) => {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const remove = (rec: TokenInfo) => {
    byHash.delete(rec.hash);
    byId.delete(rec.id);
    const i = indexOf(rec.id);
    if (order[i] === rec.id) order.splice(i, 1);
  };

  return {
    get size() {
      return byHash.size;
    },
    async insert(record) {
      if (byHash.has(record.hash) || byId.has(record.id)) throw new DuplicateTokenError('[tokenaccess] [memory] a token with this hash or id already exists');
      byHash.set(record.hash, copy(record));
      byId.set(record.id, record.hash);
      order.splice(indexOf(record.id), 0, record.id);
    },
    async findByHash(hash) {
      const r = byHash.get(hash);
      return r ? copy(r) : null;
    },
    async findById(id) {
      const h = byId.get(id);
      return h === undefined ? null : copy(byHash.get(h)!);
    },
    async consume(hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult> {
      const rec = byHash.get(hash);
      if (!rec) return { ok: false, reason: 'not_found' };
      const out = evaluateConsume(rec, now.getTime(), policy);
      if (!out.ok) return { ok: false, reason: out.reason, record: copy(rec) };
      if (out.write) {
        if (options.deleteExhausted && out.record.maxUses !== undefined && out.record.uses >= out.record.maxUses) remove(rec);
        else byHash.set(hash, out.record);
      }
      return { ok: true, record: copy(out.record) };
    },
    async list(query: ListQuery): Promise<ListPage> {
      let i = query.cursor === undefined ? 0 : indexOf(decodeCursor(query.cursor));
      if (query.cursor !== undefined && order[i] === decodeCursor(query.cursor)) i++;
      const items: TokenInfo[] = [];
      for (; i < order.length && items.length < query.limit; i++) {
        const rec = byHash.get(byId.get(order[i]!)!)!;
        if (query.subject !== undefined && rec.subject !== query.subject) continue;
        if (query.kind !== undefined && rec.kind !== query.kind) continue;
        items.push(copy(rec));
      }
      // a further page exists only if a later record matches; look ahead without copying
      let more = false;
      for (let j = i; j < order.length; j++) {
        const rec = byHash.get(byId.get(order[j]!)!)!;
        if ((query.subject === undefined || rec.subject === query.subject) && (query.kind === undefined || rec.kind === query.kind)) {
          more = true;
          break;
        }
      }
      return more && items.length > 0 ? { items, cursor: encodeCursor(items[items.length - 1]!.id) } : { items };
    },
    async deleteById(id) {
      const h = byId.get(id);
      if (h === undefined) return null;
      const rec = byHash.get(h)!;
      remove(rec);
      return copy(rec);
    },
    async deleteByHash(hash) {
      const rec = byHash.get(hash);
      if (!rec) return null;
      remove(rec);
      return copy(rec);
    },
    async deleteBySubject(subject) {
      let n = 0;
      for (const rec of [...byHash.values()]) {
        if (rec.subject === subject) {
          remove(rec);
          n++;
        }
      }
      return n;
    },
    async sweep(now: Date, opts: SweepOptions = {}) {
      const batch = opts.batchSize ?? 1000;
      const t = now.getTime();
      let n = 0;
      for (const rec of [...byHash.values()]) {
        if (deadReason(rec, t)) {
          remove(rec);
          if (++n % batch === 0) opts.onProgress?.(n);
        }
      }
      if (n % batch !== 0 || n === 0) opts.onProgress?.(n);
      return n;
    },
  };
}

const encodeCursor = (id: string) => id;
function decodeCursor(cursor: string): string {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 128) throw invalid('cursor is not one this store returned');
  return cursor;
}

function copy(r: TokenInfo): TokenInfo {
  const out: TokenInfo = { ...r, scopes: [...r.scopes], createdAt: new Date(r.createdAt.getTime()) };
  if (r.url) out.url = { ...r.url, methods: [...r.url.methods] };
  if (r.expiresAt) out.expiresAt = new Date(r.expiresAt.getTime());
  if (r.lastUsedAt) out.lastUsedAt = new Date(r.lastUsedAt.getTime());
  if (r.metadata) out.metadata = structuredClone(r.metadata);
  return out;
}
