/**
 * @module
 * Redis and Redis Cluster store for tokenaccess, on an ioredis client you create.
 *
 * ```sh
 * npm install @tokenaccess/redis @tokenaccess/core ioredis
 * ```
 *
 * Key layout, Cluster consistency, memory per token and client options: `docs/stores/redis.md`.
 */
import {
  DuplicateTokenError,
  TokenAccessError,
  evaluateConsume,
  type ConsumePolicy,
  type ConsumeRefusal,
  type ConsumeResult,
  type ListPage,
  type ListQuery,
  type SweepOptions,
  type TokenInfo,
  type TokenStore,
} from '@tokenaccess/core';
import { TOMBSTONE_MS, purgeAt, timeDeadline } from '@tokenaccess/core/store';
import { Commands, script, type RedisClient } from './client';
import { after, entry, expiryEntry, keys, parseEntry, type Entry } from './keys';
import { CONSUME, DELETE, DELETE_IF, SET_IF, SWEEP_ONE } from './lua';
import { decode, encode } from './record';

export type { RedisClient } from './client';

/**
 * Options of {@link redisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { client: new Redis(), keyPrefix: 'myapp:tka:', timeout: 1000 };
 * ```
 */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`, created and closed by you. Recommended options (see the
   * docs page): `maxRetriesPerRequest: 1`, `commandTimeout: 1000`, `enableAutoPipelining: true`,
   * and no ioredis `keyPrefix` (use this store's `keyPrefix`).
   */
  client: RedisClient;
  /** Prepended to every key. Must not contain `{` or `}` (hash tags). @default 'tka:' */
  keyPrefix?: string;
  /**
   * Longest a store call waits for Redis, in ms, before it throws `unavailable` (core then
   * answers 503): every store fails closed within 2 s by default. Without it a call can wait in
   * ioredis's offline queue for as long as ioredis keeps reconnecting. `0` turns it off.
   * @default 2000
   */
  timeout?: number;
  /**
   * Serve `consume` from a plain `GET` when nothing must be written (an unlimited token whose
   * `lastUsedAt` is fresh, or a refusal), and run the atomic script only when a use must be
   * counted or `lastUsedAt` touched. `false` always runs the script (one round trip for every
   * token, but an EVALSHA costs more than a GET). @default true
   */
  readFirst?: boolean;
  /**
   * How long after its deadline (expiry or idle expiry) Redis keeps a dead record before its TTL
   * removes it, in ms. While it is kept, `consume` answers `expired` instead of `not_found`, and
   * `sweep` deletes it. @default 0
   */
  expiryGrace?: number;
}

/**
 * How old an id claim (`?<ms>:<hash>`) whose token was never written must be before it counts as
 * left by a crashed insert (and is pruned, and its id may be taken again).
 */
const PENDING_MS = 30_000;

/** Where an id key leads: a hash, and since when it is claimed when the insert is unfinished. */
interface Claim {
  hash: string;
  /** ms since epoch of the claim while the insert has not made it final */
  pendingSince?: number;
}

/** @internal */
function parseClaim(raw: string): Claim {
  if (!raw.startsWith('?')) return { hash: raw };
  const colon = raw.indexOf(':');
  return { hash: raw.slice(colon + 1), pendingSince: Number(raw.slice(1, colon)) };
}

const S = {
  consume: script(CONSUME),
  delete: script(DELETE),
  sweepOne: script(SWEEP_ONE),
  deleteIf: script(DELETE_IF),
  setIf: script(SET_IF),
};

/**
 * A {@link TokenStore} on Redis or Redis Cluster. `consume` and the deletes are single-key Lua
 * scripts (atomic on a Cluster too); dead tokens are removed by Redis's own TTL and by `sweep`,
 * which also tidies the indexes. The use that exhausts a token keeps its record (a tombstone,
 * with core's `purgeAt` as its TTL: its deadline, or 30 days after its last use without one), so
 * every later `consume` answers `exhausted`, as on every store, and `findById`, `list` and
 * `revokeById` see it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { redisStore } from '@tokenaccess/redis';
 *
 * const client = new Redis({ maxRetriesPerRequest: 1, commandTimeout: 1000, enableAutoPipelining: true });
 * const tokens = createTokenAccess({ store: redisStore({ client, keyPrefix: 'myapp:tka:' }) });
 * ```
 */
