import { DuplicateTokenError } from './errors';
import { HashIndex } from './hash-index';
import { checkListQuery, sweepInBatches } from './kit/args';
import { type ConsumePolicy, type ConsumeResult, type ListPage, type ListQuery, type SweepOptions, type TokenStore, applyPatch, bindingMatches, deadAt, type LivenessFields, liveness, rateCountAt, satisfiesScopes, sweepable, usesAt } from './store';
import type { JsonValue, TokenInfo, UrlBinding } from './types';

/** Options of {@link memoryStore} (none yet; kept so options can be added without a break). */
export type MemoryStoreOptions = Record<string, never>;

/**
 * The stored form: one fixed shape, times as epoch ms, arrays private (never handed out). Keeps the hot path
 * monomorphic and allocation-free until the record is handed out.
 */
class Entry {
  constructor(
    readonly id: string,
    readonly kind: TokenInfo['kind'],
    readonly subject: string | undefined,
    readonly name: string,
    readonly scopes: readonly string[],
    readonly url: Readonly<UrlBinding> | undefined,
    readonly expiresAt: number | undefined,
    readonly idleTimeout: number | undefined,
    readonly maxUses: number | undefined,
    uses: number,
    readonly createdAt: number,
    lastUsedAt: number | undefined,
    readonly metadata: Record<string, JsonValue> | undefined,
    readonly hint: string,
    readonly hash: string,
    readonly parentId: string | undefined,
    readonly disabledAt: number | undefined,
    readonly refill: Readonly<{ every: number }> | undefined,
    readonly rateLimit: Readonly<{ limit: number; window: number }> | undefined,
    rateCount: number | undefined,
  ) {
    // livenessOf's shape, so the rule functions (deadAt, usesAt, rateCountAt, sweepable) see the
    // same hidden class here as everywhere else in core: their property loads stay monomorphic
    this.live = liveness(expiresAt, idleTimeout, lastUsedAt, createdAt, maxUses, uses, refill, rateLimit, rateCount);
  }

  /** The liveness fields; `uses`, `lastUsedAt` and `rateCount` are the entry's state. */
  readonly live: LivenessFields;
  get uses(): number {
    return this.live.uses;
  }
  set uses(v: number) {
    this.live.uses = v;
  }
  get lastUsedAt(): number | undefined {
    return this.live.lastUsedAt;
  }
  set lastUsedAt(v: number | undefined) {
    this.live.lastUsedAt = v;
  }
  get rateCount(): number | undefined {
    return this.live.rateCount;
  }
  set rateCount(v: number | undefined) {
    this.live.rateCount = v;
  }

  static from(r: TokenInfo): Entry {
    // private copies, never handed out (not frozen: V8 takes slow paths on frozen arrays'
    // includes/slice, and scope checks run on every verify)
    const url = r.url ? { ...r.url, methods: [...r.url.methods] } : undefined;
    return new Entry(
      r.id, r.kind, r.subject, r.name, [...r.scopes], url,
      r.expiresAt?.getTime(), r.idleTimeout, r.maxUses, r.uses, r.createdAt.getTime(), r.lastUsedAt?.getTime(),
      r.metadata === undefined ? undefined : structuredClone(r.metadata), r.hint, r.hash, r.parentId,
      r.disabledAt?.getTime(), r.refill ? Object.freeze({ every: r.refill.every }) : undefined,
      r.rateLimit ? Object.freeze({ limit: r.rateLimit.limit, window: r.rateLimit.window }) : undefined, r.rateCount,
    );
  }

  /**
   * The public record's primitive fields in their final shape, built once per version of the
   * entry (a counted use or a touch drops it): `info()` is then one shape-preserving spread plus
   * the fresh Dates and arrays a caller may change. Copying the record out was a fifth of a verify.
   */
  private tpl: TokenInfo | undefined;

  /** Drops the template after a write to `uses`, `lastUsedAt` or `rateCount`. */
  changed(): void {
    this.tpl = undefined;
  }

  private template(): TokenInfo {
    const out: TokenInfo = { id: this.id, kind: this.kind, name: this.name, scopes: this.scopes as string[], uses: this.uses, createdAt: new Date(this.createdAt), hint: this.hint, hash: this.hash };
    if (this.subject !== undefined) out.subject = this.subject;
    if (this.url !== undefined) out.url = this.url as UrlBinding;
    if (this.expiresAt !== undefined) out.expiresAt = new Date(this.expiresAt);
    if (this.idleTimeout !== undefined) out.idleTimeout = this.idleTimeout;
    if (this.maxUses !== undefined) out.maxUses = this.maxUses;
    if (this.lastUsedAt !== undefined) out.lastUsedAt = new Date(this.lastUsedAt);
    if (this.metadata !== undefined) out.metadata = this.metadata;
    if (this.parentId !== undefined) out.parentId = this.parentId;
    if (this.disabledAt !== undefined) out.disabledAt = new Date(this.disabledAt);
    if (this.refill !== undefined) out.refill = this.refill;
    if (this.rateLimit !== undefined) out.rateLimit = this.rateLimit;
    if (this.rateCount !== undefined) out.rateCount = this.rateCount;
    return (this.tpl = out);
  }

