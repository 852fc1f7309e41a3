import type { JsonValue, TokenInfo, TokenKind } from './types';

/**
 * Why a `consume` refused a token. `insufficient_scope` and `url_mismatch` are decided inside
 * the atomic step, so a request that fails them spends no use.
 */
export type ConsumeRefusal = 'not_found' | 'disabled' | 'expired' | 'exhausted' | 'url_mismatch' | 'insufficient_scope' | 'rate_limited';

/**
 * What `consume` must check, besides expiry and the use limit. Built by core; stores only
 * evaluate it (the rules are spelt out in {@link evaluateConsume}, the reference implementation).
 */
export interface ConsumePolicy {
  // Policies are shared between calls (core caches them): stores must not mutate them.
  /** `lastUsedAt` is written only when absent or at least this many ms old. */
  lastUsedResolution: number;
  /**
   * Present when the token came from a URL: the record must be a URL token whose
   * `url.canonical` equals `canonical` and whose `url.methods` include `method`, and, when
   * `origin` is given and the binding has one, whose `url.origin` equals it. Absent: the record
   * must NOT be a URL token (a share link cannot be replayed as a Bearer token).
   */
  url?: { canonical: string; method: string; origin?: string };
  /**
   * Scope requirement, pre-expanded by core: each inner list holds the token scopes that would
   * satisfy one required scope (`'*'`, the scope itself, and its wildcard prefixes). With `all`
   * every list must share an element with `record.scopes`; with `any`, at least one list.
   */
  scopes?: { mode: 'all' | 'any'; anyOf: string[][] };
}

/** The outcome of `consume`. On success `record` is the record after the use was counted. */
export type ConsumeResult =
  | { ok: true; record: TokenInfo }
  | { ok: false; reason: ConsumeRefusal; record?: TokenInfo };