export function redisStore(options: RedisStoreOptions): TokenStore {
  const { client, keyPrefix = 'tka:', timeout = 2000, readFirst = true, expiryGrace = 0 } = options;
  if (!client || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
    throw new TokenAccessError('invalid_argument', '[tokenaccess] [redis] `client` must be an ioredis Redis or Cluster');
  }
  const K = keys(keyPrefix);
  const cmd = new Commands(client, timeout);
  const r = client;

  const grace = (ms: number) => Math.round(ms + expiryGrace);

  /** Removes a record's index entries (best effort per entry; the token key is the truth). */
  const unindex = (rec: TokenInfo) => {
    const m = entry(rec.id, rec.kind);
    const em = expiryEntry({ id: rec.id, kind: rec.kind, ...(rec.subject !== undefined ? { subject: rec.subject } : {}) });
    const ops: Promise<unknown>[] = [
      cmd.eval('unindex', S.deleteIf, K.id(rec.id), [rec.hash]),
      cmd.run('unindex', () => r.zrem(K.all, m)),
      cmd.run('unindex', () => r.zrem(K.expiry, em)),
    ];
    if (rec.subject !== undefined) ops.push(cmd.run('unindex', () => r.zrem(K.subject(rec.subject!), m)));
    return Promise.all(ops);
  };

  /** What an index entry leads to: the claim in its id key, or null when the id key is gone. */
  const resolve = async (id: string, what: string): Promise<Claim | null> => {
    const raw = await cmd.run(what, () => r.get(K.id(id)));
    return raw === null ? null : parseClaim(raw);
  };

  /**
   * An index entry whose token is missing: remove it from the zsets `from` and drop its id key,
   * unless its insert may still be in flight (claimed less than PENDING_MS ago) or the token
   * exists after all. Returns whether it was pruned.
   */
  const prune = async (e: Entry, from: string[], to?: Claim | null): Promise<boolean> => {
    const cur = to === undefined ? await resolve(e.id, 'prune') : to;
    if (cur?.pendingSince !== undefined && Date.now() - cur.pendingSince < PENDING_MS) return false;
    // an insert writes its token before it makes the claim final: seen final here, the token
    // either exists now or was deleted for good
    if (cur && (await cmd.run('prune', () => r.exists(K.token(cur.hash)))) === 1) return false;
    const ops: Promise<unknown>[] = from.map((key) => cmd.run('prune', () => r.zrem(key, key === K.expiry ? expiryEntry(e) : entry(e.id, e.kind))));
    if (cur) ops.push(cmd.eval('prune', S.deleteIf, K.id(e.id), [cur.hash]));
    await Promise.all(ops);
    return true;
  };

  const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);

  const getByHash = async (hash: string, what: string): Promise<TokenInfo | null> => {
    const v = await cmd.run(what, () => r.get(K.token(hash)));
    return v === null ? null : decode(v, hash);
  };

  /** `consume` by the script: the atomic read-check-count-touch (see `lua.ts`). */
  const scripted = async (hash: string, key: string, t: number, policy: ConsumePolicy): Promise<ConsumeResult> => {
    const [outcome, value] = (await cmd.eval('consume', S.consume, key, consumeArgs(t, policy, expiryGrace))) as [string, string | undefined];
    if (outcome === 'not_found' || value === undefined) return { ok: false, reason: 'not_found' };
    const rec = decode(value, hash);
    if (outcome === 'ok') return { ok: true, record: rec };
    if (outcome === 'ok_spent') {
      // this use exhausted the token and the script kept its record (the tombstone): file it in
      // {exp} as dead from now, so `sweep` deletes it. Best effort: if this fails, the record's
      // own TTL (core's purgeAt) still removes it, and readers prune the index entries it leaves
      quietly(cmd.run('consume', () => r.zadd(K.expiry, t, expiryEntry({ id: rec.id, kind: rec.kind, ...(rec.subject !== undefined ? { subject: rec.subject } : {}) }))));
      return { ok: true, record: rec };
    }
    return { ok: false, reason: outcome as ConsumeRefusal, record: rec };
  };

  /** The id is taken: a duplicate, unless the claim is an orphan (its token is gone for good). */
  const reclaimId = async (rec: TokenInfo, pending: string) => {
    const ik = K.id(rec.id);
    const raw = await cmd.run('insert', () => r.get(ik));
    if (raw === null) {
      if ((await cmd.run('insert', () => r.set(ik, pending, 'NX'))) === 'OK') return;
    } else {
      const cur = parseClaim(raw);
      const young = cur.pendingSince !== undefined && Date.now() - cur.pendingSince < PENDING_MS;
      if (!young && (await cmd.run('insert', () => r.exists(K.token(cur.hash)))) === 0) {
        if ((await cmd.eval('insert', S.setIf, ik, [raw, pending])) === 1) return;
      }
    }
    throw new DuplicateTokenError(`[tokenaccess] [redis] a token with id ${rec.id} exists`);
  };

  return {
    // every command runs under `timeout` (Commands), so core need not add its own guard
    ...(timeout > 0 ? { callTimeout: timeout } : {}),
    async insert(rec) {
      const tk = K.token(rec.hash);
      const ik = K.id(rec.id);
      const pending = `?${Date.now()}:${rec.hash}`;
      // 1. claim the id (NX), marked as in flight since now
      if ((await cmd.run('insert', () => r.set(ik, pending, 'NX'))) !== 'OK') await reclaimId(rec, pending);
      // 2. index entries before the token: an entry without a token is skipped and pruned, but a
      // token without its entries would escape `list` and `revokeAll`
      const dl = timeDeadline(rec);
      const exhausted = rec.maxUses !== undefined && rec.uses >= rec.maxUses;
      const m = entry(rec.id, rec.kind);
      const indexed: [key: string, member: string, score: number][] = [[K.all, m, 0]];
      if (rec.subject !== undefined) indexed.push([K.subject(rec.subject), m, 0]);
      if (dl !== undefined || exhausted) {
        const e: Entry = { id: rec.id, kind: rec.kind, ...(rec.subject !== undefined ? { subject: rec.subject } : {}) };
        indexed.push([K.expiry, expiryEntry(e), exhausted ? 0 : dl!]);
      }
      try {
        await Promise.all(indexed.map(([key, member, score]) => cmd.run('insert', () => r.zadd(key, score, member))));
        // 3. the token itself: NX makes the hash unique. Its TTL is core's purgeAt: the deadline
        // (plus the grace), or for a record stored used up without one, its tombstone's end
        const value = encode(rec);
        const purge = purgeAt(rec, expiryGrace);
        const expireAt = purge === undefined ? undefined : Math.round(purge);
        const set = await cmd.run('insert', () =>
          expireAt === undefined ? r.set(tk, value, 'NX') : r.set(tk, value, 'PXAT', expireAt, 'NX'),
        );
        if (set !== 'OK') throw new DuplicateTokenError('[tokenaccess] [redis] a token with this hash exists');
      } catch (err) {
        await Promise.allSettled([
          ...indexed.map(([key, member]) => cmd.run('insert', () => r.zrem(key, member))),
          cmd.eval('insert', S.deleteIf, ik, [pending]),
        ]);
        throw err;
      }
      // 4. the id claim becomes final, and expires with the token's absolute expiry
      await cmd.run('insert', () =>
        rec.expiresAt === undefined ? r.set(ik, rec.hash, 'XX') : r.set(ik, rec.hash, 'PXAT', grace(rec.expiresAt.getTime()), 'XX'),
      );
    },

    findByHash(hash) {
      return getByHash(hash, 'findByHash');
    },

    async findById(id) {
      const to = await resolve(id, 'findById');
      if (!to) return null;
      const rec = await getByHash(to.hash, 'findById');
      if (rec?.id === id) return rec;
      if (!rec) quietly(prune({ id, kind: 'access' }, [], to));
      return null;
    },

    consume(hash, now, policy) {
      const t = now.getTime();
      const key = K.token(hash);
      if (!readFirst) return scripted(hash, key, t, policy);
      // Exact, not optimistic: the GET is an atomic snapshot of the truth, and when
      // evaluateConsume finds nothing to write, the script would answer the same at that instant.
      // Written without async layers: this is the hot path.
      let got: Promise<string | null>;
      try {
        got = r.get(key);
      } catch (err) {
        got = Promise.reject(err);
      }
      return cmd.guardThen('consume', got, (v): ConsumeResult | Promise<ConsumeResult> => {
        if (v === null) return { ok: false, reason: 'not_found' };
        const rec = decode(v, hash);
        const out = evaluateConsume(rec, t, policy);
        if (!out.ok) return { ok: false, reason: out.reason, record: rec };
        if (!out.write) return { ok: true, record: rec };
        return scripted(hash, key, t, policy);
      });
    },

    async list(query: ListQuery): Promise<ListPage> {
      const { subject, kind, limit, cursor } = query;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new TokenAccessError('invalid_argument', `[tokenaccess] [redis] list limit must be an integer from 1 to 1000 (got ${limit})`);
      }
      const key = subject === undefined ? K.all : K.subject(subject);
      const items: TokenInfo[] = [];
      let start = cursor ? after(cursor) : '-';
      // one more than the page, to know whether a next page exists
      while (items.length <= limit) {
        const batch = Math.max(limit + 1 - items.length, 16);
        const members = await cmd.run('list', () => r.zrangebylex(key, start, '+', 'LIMIT', 0, batch));
        const entries = members.map(parseEntry).filter((e): e is Entry => e !== null && (kind === undefined || e.kind === kind));
        const found = await Promise.all(
          entries.map(async (e) => {
            const to = await resolve(e.id, 'list');
            const rec = to ? await getByHash(to.hash, 'list') : null;
            if (rec?.id === e.id) return rec;
            if (!rec) quietly(prune(e, [key], to));
            return null;
          }),
        );
        for (const rec of found) if (rec && (subject === undefined || rec.subject === subject)) items.push(rec);
        if (members.length < batch) break;
        start = after(parseEntry(members[members.length - 1]!)!.id);
      }
      if (items.length <= limit) return { items };
      const page = items.slice(0, limit);
      return { items: page, cursor: page[limit - 1]!.id };
    },

    async deleteById(id) {
      const to = await resolve(id, 'deleteById');
      if (!to) return null;
      const v = (await cmd.eval('deleteById', S.delete, K.token(to.hash), [id])) as string | null;
      if (v === null) {
        await prune({ id, kind: 'access' }, [], to);
        return null;
      }
      const rec = decode(v, to.hash);
      await unindex(rec);
      return rec;
    },

    async deleteByHash(hash) {
      const v = (await cmd.eval('deleteByHash', S.delete, K.token(hash), [''])) as string | null;
      if (v === null) return null;
      const rec = decode(v, hash);
      await unindex(rec);
      return rec;
    },

    async deleteBySubject(subject) {
      const key = K.subject(subject);
      let deleted = 0;
      let start = '-';
      for (;;) {
        const members = await cmd.run('deleteBySubject', () => r.zrangebylex(key, start, '+', 'LIMIT', 0, 500));
        const entries = members.map(parseEntry).filter((e): e is Entry => e !== null);
        await Promise.all(
          entries.map(async (e) => {
            const to = await resolve(e.id, 'deleteBySubject');
            const v = to ? ((await cmd.eval('deleteBySubject', S.delete, K.token(to.hash), [e.id])) as string | null) : null;
            if (v === null) return void (await prune({ ...e, subject }, [key, K.all, K.expiry], to));
            deleted++;
            await unindex(decode(v, to!.hash));
          }),
        );
        if (members.length < 500) break;
        start = after(parseEntry(members[members.length - 1]!)!.id);
      }
      return deleted;
    },

    async sweep(now: Date, opts: SweepOptions = {}) {
      const t = now.getTime();
      const batchSize = Math.max(1, opts.batchSize ?? 1000);
      let deleted = 0;
      // entries kept in place (an insert in flight) are stepped over, not read again
      let skip = 0;
      for (;;) {
        const members = await cmd.run('sweep', () => r.zrangebyscore(K.expiry, '-inf', t, 'LIMIT', skip, batchSize));
        if (members.length === 0) break;
        const counts = await Promise.all(
          members.map(async (m): Promise<number> => {
            const e = parseEntry(m);
            if (!e) {
              await cmd.run('sweep', () => r.zrem(K.expiry, m));
              return 0;
            }
            const to = await resolve(e.id, 'sweep');
            const [state, v] = to
              ? ((await cmd.eval('sweep', S.sweepOne, K.token(to.hash), [t, e.id])) as [string, string | undefined])
              : ['missing', undefined];
            if (state === 'deleted') {
              await unindex(decode(v!, to!.hash));
              return 1;
            }
            if (state === 'alive') {
              // the idle deadline moved since it was indexed: file it under the new one
              const d = timeDeadline(decode(v!, to!.hash));
              await cmd.run('sweep', () => (d === undefined ? r.zrem(K.expiry, m) : r.zadd(K.expiry, 'XX', d, m)));
              return 0;
            }
            // already gone (Redis's TTL removed it): clear what it left in the indexes
            if (await prune(e, [K.expiry, K.all, ...(e.subject !== undefined ? [K.subject(e.subject)] : [])], to)) return 1;
            skip++;
            return 0;
          }),
        );
        deleted += counts.reduce((a, b) => a + b, 0);
        opts.onProgress?.(deleted);
        if (members.length < batchSize) break;
      }
      return deleted;
    },
  };
}

/** ARGV of the consume script (see `lua.ts`). */
function consumeArgs(now: number, policy: ConsumePolicy, grace: number): (string | number)[] {
  const u = policy.url;
  const s = policy.scopes;
  return [
    now,
    policy.lastUsedResolution,
    u ? '1' : '0',
    u?.canonical ?? '',
    u?.method ?? '',
    u?.origin !== undefined ? '1' : '0',
    u?.origin ?? '',
    s ? s.mode : '',
    s ? JSON.stringify(s.anyOf) : '',
    grace,
    TOMBSTONE_MS,
  ];
}
