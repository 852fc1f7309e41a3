import { parseDuration } from './duration';
import { invalid } from './errors';
import { type FeedState, invalidationKey, parseKey } from './invalidation';
import { Lru } from './lru';
import type { CacheOptions } from './options';
import { type LivenessFields, livenessOf } from './store';
import type { TokenInfo } from './types';

// The verify cache: what a process may answer without asking the store. It holds records of
// tokens that need no counting (no `maxUses`: a counted token must reach the store's atomic
// step every time) and are not disabled, keyed by stored hash, and "no such token" for
// well-formed unknown tokens. Core applies every rule to a cached record as the store would
// (evaluateConsume); this file decides only what is kept, for how long, and what drops it.
//
// The one race that matters: a store read that started before a change and ends after the
// change's message was handled would put the old record back for a whole ttl. So every fill
// carries the `mark` (change counter) read before its store call, and is dropped when a change
// to that hash, id or subject arrived in between. The last RECENT changed keys are remembered
// with their counter; anything older than the oldest one remembered (or a clear) drops every
// fill that started before it, so the check errs only towards not caching.

/** A cached record, with its liveness fields in epoch ms computed once (the hot path reads them). */
export type CacheEntry = { rec: TokenInfo; live: LivenessFields; exp: number };
type Entry = CacheEntry;

/** Changed keys remembered for the fill check: far more than the changes one store call can overlap. */
const RECENT = 4096;

/** Whether a record may be served from the cache: nothing to count, nothing that refuses it for good. */
export const cacheable = (r: TokenInfo): boolean => r.maxUses === undefined && r.rateLimit === undefined && r.disabledAt === undefined;

/**
 * A fresh copy of a record, as a store read returns one: callers may change what they get
 * without changing what is cached.
 */
export function copyRecord(r: TokenInfo): TokenInfo {
  const out: TokenInfo = { ...r, scopes: r.scopes.slice(), createdAt: new Date(r.createdAt.getTime()) };
  if (r.url) out.url = { ...r.url, methods: r.url.methods.slice() };
  if (r.expiresAt) out.expiresAt = new Date(r.expiresAt.getTime());
  if (r.lastUsedAt) out.lastUsedAt = new Date(r.lastUsedAt.getTime());
  if (r.metadata !== undefined) out.metadata = structuredClone(r.metadata);
  return out;
}

/** @internal The cache of one token service. */
export class VerifyCache {
  readonly ttl: number;
  readonly negativeTtl: number;
  readonly downTtl: number;
  /** Changes seen so far (the counter a fill's mark is read from). */
  private changes = 0;
  /** Key → the change that last touched it; fills that started before it are not kept. */
  private readonly recent = new Map<string, number>();
  /** Every fill that started before this change is dropped (a clear, or a key forgotten from `recent`). */
  private floor = 0;
  private up: boolean;
  private readonly positive: Lru<Entry>;
  private readonly negative: Lru<number>;
  private readonly byId = new Map<string, string>();

