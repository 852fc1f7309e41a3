import { TokenAccessError, storeMessage } from '@tokenaccess/core/store';
import { type RedisClient, script } from './client';
import { DEFAULT_BUCKETS, type Entry, after, compactHash, entry, expandHash, expiryEntry, keys as layout, parseEntry } from './keys';
import { DELETE_IF } from './lua';
import { decode } from './record';

/**
 * Options of {@link migrateRedisLayout}.
 *
 * @example
 * ```ts
 * const options: MigrateRedisLayoutOptions = { client, keyPrefix: 'myapp:tka:', buckets: 16 };
 * ```
 */
export interface MigrateRedisLayoutOptions {
  /** The ioredis `Redis` or `Cluster` the store uses. */
  client: RedisClient;
  /** The store's `keyPrefix`. @default 'tka:' */
  keyPrefix?: string;
  /** The store's `buckets` (what to migrate to). @default 16 */
  buckets?: number;
  /** The `buckets` the data was filed under before, when changing the number. @default the same as `buckets` */
  fromBuckets?: number;
  /** Called after every page of 500 index entries with the entries moved so far. */
  onProgress?: (moved: number) => void;
}

/** What {@link migrateRedisLayout} moved. */
export interface MigrateRedisLayoutResult {
  /** Entries of the v1 `{all}` index filed in the `all` buckets (with their id, from the v1 id key). */
  tokens: number;
  /** Entries of the v1 `{exp}` index filed in the `exp` buckets. */
  expiring: number;
  /** Derived tokens filed in their parent's index. */
  children: number;
  /** Entries moved between buckets because `fromBuckets` differs from `buckets`. */
  rebucketed: number;
}

const deleteIfLeadsTo = script(DELETE_IF);
const PAGE = 500;

/**
 * Moves a store's data from key layout v1 (one `{all}` and one `{exp}` sorted set, one `i:{id}`
 * key per token) to layout v2 (the `all` and `exp` buckets, the id map, the per-parent index),
 * and re-files the buckets when their number changes (`fromBuckets`). Run it once after every
 * process runs this version; it is idempotent (run it again after an interruption) and safe
 * while the store serves traffic: tokens verify throughout (the token keys do not move), and
 * id lookups fall back to the v1 id keys until they are moved.
 *
 * @example
 * ```ts
 * import { migrateRedisLayout } from '@tokenaccess/redis';
 * const moved = await migrateRedisLayout({ client, keyPrefix: 'myapp:tka:' });
 * console.log(moved); // { tokens: 120000, expiring: 80000, children: 0, rebucketed: 0 }
 * ```
 */
export async function migrateRedisLayout(options: MigrateRedisLayoutOptions): Promise<MigrateRedisLayoutResult> {
  const { client, keyPrefix = 'tka:', buckets = DEFAULT_BUCKETS, onProgress } = options;
  const fromBuckets = options.fromBuckets ?? buckets;
  if (!client || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', '`client` must be an ioredis Redis or Cluster'));
  }
  const keys = layout(keyPrefix, buckets);
  const before = layout(keyPrefix, fromBuckets);
  const out: MigrateRedisLayoutResult = { tokens: 0, expiring: 0, children: 0, rebucketed: 0 };
  let moved = 0;
  const progress = (n: number) => {
    moved += n;
    onProgress?.(moved);
  };
  const evalDeleteIf = async (key: string, hash: string) => {
    try {
      return await client.evalsha(deleteIfLeadsTo.sha, 1, key, hash);
    } catch {
      return client.eval(deleteIfLeadsTo.source, 1, key, hash);
    }
  };
  /** The record an id leads to (id map, or the v1 id key), or null. */
  const recordOf = async (id: string) => {
    const raw = await client.hget(keys.idMap(id), id);
    let hash = raw === null || raw.startsWith('?') ? null : expandHash(raw);
    if (hash === null) {
      const old = await client.get(keys.v1.id(id));
      if (old === null || old.startsWith('?')) return null;
      hash = old;
    }
    const value = await client.get(keys.token(hash));
    return value === null ? null : decode(value, hash);
  };

  // 1. the v1 `{all}`: each entry into its `all` bucket, its id key into the id map, and a
  //    derived token into its parent's index
  let start = '-';
  for (;;) {
    const members = await client.zrangebylex(keys.v1.all, start, '+', 'LIMIT', 0, PAGE);
    await Promise.all(
      members.map(async (member) => {
        const e = parseEntry(member);
        if (!e) return;
        await client.zadd(keys.all(e.id), 0, entry(e.id, e.kind));
        const old = await client.get(keys.v1.id(e.id));
        if (old !== null) {
          const colon = old.indexOf(':');
          const field = old.startsWith('?') ? `?${Number(old.slice(1, colon)).toString(36)}:${compactHash(old.slice(colon + 1))}` : compactHash(old);
          await client.hsetnx(keys.idMap(e.id), e.id, field);
          const record = old.startsWith('?') ? null : await client.get(keys.token(old)).then((v) => (v === null ? null : decode(v, old)));
          if (record?.parentId !== undefined) {
            await client.zadd(keys.parent(record.parentId), 0, entry(e.id, e.kind));
            out.children++;
          }
          await evalDeleteIf(keys.v1.id(e.id), old.startsWith('?') ? old.slice(old.indexOf(':') + 1) : old);
        }
        out.tokens++;
      }),
    );
    progress(members.length);
    if (members.length < PAGE) break;
    start = after(parseEntry(members[members.length - 1]!)!.id);
  }

  // 2. the v1 `{exp}`: each entry into its `exp` bucket, with the parent when it has one
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.zrange(keys.v1.expiry, offset, offset + PAGE - 1, 'WITHSCORES');
    const pairs: [string, string][] = [];
    for (let i = 0; i < page.length; i += 2) pairs.push([page[i]!, page[i + 1]!]);
    await Promise.all(
      pairs.map(async ([member, score]) => {
        const e = parseEntry(member);
        if (!e) return;
        const record = await recordOf(e.id);
        const filed: Entry = record ?? e;
        await client.zadd(keys.expiry(e.id), score, expiryEntry(filed));
        out.expiring++;
      }),
    );
    progress(pairs.length);
    if (pairs.length < PAGE) break;
  }

  // 3. another number of buckets: every entry not in its bucket moves
  if (fromBuckets !== buckets) {
    for (const [olds, target] of [
      [before.allBuckets, keys.all],
      [before.expiryBuckets, keys.expiry],
    ] as const) {
      for (const old of olds) {
        for (let offset = 0; ; ) {
          const page = await client.zrange(old, offset, offset + PAGE - 1, 'WITHSCORES');
          let stayed = 0;
          for (let i = 0; i < page.length; i += 2) {
            const member = page[i]!;
            const e = parseEntry(member);
            const to = e ? target(e.id) : old;
            if (to === old) {
              stayed++;
              continue;
            }
            await client.zadd(to, page[i + 1]!, member);
            await client.zrem(old, member);
            out.rebucketed++;
          }
          progress(page.length / 2);
          if (page.length < PAGE * 2) break;
          offset += stayed;
        }
      }
    }
  }

  // last: the v1 indexes go, and with `{all}` the stores' fallback to v1 id keys stops
  await client.unlink(keys.v1.expiry);
  await client.unlink(keys.v1.all);
  return out;
}
