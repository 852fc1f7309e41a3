/**
 * @module
 * Redis and Redis Cluster store for tokenaccess, on an ioredis client you create.
 *
 * ```sh
 * npm install @tokenaccess/redis @tokenaccess/core ioredis
 * ```
 *
 * Key layout, Cluster consistency, memory per token and client options: `docs/stores/redis.md`.
 * The rules every store shares (the read-first path, the deadline, error mapping, argument
 * checks, expiry arithmetic) come from core's store kit, `@tokenaccess/core/store`.
 */
import {
  DuplicateTokenError,
  TOMBSTONE_MS,
  TokenAccessError,
  applyPatch,
  judgeRead,
  purgeAt,
  storeMessage,
  sweepShare,
  type ConsumePolicy,
  type ConsumeRefusal,
  type ConsumeResult,
  type Duration,
  type TokenInfo,
  type TokenStore,
} from '@tokenaccess/core/store';
import { idClaims } from './claims';
import { type RedisClient, connect, script } from './client';
import { indexes } from './indexes';
import { DEFAULT_BUCKETS, entry } from './keys';
import { leafIndex } from './leaves';
import { CONSUME, DELETE, UPDATE } from './lua';
import { bodyOf, decode, encode, encodeBody } from './record';
import { batchedGet } from './batch';

export type { RedisClient } from './client';
export { migrateRedisLayout, type MigrateRedisLayoutOptions, type MigrateRedisLayoutResult } from './migrate';
export { redisInvalidation, type RedisInvalidation, type RedisInvalidationOptions } from './invalidation';

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
   * Longest a store call waits for Redis (ms or a duration such as `'2s'`) before it throws
   * `unavailable` (core then answers 503): every store fails closed within 2 s by default.
   * Without it a call can wait in ioredis's offline queue for as long as ioredis keeps
   * reconnecting. `0` turns it off.
   * @default 2000
   */
  timeout?: Duration;
  /**
   * Serve `consume` from a plain `GET` when nothing must be written (an unlimited token whose
   * `lastUsedAt` is fresh, or a refusal, a full rate window included), and run the atomic script
   * only when a use or a rate-limited verification must be counted or `lastUsedAt` touched. `false` always runs the script (one round trip for every
   * token, but an EVALSHA costs more than a GET). @default true
   */
  readFirst?: boolean;
  /**
   * Send the read-first `GET`s that start in the same turn of the event loop as one `MGET`: under
   * concurrency the client then spends a fraction of the CPU per verification (bench/redis). A
   * lone read stays a `GET`. Ignored on a Cluster (each token key is its own slot).
   * @default true
   */
  batchReads?: boolean;
  /**
   * How long after its deadline (expiry or idle expiry) Redis keeps a dead record before its TTL
   * removes it, in ms. While it is kept, `consume` answers `expired` (as on every other store)
   * instead of `not_found`, and `sweep` deletes it with all its index entries. A record Redis
   * removed first leaves its entries in its subject's and parent's indexes until that subject or
   * parent is next listed or revoked (the token index does not say which subject a token had), so
   * sweep at least this often. `0` lets Redis drop a record at its deadline.
   * @default 86_400_000 (one day)
   */
  expiryGrace?: number;
  /**
   * How many buckets the token index (every token by id, with its hash and when `sweep` is due)
   * is split into, each its own hash tag and, on a Cluster, its own slot: a token is filed in
   * bucket fnv1a(id) mod `buckets`. A page of `list` without a subject reads every bucket. Every process on the same `keyPrefix` must use the same
   * number; to change it, run `migrateRedisLayout` with the new number. 1 to 1024.
   * @default 16
   */
  buckets?: number;
  /**
   * How many index entries `sweep` handles at once (one step); it rests after each step (see
   * `sweepPace`), so the sweeping process's own verifies (same connection, same event loop) never
   * queue behind more than a few sweep commands. Higher sweeps faster and delays those verifies
   * more: bench/scale at 1e5 tokens, a paced sweep (`sweepPace: 0.5`) raised the sweeping
   * process's verify p99 2.25–2.64× one entry at a time and 1.95–5.39× four at a time. At full
   * speed (`sweepPace: 'full'`, a process that serves no verifies) four at a time.
   * @default 1, or 4 with `sweepPace: 'full'`
   */
  sweepConcurrency?: number;
  /**
   * Least pause (ms) after each step of `sweepConcurrency` entries, on top of `sweepPace`; `0`
   * adds none (the sweep still yields to the event loop, with `setImmediate`, between steps).
   * @default 0
   */
  sweepPause?: number;
  /**
   * The share of the wall time `sweep` may spend working, from 0.01 to 1: after each step it
   * pauses in proportion to the time the step took (0.5: as long as the step), so a sweep keeps
   * this process's event loop and its Redis connection busy for at most that share, and the
   * process's own verifies keep their latency (bench/scale, 1e5 tokens, three rounds: verify
   * p99 during a sweep a median 2.33× the p99 outside it at `0.5`, 4.38× at full speed, for a
   * sweep about six times as long). `'full'` (the same as `1`) sweeps as fast as it can: for a
   * process that serves no verifies, such as a cron job or `tokenaccess sweep`.
   *
   * @example
   * ```ts
   * const sweeper = redisStore({ client, sweepPace: 'full' }); // a worker that only sweeps
   * ```
   * @default 0.5
   */
  sweepPace?: number | 'full';
}