  /** A fresh public record: callers may change it without touching the store. */
  info(): TokenInfo {
    const out: TokenInfo = { ...(this.tpl ?? this.template()) };
    out.scopes = [...this.scopes];
    out.createdAt = new Date(this.createdAt);
    if (this.url !== undefined) out.url = { ...this.url, methods: [...this.url.methods] };
    if (this.expiresAt !== undefined) out.expiresAt = new Date(this.expiresAt);
    if (this.lastUsedAt !== undefined) out.lastUsedAt = new Date(this.lastUsedAt);
    if (this.metadata !== undefined) out.metadata = structuredClone(this.metadata);
    if (this.disabledAt !== undefined) out.disabledAt = new Date(this.disabledAt);
    if (this.refill !== undefined) out.refill = { every: this.refill.every };
    if (this.rateLimit !== undefined) out.rateLimit = { limit: this.rateLimit.limit, window: this.rateLimit.window };
    return out;
  }
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
export function memoryStore(_options: MemoryStoreOptions = {}): TokenStore & { readonly size: number } {
  // keyed by an integer taken from the hash (HashIndex): at a million tokens a Map of the hash
  // strings made the lookup most of a verify
  const byHash = new HashIndex<Entry>((e) => e.hash);
  const byId = new Map<string, Entry>();
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
  const remove = (e: Entry) => {
    byHash.delete(e.hash);
    byId.delete(e.id);
    const i = indexOf(e.id);
    if (order[i] === e.id) order.splice(i, 1);
  };
  const matches = (e: Entry, q: ListQuery) =>
    (q.subject === undefined || e.subject === q.subject) &&
    (q.kind === undefined || e.kind === q.kind) &&
    (q.parentId === undefined || e.parentId === q.parentId) &&
    (q.expiringBefore === undefined || (e.expiresAt !== undefined && e.expiresAt < q.expiringBefore.getTime()));

  return {
    callTimeout: 0,
    get size() {
      return byHash.size;
    },
    async insert(record) {
      if (byHash.has(record.hash) || byId.has(record.id)) throw new DuplicateTokenError('[tokenaccess] [memory] a token with this hash or id already exists');
      const e = Entry.from(record);
      byHash.set(e);
      byId.set(e.id, e);
      order.splice(indexOf(e.id), 0, e.id);
    },
    async findByHash(hash) {
      return byHash.get(hash)?.info() ?? null;
    },
    async findById(id) {
      return byId.get(id)?.info() ?? null;
    },
    async consume(hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult> {
      // evaluateConsume's rules, on the stored form (the same primitives, so one definition)
      const e = byHash.get(hash);
      if (!e) return { ok: false, reason: 'not_found' };
      const t = now.getTime();
      if (e.disabledAt !== undefined) return { ok: false, reason: 'disabled', record: e.info() };
      const dead = deadAt(e.live, t);
      if (dead) return { ok: false, reason: dead, record: e.info() };
      if (!bindingMatches(e.url, policy.url)) return { ok: false, reason: 'url_mismatch', record: e.info() };
      if (policy.scopes && !satisfiesScopes(e.scopes, policy.scopes)) return { ok: false, reason: 'insufficient_scope', record: e.info() };
      // both counts are read before lastUsedAt moves (each belongs to the period of the old one)
      const rate = e.rateLimit === undefined ? 0 : rateCountAt(e.live, t);
      if (e.rateLimit !== undefined && rate >= e.rateLimit.limit) return { ok: false, reason: 'rate_limited', record: e.info() };
      if (e.maxUses !== undefined || e.rateLimit !== undefined || e.lastUsedAt === undefined || t - e.lastUsedAt >= policy.lastUsedResolution) e.changed();
      if (e.maxUses !== undefined) e.uses = usesAt(e.live, t) + 1;
      if (e.rateLimit !== undefined) e.rateCount = rate + 1;
      if (((e.maxUses !== undefined && e.refill !== undefined) || e.rateLimit !== undefined) && (e.lastUsedAt === undefined || e.lastUsedAt < t)) e.lastUsedAt = t;
      if (e.lastUsedAt === undefined || t - e.lastUsedAt >= policy.lastUsedResolution) e.lastUsedAt = t;
      return { ok: true, record: e.info() };
    },
    async list(query: ListQuery): Promise<ListPage> {
      checkListQuery('memory', query);
      let i = 0;
      if (query.cursor !== undefined) {
        const after = query.cursor;
        i = indexOf(after);
        if (order[i] === after) i++;
      }
      const items: TokenInfo[] = [];
      for (; i < order.length && items.length < query.limit; i++) {
        const e = byId.get(order[i]!)!;
        if (matches(e, query)) items.push(e.info());
      }
      let more = false;
      for (let j = i; j < order.length && !more; j++) more = matches(byId.get(order[j]!)!, query);
      return more && items.length > 0 ? { items, cursor: items[items.length - 1]!.id } : { items };
    },
    async update(id, patch) {
      const e = byId.get(id);
      if (!e) return null;
      // one synchronous swap: no consume can see half of it
      const next = Entry.from(applyPatch(e.info(), patch));
      next.uses = e.uses;
      next.lastUsedAt = e.lastUsedAt;
      next.rateCount = e.rateCount;
      byHash.set(next);
      byId.set(next.id, next);
      return next.info();
    },
    async deleteById(id) {
      const e = byId.get(id);
      if (!e) return null;
      remove(e);
      return e.info();
    },
    async deleteByHash(hash) {
      const e = byHash.get(hash);
      if (!e) return null;
      remove(e);
      return e.info();
    },
    async deleteBySubject(subject) {
      let n = 0;
      for (const e of [...byHash.values()]) {
        if (e.subject === subject) {
          remove(e);
          n++;
        }
      }
      return n;
    },
    sweep(now: Date, opts?: SweepOptions) {
      const t = now.getTime();
      return sweepInBatches('memory', opts, async (size) => {
        let deleted = 0;
        for (const e of byHash.values()) {
          if (deleted === size) break;
          if (sweepable(e.live, t)) {
            remove(e);
            deleted++;
          }
        }
        return { deleted, more: deleted === size };
      });
    },
  };
}
