import { TokenAccessError, type TokenKind, storeMessage } from '@tokenaccess/core/store';
import { parseClaim } from './claims';
import { type RedisClient, connect, script } from './client';
import { DEFAULT_BUCKETS, ID_MAP_BUCKETS, after, compactHash, entry, parseEntry } from './keys';
import { leafIndex, recordScore } from './leaves';
import { DELETE_IF, HDEL_IF } from './lua';
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
  /** Called after every page of index entries with the entries moved so far. */
  onProgress?: (moved: number) => void;
}

/** What {@link migrateRedisLayout} moved. */
export interface MigrateRedisLayoutResult {
  /** Tokens of layout v1 or v2 filed in the token index (those whose record still exists). */
  tokens: number;
  /** Of those, the tokens `sweep` will visit one day (they can expire or are used up). */
  expiring: number;
  /** Derived tokens of layout v1 filed in their parent's index (v2 had that index already). */
  children: number;
  /** Token-index entries moved between buckets because `fromBuckets` differs from `buckets`. */
  rebucketed: number;
}

const deleteIfLeadsTo = script(DELETE_IF);
const fieldDeleteIf = script(HDEL_IF);
const PAGE = 500;

/**
 * Moves a store's data to the current key layout (v3: the token index, `leaves.ts`) from layout
 * v2 (the id map `i:<n>`, the `{all:<b>}` and `{exp:<b>}` buckets) or v1 (one `{all}` and one
 * `{exp}` sorted set, one `i:{id}` key per token), and re-files the index when the number of
 * buckets changes (`fromBuckets`). Run it once after every process runs this version; it is
 * idempotent (run it again after an interruption) and safe while the store serves traffic:
 * tokens verify throughout (the token keys do not move), id lookups fall back to the old keys
 * until they are moved, and `list` and `sweep` see a token once it is moved.
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
  const target = connect(client, keyPrefix, 0, 0, buckets);
  const source = connect(client, keyPrefix, 0, 0, fromBuckets);
  const { keys } = target;
  const before = source.keys;
  const index = leafIndex(target);
  const oldIndex = leafIndex(source);
  const out: MigrateRedisLayoutResult = { tokens: 0, expiring: 0, children: 0, rebucketed: 0 };
  let moved = 0;
  const progress = (n: number) => {
    moved += n;
    onProgress?.(moved);
  };

  /** Files one old-layout token in the index, when its record exists. */
  const file = async (id: string, kind: TokenKind, hash: string, v1: boolean) => {
    const value = await client.get(keys.token(hash));
    const record = value === null ? null : decode(value, hash);
    if (record?.id !== id) return;
    const score = recordScore(record);
    if ((await index.add(id, kind, hash, score, 'migrate')) !== null) return;
    out.tokens++;
    if (score !== '+inf') out.expiring++;
    if (v1 && record.parentId !== undefined) {
      await client.zadd(keys.parent(record.parentId), 0, entry(id, kind));
      out.children++;
    }
  };

  /** Every member of an old `all` index (one zset, by id), a page at a time. */
  const walk = async (key: string, each: (id: string, kind: TokenKind) => Promise<unknown>) => {
    let start = '-';
    for (;;) {
      const members = await client.zrangebylex(key, start, '+', 'LIMIT', 0, PAGE);
      const entries = members.map(parseEntry).filter((e) => e !== null);
      await Promise.all(entries.map((e) => each(e.id, e.kind)));
      progress(members.length);
      if (members.length < PAGE) return;
      start = after(parseEntry(members[members.length - 1]!)!.id);
    }
  };

  // 1. layout v1: `{all}`, each id's hash from its `i:{id}` key
  await walk(keys.v1.all, async (id, kind) => {
    const raw = await client.get(keys.v1.id(id));
    if (raw === null) return;
    const claim = parseClaim(raw, 'v1');
    await file(id, kind, claim.hash, true);
    await target.run('migrate', deleteIfLeadsTo, keys.v1.id(id), [claim.hash]);
  });

  // 2. layout v2: the `all` buckets, each id's hash from the id map
  for (const bucket of before.v2.allBuckets) {
    await walk(bucket, async (id, kind) => {
      const raw = await client.hget(keys.v2.idMap(id), id);
      if (raw === null) return;
      const claim = parseClaim(raw, 'v2');
      await file(id, kind, claim.hash, false);
      await target.run('migrate', fieldDeleteIf, keys.v2.idMap(id), [id, compactHash(claim.hash)]);
    });
  }

  // 3. another number of buckets: every index entry not in its bucket moves
  if (fromBuckets !== buckets) {
    for (const dir of before.indexBuckets) {
      let start: string | undefined;
      for (;;) {
        const { entries, more } = await oldIndex.range(dir, start, PAGE, 'migrate');
        for (const f of entries) {
          if (keys.index(f.id) === dir) continue;
          await index.add(f.id, f.kind, f.hash, f.score, 'migrate');
          await oldIndex.remove(f.id, f.hash, 'migrate', f.score);
          out.rebucketed++;
        }
        progress(entries.length);
        if (!more || entries.length === 0) break;
        start = entries[entries.length - 1]!.id;
      }
    }
  }

  // last: the old indexes go, and with the v1 `{all}` and the v2 `all` buckets the stores'
  // fallback to the old id keys stops
  await client.unlink(keys.v1.expiry);
  await client.unlink(keys.v1.all);
  for (const key of [...before.v2.expiryBuckets, ...before.v2.allBuckets]) await client.unlink(key);
  for (let n = 0; n < ID_MAP_BUCKETS; n += PAGE) {
    await Promise.all(Array.from({ length: Math.min(PAGE, ID_MAP_BUCKETS - n) }, (_, i) => client.unlink(`${keyPrefix}i:${n + i}`)));
  }
  return out;
}