/** Default `expiryGrace`: one day. */
const DEFAULT_EXPIRY_GRACE = 86_400_000;

const consumeScript = script(CONSUME);
const deleteScript = script(DELETE);
const updateScript = script(UPDATE);

/**
 * A {@link TokenStore} on Redis or Redis Cluster. `consume`, `update` and the deletes are
 * single-key Lua scripts (atomic on a Cluster too); dead tokens are removed by Redis's own TTL
 * and by `sweep`, which also tidies the indexes. The use that exhausts a token keeps its record
 * (a tombstone, with core's `purgeAt` as its TTL: its deadline, or 30 days after its last use
 * without one), so every later `consume` answers `exhausted`, as on every store, and
 * `findById`, `list` and `revokeById` see it. A disabled token (`disabledAt`) is refused first,
 * from the read-first `GET` or in the script, and a refilling token (`refill`) renews its budget
 * inside the script, so it is counted exactly across a period boundary and never deleted as
 * used up. A rate-limited token (`rateLimit`) is counted in the same script (exact across
 * processes and Cluster clients); a full window is refused from the read-first `GET` alone.
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
  const { client, keyPrefix = 'tka:', timeout = 2000, readFirst = true, batchReads = true, expiryGrace = DEFAULT_EXPIRY_GRACE, buckets = DEFAULT_BUCKETS, sweepPause = 0, sweepPace } = options;
  if (!client || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', '`client` must be an ioredis Redis or Cluster'));
  }
  const share = sweepShare('redis', sweepPace);
  const sweepConcurrency = options.sweepConcurrency ?? (share < 1 ? 1 : 4);
  if (!Number.isInteger(sweepConcurrency) || sweepConcurrency < 1 || sweepConcurrency > 1000) {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', `sweepConcurrency must be an integer from 1 to 1000 (got ${String(sweepConcurrency)})`));
  }
  if (typeof sweepPause !== 'number' || !(sweepPause >= 0) || sweepPause > 1000) {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', `sweepPause must be a number of ms from 0 to 1000 (got ${String(sweepPause)})`));
  }
  const connection = connect(client, keyPrefix, timeout, expiryGrace, buckets);
  const { keys, calls, run } = connection;
  const index = leafIndex(connection);
  const claims = idClaims(connection, index);
  const walks = indexes(connection, index, claims, { concurrency: sweepConcurrency, pauseMs: sweepPause, share });

  const isCluster = (client as { isCluster?: boolean }).isCluster === true;
  const read: (key: string) => Promise<string | null> = batchReads && !isCluster ? batchedGet(client) : (key) => client.get(key);
  // Hashes whose last record was counted (maxUses or rateLimit): their consume always writes, so
  // it goes straight to the script (one round trip) instead of a GET that would only say so.
  // Bounded; forgetting one costs one extra GET, never a wrong answer (the script decides).
  const counted = new Set<string>();
  const noteCounted = (hash: string, record: TokenInfo | null) => {
    if (record !== null && (record.maxUses !== undefined || record.rateLimit !== undefined)) {
      if (counted.size >= 10_000) counted.clear();
      counted.add(hash);
    } else counted.delete(hash);
  };

  const getByHash = async (hash: string, what: string): Promise<TokenInfo | null> => {
    const value = await calls.run(what, () => read(keys.token(hash)));
    return value === null ? null : decode(value, hash);
  };

  /** `consume` by the script: the atomic read-check-count-touch (see `lua.ts`). */
  const scripted = async (hash: string, key: string, now: number, policy: ConsumePolicy): Promise<ConsumeResult> => {
    const [outcome, value] = (await run('consume', consumeScript, key, consumeArgs(now, policy, expiryGrace))) as [string, string | undefined];
    if (outcome === 'not_found' || value === undefined) {
      counted.delete(hash);
      return { ok: false, reason: 'not_found' };
    }
    const record = decode(value, hash);
    noteCounted(hash, record);
    if (outcome === 'ok') return { ok: true, record };
    if (outcome === 'ok_spent') {
      // this use exhausted the token and the script kept its record (the tombstone): file it in
      // the index as due now, so `sweep` deletes it. Best effort: if this fails, the record's own
      // TTL (core's purgeAt) still removes it, and readers prune the entries it leaves
      void walks.refile(record, 'consume').catch(() => undefined);
      return { ok: true, record };
    }
    return { ok: false, reason: outcome as ConsumeRefusal, record };
  };

  const deleted = async (value: string | null, hash: string): Promise<TokenInfo | null> => {
    if (value === null) return null;
    const record = decode(value, hash);
    await walks.unindex(record);
    return record;
  };

  return {
    // every command runs under `timeout` (core's deadline watcher), so core need not add its own guard
    ...(calls.timeout > 0 ? { callTimeout: calls.timeout } : {}),
    async insert(record) {
      const pending = await claims.claim(record);
      // index entries before the token: an entry without a token is skipped and pruned, but a
      // token without its entries would escape `list` and `revokeAll`
      const member = entry(record.id, record.kind);
      const indexed: string[] = [];
      if (record.subject !== undefined) indexed.push(keys.subject(record.subject));
      if (record.parentId !== undefined) indexed.push(keys.parent(record.parentId));
      try {
        await Promise.all(indexed.map((key) => calls.run('insert', () => client.zadd(key, 0, member))));
        // the token itself: NX makes the hash unique. Its TTL is core's purgeAt: the deadline
        // (plus the grace), or for a record stored used up without one, its tombstone's end
        const value = encode(record);
        const purge = purgeAt(record, expiryGrace);
        const tokenKey = keys.token(record.hash);
        const set = await calls.run('insert', () =>
          purge === undefined ? client.set(tokenKey, value, 'NX') : client.set(tokenKey, value, 'PXAT', Math.round(purge), 'NX'),
        );
        if (set !== 'OK') throw new DuplicateTokenError(storeMessage('redis', 'a token with this hash exists'));
      } catch (err) {
        await Promise.allSettled([...indexed.map((key) => calls.run('insert', () => client.zrem(key, member))), claims.release(record, pending)]);
        throw err;
      }
      await claims.confirm(record, pending);
    },

    findByHash(hash) {
      return getByHash(hash, 'findByHash');
    },

    findById(id) {
      return walks.follow({ id, kind: 'access' }, [], 'findById');
    },

    consume(hash, now, policy) {
      const t = now.getTime();
      const key = keys.token(hash);
      if (!readFirst || counted.has(hash)) return scripted(hash, key, t, policy);
      // the hot path: one GET, judged by core's read-first rule; the script runs only when a use
      // must be counted or lastUsedAt touched, and never for a GET answered after the deadline
      let got: Promise<string | null>;
      try {
        got = read(key);
      } catch (err) {
        got = Promise.reject(err);
      }
      return calls.then('consume', got, (v) => {
        const record = v === null ? null : decode(v, hash);
        if (record !== null && (record.maxUses !== undefined || record.rateLimit !== undefined)) noteCounted(hash, record);
        return judgeRead(record, t, policy, () => scripted(hash, key, t, policy));
      });
    },

    list: walks.list,

    async update(id, patch) {
      const claim = await claims.lookUp(id, 'update');
      if (!claim) return null;
      const key = keys.token(claim.hash);
      let value = await calls.run('update', () => client.get(key));
      // compare-and-set on the JSON: only another update changes it, so this loops only as long
      // as concurrent updates of the same token keep winning
      for (;;) {
        if (value === null) return null;
        const current = decode(value, claim.hash);
        if (current.id !== id) return null;
        const args = [id, bodyOf(value), encodeBody(applyPatch(current, patch)), expiryGrace, TOMBSTONE_MS];
        const [outcome, next] = (await run('update', updateScript, key, args)) as [string, string | undefined];
        if (outcome === 'changed') value = next!;
        else if (outcome !== 'ok') return null;
        else {
          const record = decode(next!, claim.hash);
          await walks.refile(record, 'update');
          return record;
        }
      }
    },

    async deleteById(id) {
      const claim = await claims.lookUp(id, 'deleteById');
      if (!claim) return null;
      const value = (await run('deleteById', deleteScript, keys.token(claim.hash), [id])) as string | null;
      if (value === null) await claims.prune({ id, kind: 'access' }, [], claim);
      return deleted(value, claim.hash);
    },

    async deleteByHash(hash) {
      return deleted((await run('deleteByHash', deleteScript, keys.token(hash), [''])) as string | null, hash);
    },

    deleteBySubject: walks.deleteBySubject,
    sweep: walks.sweep,
  };
}

/** ARGV of the consume script (see `lua.ts`). */
function consumeArgs(now: number, policy: ConsumePolicy, grace: number): (string | number)[] {
  const url = policy.url;
  const scopes = policy.scopes;
  return [
    now,
    policy.lastUsedResolution,
    url ? '1' : '0',
    url?.canonical ?? '',
    url?.method ?? '',
    url?.origin !== undefined ? '1' : '0',
    url?.origin ?? '',
    scopes ? scopes.mode : '',
    scopes ? JSON.stringify(scopes.anyOf) : '',
    grace,
    TOMBSTONE_MS,
  ];
}