  constructor(options: CacheOptions, hasFeed: boolean) {
    if (!options || typeof options !== 'object') throw invalid('cache must be an object: { ttl, max, negativeTtl, invalidation }');
    this.ttl = parseDuration(options.ttl ?? '30s', 'cache.ttl');
    this.negativeTtl = options.negativeTtl === 0 ? 0 : parseDuration(options.negativeTtl ?? '5s', 'cache.negativeTtl');
    this.downTtl = Math.min(this.ttl, options.downTtl === 0 ? 0 : parseDuration(options.downTtl ?? '1s', 'cache.downTtl'));
    const size = (v: number | undefined, what: string) => {
      const n = v ?? 10_000;
      if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${what} must be a non-negative integer (got ${JSON.stringify(v)})`);
      return n;
    };
    this.positive = new Lru<Entry>(size(options.max, 'cache.max'), (_hash, e) => this.unindex(e.rec));
    this.negative = new Lru<number>(this.negativeTtl === 0 ? 0 : size(options.negativeMax, 'cache.negativeMax'));
    // with a feed, nothing is known to arrive until it says `up`
    this.up = !hasFeed;
  }

  /** Taken before a store call; hand it to {@link put} / {@link putNegative} after. */
  mark(): number {
    return this.changes;
  }

  /** The cached entry (its record is not a copy: never hand it out), or undefined. */
  get(hash: string, at: number): CacheEntry | undefined {
    const e = this.positive.get(hash);
    if (e === undefined) return undefined;
    if (e.exp > at) return e;
    this.positive.delete(hash);
    this.unindex(e.rec);
    return undefined;
  }

  /** Whether "no such token" is cached for this hash. */
  isUnknown(hash: string, at: number): boolean {
    const exp = this.negative.get(hash);
    if (exp === undefined) return false;
    if (exp > at) return true;
    this.negative.delete(hash);
    return false;
  }

  /** Whether `key` changed after a fill read at `mark`. */
  private changedSince(key: string, mark: number): boolean {
    const seq = this.recent.get(key);
    return seq !== undefined && seq > mark;
  }

  /** Keeps a copy of `rec` (read from the store after `mark`) if it may be served; else forgets the hash. */
  put(hash: string, rec: TokenInfo, mark: number, at: number): void {
    if (mark !== this.changes) {
      if (this.floor > mark || this.changedSince(hash, mark) || this.changedSince(invalidationKey.id(rec.id), mark)) return;
      if (rec.subject !== undefined && this.changedSince(invalidationKey.subject(rec.subject), mark)) return;
    }
    if (!cacheable(rec)) return this.forget(hash);
    this.negative.delete(hash);
    const old = this.positive.get(hash);
    if (old) this.unindex(old.rec);
    const kept = copyRecord(rec);
    this.positive.set(hash, { rec: kept, live: livenessOf(kept), exp: at + (this.up ? this.ttl : this.downTtl) });
    if (this.positive.get(hash)) this.byId.set(rec.id, hash);
  }

  /** Remembers that the store knows no token with this hash (asked after `mark`). */
  putNegative(hash: string, mark: number, at: number): void {
    if (this.negativeTtl === 0 || (mark !== this.changes && (this.floor > mark || this.changedSince(hash, mark)))) return;
    this.negative.set(hash, at + Math.min(this.negativeTtl, this.up ? this.negativeTtl : this.downTtl));
  }

  /** Forgets a hash the store answered differently for (refused it, or found no record). */
  forget(hash: string): void {
    const e = this.positive.delete(hash);
    if (e) this.unindex(e.rec);
  }

  /** `lastUsedAt` was just written (or is being written): no second touch within the resolution. */
  touched(hash: string, at: number): void {
    const e = this.positive.get(hash);
    if (e) {
      e.rec.lastUsedAt = new Date(at);
      e.live.lastUsedAt = at;
    }
  }

  /** Drops what the keys name (hashes, ids, subjects): a change happened there. */
  invalidate(keys: readonly string[]): void {
    const seq = ++this.changes;
    for (const key of keys) {
      this.recent.delete(key);
      this.recent.set(key, seq);
      const k = parseKey(key);
      if ('hash' in k) {
        this.forget(k.hash);
        this.negative.delete(k.hash);
      } else if ('id' in k) {
        const hash = this.byId.get(k.id);
        if (hash !== undefined) this.forget(hash);
      } else {
        // rare (revokeAll): one pass over what is cached
        for (const [hash, e] of [...this.positive.entries()]) if (e.rec.subject === k.subject) this.forget(hash);
      }
    }
    while (this.recent.size > RECENT) {
      const [oldest, at] = this.recent.entries().next().value as [string, number];
      this.recent.delete(oldest);
      if (at > this.floor) this.floor = at;
    }
  }

  /**
   * The feed went down: entries cached so far live at most `downTtl` more, and new ones only
   * that long. It came up: messages may have been lost while it was down, so everything goes.
   */
  setState(state: FeedState, at: number): void {
    if (state === 'up') {
      if (!this.up) this.clear();
      this.up = true;
      return;
    }
    this.up = false;
    const until = at + this.downTtl;
    for (const e of this.positive.values()) if (e.exp > until) e.exp = until;
    for (const [hash, exp] of [...this.negative.entries()]) if (exp > until) this.negative.set(hash, until);
  }

  get feedUp(): boolean {
    return this.up;
  }

  get size(): { positive: number; negative: number } {
    return { positive: this.positive.size, negative: this.negative.size };
  }

  clear(): void {
    this.floor = ++this.changes;
    this.recent.clear();
    this.positive.clear();
    this.negative.clear();
    this.byId.clear();
  }

  private unindex(rec: TokenInfo): void {
    if (this.byId.get(rec.id) === rec.hash) this.byId.delete(rec.id);
  }
}