/** A page request for `list`. Results are in creation order (ascending `id`); filters combine. */
export interface ListQuery {
  subject?: string;
  kind?: TokenKind;
  /** Only tokens derived from this one (`parentId`). */
  parentId?: string;
  /** Only tokens whose `expiresAt` is before this instant ("expiring soon"; expired ones included until swept). */
  expiringBefore?: Date;
  /** Page size, 1 to 1000. */
  limit: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

/** A page of `list`. `cursor` is absent on the last page. */
export interface ListPage {
  items: TokenInfo[];
  cursor?: string;
}

/**
 * The mutable fields of a record, as `update` writes them: a field absent is kept, `null`
 * clears it. Everything else (id, hash, kind, subject, url, uses, createdAt, lastUsedAt, hint,
 * parentId) never changes after insert.
 */
export interface RecordPatch {
  name?: string;
  scopes?: string[];
  expiresAt?: Date | null;
  idleTimeout?: number | null;
  maxUses?: number | null;
  metadata?: Record<string, JsonValue> | null;
  /** Set by `disable`, cleared (`null`) by `enable`. */
  disabledAt?: Date | null;
  /** `{ every }` in ms; `null` stops refilling. */
  refill?: { every: number } | null;
  /** `{ limit, window }` (window in ms); `null` removes the limit. `rateCount` is kept as is. */
  rateLimit?: { limit: number; window: number } | null;
}

/** The fields {@link RecordPatch} may name, in one place for every store's encoding. */
export const PATCHABLE = ['name', 'scopes', 'expiresAt', 'idleTimeout', 'maxUses', 'metadata', 'disabledAt', 'refill', 'rateLimit'] as const satisfies readonly (keyof RecordPatch)[];

/**
 * The record `update` must produce: `patch` applied to `record` (absent kept, `null` cleared).
 * The reference semantics every store's native update follows.
 *
 * @example
 * ```ts
 * applyPatch(record, { maxUses: null, name: 'ci' }); // unlimited, renamed
 * ```
 */
export function applyPatch(record: TokenInfo, patch: RecordPatch): TokenInfo {
  const out: TokenInfo = { ...record };
  for (const key of PATCHABLE) {
    if (!(key in patch) || patch[key] === undefined) continue;
    const value = patch[key];
    if (value === null) delete out[key];
    else (out as unknown as Record<string, unknown>)[key] = key === 'scopes' ? [...(value as string[])] : key === 'refill' ? { every: (value as { every: number }).every } : key === 'rateLimit' ? { limit: (value as { limit: number }).limit, window: (value as { window: number }).window } : value;
  }
  return out;
}

/**
 * Whether a record passes a list query's filters (the reference for stores that filter in
 * process; the cursor and page size are the caller's).
 *
 * @example
 * ```ts
 * records.filter((r) => listMatches(r, query));
 * ```
 */
export function listMatches(record: TokenInfo, query: ListQuery): boolean {
  return (
    (query.subject === undefined || record.subject === query.subject) &&
    (query.kind === undefined || record.kind === query.kind) &&
    (query.parentId === undefined || record.parentId === query.parentId) &&
    (query.expiringBefore === undefined || (record.expiresAt !== undefined && record.expiresAt.getTime() < query.expiringBefore.getTime()))
  );
}

/** Options of `sweep`. */
export interface SweepOptions {
  /** Records deleted per batch. @default 1000 */
  batchSize?: number;
  /** Called after each batch with the total deleted so far. */
  onProgress?: (deleted: number) => void;
}

/**
 * The storage contract. Every method may throw (network, server); core turns those failures
 * into `unavailable`. Records go in and come out as {@link TokenInfo} (dates as `Date`, absent
 * optional fields absent). `@tokenaccess/test-suite` is the definition of a correct store.
 *
 * @example
 * ```ts
 * const store: TokenStore = memoryStore();
 * await store.insert(record);
 * const r = await store.consume(record.hash, new Date(), { lastUsedResolution: 60_000 });
 * ```
 */
export interface TokenStore {
  /**
   * The longest, in ms, any call of this store can take, when the store bounds its calls itself:
   * `0` for a store with no I/O (the memory store), its `timeout` option for the Redis, Postgres
   * and MongoDB stores. When it is at most core's `timeout`, core skips its own guard on the hot
   * path (it would only duplicate the store's). Leave it unset when calls are not bounded.
   */
  readonly callTimeout?: number;
  /** Insert a new record. Throws `DuplicateTokenError` when `hash` or `id` exists. */
  insert(record: TokenInfo): Promise<void>;
  findByHash(hash: string): Promise<TokenInfo | null>;
  findById(id: string): Promise<TokenInfo | null>;
  /**
   * The one atomic read-check-count-touch. Semantics are those of {@link evaluateConsume}:
   * refuse with the first failing reason (`disabled` first); on success count a use (only when
   * `maxUses` is set; with `refill`, from 0 in a new period, and then always set `lastUsedAt`)
   * and touch `lastUsedAt` (only when stale). Every store answers the same code for the same
   * history: a used-up token answers `exhausted` until it would have expired or is swept (a
   * store that deletes the record keeps a tombstone that answers so).
   * When nothing must change (unlimited token, fresh `lastUsedAt`) it should write nothing.
   * `now` may be the same `Date` object for every call within one millisecond: read it, never
   * change it or put it in a record.
   */
  consume(hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult>;
  list(query: ListQuery): Promise<ListPage>;
  /**
   * Atomically applies `patch` (see {@link applyPatch}) to the record with this id and returns
   * the new record, or null when there is none. A concurrent `consume` sees the record before
   * or after, never a mix. Re-files what depends on the fields (expiry indexes, TTLs). A used-up
   * or expired record may be updated (raising `maxUses` revives it).
   */
  update?(id: string, patch: RecordPatch): Promise<TokenInfo | null>;
  /** Delete by id; returns the deleted record, or null. */
  deleteById(id: string): Promise<TokenInfo | null>;
  /** Delete by hash; returns the deleted record, or null. */
  deleteByHash(hash: string): Promise<TokenInfo | null>;
  /** Delete every token of a subject; returns how many. */
  deleteBySubject(subject: string): Promise<number>;
  /** Delete every expired (absolute or idle) and used-up token (not a refilling one: see `sweepable`); returns how many. */
  sweep(now: Date, options?: SweepOptions): Promise<number>;
}

/** The time fields the liveness rules read (epoch ms), as a store holds them. */
export interface LivenessFields {
  expiresAt: number | undefined;
  idleTimeout: number | undefined;
  lastUsedAt: number | undefined;
  createdAt: number;
  maxUses: number | undefined;
  uses: number;
  /** `refill.every` in ms, when the budget renews. */
  refill?: { every: number } | undefined;
  /** `{ limit, window }` (ms), when verifications are rate limited. */
  rateLimit?: { limit: number; window: number } | undefined;
  /** Verifications counted in the rate window that holds `lastUsedAt` (absent: 0). */
  rateCount?: number | undefined;
}

/**
 * The uses that count against `maxUses` at `now`: `uses`, or 0 when the token refills and `now`
 * lies in a later refill period than `lastUsedAt` (periods of `refill.every` ms counted from
 * `createdAt`: period(t) = floor((t - createdAt) / every)). Stores compute the same natively.
 *
 * @example
 * ```ts
 * usesAt({ ...fields, refill: { every: 60_000 }, uses: 5, lastUsedAt: created + 59_000 }, created + 61_000); // 0
 * ```
 */
export function usesAt(t: LivenessFields, now: number): number {
  if (t.refill === undefined) return t.uses;
  if (t.lastUsedAt === undefined) return 0;
  const every = t.refill.every;
  return Math.floor((t.lastUsedAt - t.createdAt) / every) < Math.floor((now - t.createdAt) / every) ? 0 : t.uses;
}

/**
 * The verifications that count against `rateLimit.limit` at `now`: `rateCount`, or 0 when `now`
 * lies in a later rate window than `lastUsedAt` (windows of `rateLimit.window` ms counted from
 * `createdAt`, as refill periods are: window(t) = floor((t - createdAt) / window)). Every counted
 * verification of a rate-limited token sets `lastUsedAt` to the later of itself and `now` (it
 * never moves back), so `rateCount` always belongs to the window of `lastUsedAt`.
 * Stores compute the same natively.
 *
 * @example
 * ```ts
 * rateCountAt({ ...fields, rateLimit: { limit: 10, window: 60_000 }, rateCount: 10, lastUsedAt: created + 59_000 }, created + 61_000); // 0
 * ```
 */
export function rateCountAt(t: LivenessFields, now: number): number {
  if (t.rateLimit === undefined || t.lastUsedAt === undefined) return 0;
  const w = t.rateLimit.window;
  return Math.floor((t.lastUsedAt - t.createdAt) / w) < Math.floor((now - t.createdAt) / w) ? 0 : (t.rateCount ?? 0);
}

/**
 * The state of a rate-limited token at `now` (after a counted verification, or at a refusal):
 * how many verifications are left in the current window and when it ends (epoch ms). Undefined
 * for a token without `rateLimit`. What the `RateLimit` headers and `Retry-After` are built from.
 *
 * @example
 * ```ts
 * rateState(livenessOf(record), Date.now()); // { limit: 100, window: 60000, remaining: 37, resetAt: 1767225660000 }
 * ```
 */
export function rateState(t: LivenessFields, now: number): { limit: number; window: number; remaining: number; resetAt: number } | undefined {
  if (t.rateLimit === undefined) return undefined;
  const { limit, window } = t.rateLimit;
  // the window that holds the later of now and lastUsedAt (a late request counts against it)
  const at = Math.max(now, t.lastUsedAt ?? now);
  const resetAt = t.createdAt + (Math.floor((at - t.createdAt) / window) + 1) * window;
  return { limit, window, remaining: Math.max(0, limit - rateCountAt(t, now)), resetAt };
}

/**
 * When a token is refused at `now` for its limits (all times in epoch ms): expired (absolute, or
 * idle since the last use or, if never used, since creation) or used up (for a refilling token:
 * used up in the current period, see {@link usesAt}). The rule every store implements.
 *
 * @example
 * ```ts
 * deadAt({ expiresAt: 1000, idleTimeout: undefined, lastUsedAt: undefined, createdAt: 0, maxUses: undefined, uses: 0 }, 1000); // 'expired'
 * ```
 */
export function deadAt(t: LivenessFields, now: number): 'expired' | 'exhausted' | null {
  if (t.expiresAt !== undefined && t.expiresAt <= now) return 'expired';
  if (t.idleTimeout !== undefined && (t.lastUsedAt ?? t.createdAt) + t.idleTimeout <= now) return 'expired';
  if (t.maxUses !== undefined && usesAt(t, now) >= t.maxUses) return 'exhausted';
  return null;
}

/**
 * Whether `sweep` deletes a token at `now`: expired, or used up for good. A refilling token that
 * is used up for this period is not swept (its budget comes back).
 *
 * @example
 * ```ts
 * if (sweepable(fields, Date.now())) remove(fields);
 * ```
 */
export function sweepable(t: LivenessFields, now: number): boolean {
  const dead = deadAt(t, now);
  return dead === 'expired' || (dead === 'exhausted' && t.refill === undefined);
}

/** The liveness fields of a record, in epoch ms. */
export function livenessOf(record: TokenInfo): LivenessFields {
  return liveness(record.expiresAt?.getTime(), record.idleTimeout, record.lastUsedAt?.getTime(), record.createdAt.getTime(), record.maxUses, record.uses, record.refill, record.rateLimit, record.rateCount);
}

/**
 * @internal The one place a {@link LivenessFields} object is built: every caller gets the same
 * hidden class, so the rule functions' property loads stay monomorphic on the hot path.
 */
export function liveness(
  expiresAt: number | undefined, idleTimeout: number | undefined, lastUsedAt: number | undefined, createdAt: number, maxUses: number | undefined, uses: number,
  refill: { every: number } | undefined, rateLimit: { limit: number; window: number } | undefined, rateCount: number | undefined,
): LivenessFields {
  return { expiresAt, idleTimeout, lastUsedAt, createdAt, maxUses, uses, refill, rateLimit, rateCount };
}

/**
 * When a record is refused at `now` for its limits: expired (absolute or idle) or used up.
 *
 * @example
 * ```ts
 * if (deadReason(record, Date.now())) console.log('dead');
 * ```
 */
export function deadReason(record: TokenInfo, now: number): 'expired' | 'exhausted' | null {
  return deadAt(livenessOf(record), now);
}

/**
 * Whether a binding (or its absence) fits the policy's URL requirement (see {@link ConsumePolicy.url}).
 *
 * @example
 * ```ts
 * bindingMatches(record.url, { canonical: '/files?id=7', method: 'GET' }); // true for a link to /files?id=7
 * ```
 */
export function bindingMatches(binding: TokenInfo['url'], url: ConsumePolicy['url']): boolean {
  if (!url) return binding === undefined;
  return (
    binding !== undefined &&
    binding.canonical === url.canonical &&
    binding.methods.includes(url.method) &&
    (url.origin === undefined || binding.origin === undefined || binding.origin === url.origin)
  );
}

/**
 * Whether `scopes` satisfy a pre-expanded requirement (see {@link ConsumePolicy.scopes}).
 *
 * @example
 * ```ts
 * satisfiesScopes(['users:*'], { mode: 'all', anyOf: [expandScope('users:read')] }); // true
 * ```
 */
export function satisfiesScopes(scopes: readonly string[], requirement: NonNullable<ConsumePolicy['scopes']>): boolean {
  // loops, not every/some with closures: this runs on every verify with a scope requirement
  const lists = requirement.anyOf;
  const all = requirement.mode === 'all';
  for (let i = 0; i < lists.length; i++) {
    if (holdsOneOf(scopes, lists[i]!) !== all) return !all;
  }
  return all;
}

function holdsOneOf(scopes: readonly string[], list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i++) if (scopes.includes(list[i]!)) return true;
  return false;
}

/**
 * The reference semantics of `consume`, as a pure function: given the current record, what the
 * store must answer and whether it must write. Stores written in Lua, SQL or a query language
 * implement the same rules natively; JavaScript stores can call this directly.
 *
 * Order of checks: disabled → expired → exhausted → url_mismatch → insufficient_scope →
 * rate_limited. A refusal writes nothing (a rate-limited request spends no use). On success a
 * token with `maxUses` counts a use (with `refill`, from 0 when a new period began), a token with
 * `rateLimit` counts one in `rateCount` (from 0 when a new window began, see {@link rateCountAt}),
 * and for either of those `lastUsedAt` is always set to the later of itself and `now` (it never
 * moves back); otherwise `lastUsedAt` is touched when stale.
 *
 * @example
 * ```ts
 * const out = evaluateConsume(record, Date.now(), policy);
 * if (out.ok && out.write) await save(out.record);
 * ```
 */
export function evaluateConsume(
  record: TokenInfo,
  now: number,
  policy: ConsumePolicy,
): { ok: true; record: TokenInfo; write: boolean } | { ok: false; reason: ConsumeRefusal } {
  if (record.disabledAt !== undefined) return { ok: false, reason: 'disabled' };
  const t = livenessOf(record);
  const dead = deadAt(t, now);
  if (dead) return { ok: false, reason: dead };
  if (!bindingMatches(record.url, policy.url)) return { ok: false, reason: 'url_mismatch' };
  if (policy.scopes && !satisfiesScopes(record.scopes, policy.scopes)) return { ok: false, reason: 'insufficient_scope' };
  const limited = record.rateLimit !== undefined;
  const rate = limited ? rateCountAt(t, now) : 0;
  if (limited && rate >= record.rateLimit!.limit) return { ok: false, reason: 'rate_limited' };
  const count = record.maxUses !== undefined;
  const touch = record.lastUsedAt === undefined || now - record.lastUsedAt.getTime() >= policy.lastUsedResolution || (count && record.refill !== undefined) || limited;
  if (!count && !touch) return { ok: true, record, write: false };
  const out: TokenInfo = {
    ...record,
    uses: count ? usesAt(t, now) + 1 : record.uses,
    // a refilling or rate-limited token's lastUsedAt never moves back (a late request from an
    // earlier period counts against the later one), or two periods could ping-pong and reset each other
    lastUsedAt: touch ? new Date(Math.max(now, t.lastUsedAt ?? now)) : record.lastUsedAt,
  };
  if (limited) out.rateCount = rate + 1;
  return { ok: true, write: true, record: out };
}
