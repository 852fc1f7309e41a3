import { TokenAccessError, type TokenKind, storeMessage } from '@tokenaccess/core/store';

/**
 * The key layout (v3). Every key is one of these, under `keyPrefix` (default `tka:`); `{…}` is
 * the Redis Cluster hash tag. No key grows with the whole population: the token index is split
 * into buckets, each its own slot on a Cluster, and each bucket into leaves of at most 118.
 *
 * | key                      | type   | holds                                                          | TTL                   |
 * |--------------------------|--------|----------------------------------------------------------------|-----------------------|
 * | `tka:t:{<hash>}`         | string | the record: `<uses>|<lastUsedAt>|[<rateCount>|]<json>` (truth) | PXAT its deadline (1) |
 * | `tka:{ix:<b>}`           | zset   | bucket b's directory of leaves; b = fnv1a(id) mod `buckets` (`leaves.ts`) | none       |
 * | `tka:{ix:<b>}:<n>`       | zset   | a leaf: at most 118 tokens by id, each with its hash and when `sweep` is due | none    |
 * | `tka:{ix:<b>}:n`         | string | the counter that numbers bucket b's leaves                     | none                  |
 * | `tka:s:{<subject>}`      | zset   | the subject's tokens, by id (`<id>\0<kind>`)                   | none                  |
 * | `tka:p:{<parentId>}`     | zset   | the tokens derived from that token, by id (same members)       | none                  |
 *
 * (1) A used-up record stays as a tombstone, so `consume` answers `exhausted`: until its deadline,
 * or, when it has none, 30 days after its last use (core's `purgeAt` and `TOMBSTONE_MS`). A
 * refilling token is never a tombstone: used up for its period, it keeps no TTL but its deadline.
 *
 * Layout v2 had, instead of the token index, an id map (`tka:i:<n>`, 16,384 hashes of id →
 * hash), `tka:{all:<b>}` zsets (every token by id) and `tka:{exp:<b>}` zsets (by deadline).
 * Layout v1 had a `tka:i:{<id>}` string per id and one `tka:{all}` and one `tka:{exp}` zset.
 * `migrateRedisLayout` moves both to v3; until it has, id lookups that miss the index fall back to
 * the v2 id map and the v1 id keys.
 *
 * Atomic operations (`consume`, `update`, the deletes) are scripts on the one token key, so they
 * touch one slot on a Cluster; the index scripts touch one bucket's slot. The other keys are
 * indexes that lead to token keys; see `docs/stores/redis.md`.
 */
export interface Keys {
  token(hash: string): string;
  subject(subject: string): string;
  parent(parentId: string): string;
  /** The directory of the token-index bucket this id is filed in. */
  index(id: string): string;
  /** Every token-index directory, in bucket order. */
  indexBuckets: string[];
  /** Layout v2 keys, read by the fallback and by `migrateRedisLayout`. */
  v2: {
    /** The id-map bucket (a hash) that holds this id's field. */
    idMap(id: string): string;
    /** The `all` bucket this id was filed in. */
    all(id: string): string;
    /** The `exp` bucket this id was filed in. */
    expiry(id: string): string;
    allBuckets: string[];
    expiryBuckets: string[];
  };
  /** Layout v1 keys, read by the fallback and by `migrateRedisLayout`. */
  v1: { id(id: string): string; all: string; expiry: string };
}

/** How many hashes layout v2's id map was split into. */
export const ID_MAP_BUCKETS = 16_384;

/** @default 16 */
export const DEFAULT_BUCKETS = 16;

/** FNV-1a (32 bit) of a string's UTF-16 code units: where an id is filed. @internal */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** @internal */
export function keys(prefix: string, buckets: number = DEFAULT_BUCKETS): Keys {
  if (/[{}]/.test(prefix)) {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', `keyPrefix must not contain "{" or "}" (they are Redis Cluster hash tags): ${JSON.stringify(prefix)}`));
  }
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1024) {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', `buckets must be an integer from 1 to 1024 (got ${String(buckets)})`));
  }
  const indexBuckets = Array.from({ length: buckets }, (_, b) => `${prefix}{ix:${b}}`);
  const allBuckets = Array.from({ length: buckets }, (_, b) => `${prefix}{all:${b}}`);
  const expiryBuckets = Array.from({ length: buckets }, (_, b) => `${prefix}{exp:${b}}`);
  return {
    token: (hash) => `${prefix}t:{${hash}}`,
    subject: (subject) => `${prefix}s:{${subject}}`,
    parent: (parentId) => `${prefix}p:{${parentId}}`,
    index: (id) => indexBuckets[fnv1a(id) % buckets]!,
    indexBuckets,
    v2: {
      idMap: (id) => `${prefix}i:${fnv1a(id) % ID_MAP_BUCKETS}`,
      all: (id) => allBuckets[fnv1a(id) % buckets]!,
      expiry: (id) => expiryBuckets[fnv1a(id) % buckets]!,
      allBuckets,
      expiryBuckets,
    },
    v1: { id: (id) => `${prefix}i:{${id}}`, all: `${prefix}{all}`, expiry: `${prefix}{exp}` },
  };
}

/**
 * A member of the subject and parent indexes: `<id>\0<a|u|s>`; layout v2's `exp` buckets had
 * `<id>\0<a|u|s>\0<subject>` (and for a derived token `<id>\0<a|u|s>\0<subject or nothing>\0<parentId>`).
 * It sorts by id (NUL sorts below every id character) and carries the kind, so `list({ kind })`
 * filters without reading records.
 */
export interface Entry {
  id: string;
  kind: TokenKind;
  subject?: string;
  parentId?: string;
}

/** @internal The one letter a kind is stored as, in index members and in the record's JSON. */
export function kindLetter(kind: TokenKind): 'a' | 'u' | 's' {
  return kind === 'url' ? 'u' : kind === 'session' ? 's' : 'a';
}

/** @internal The kind a stored letter stands for. */
export function kindOf(letter: string | undefined): TokenKind {
  return letter === 'u' ? 'url' : letter === 's' ? 'session' : 'access';
}

/** @internal The member of `s:{subject}` and `p:{parent}` (and of layouts v1 and v2's `all` indexes). */
export function entry(id: string, kind: TokenKind): string {
  return `${id}\u0000${kindLetter(kind)}`;
}

/** @internal */
export function parseEntry(member: string): Entry | null {
  const parts = member.split('\u0000');
  if (parts.length < 2 || parts[0] === '') return null;
  const e: Entry = { id: parts[0]!, kind: kindOf(parts[1]) };
  if (parts[2] !== undefined && parts[2] !== '') e.subject = parts[2];
  if (parts[3] !== undefined && parts[3] !== '') e.parentId = parts[3];
  return e;
}

/** @internal The exclusive lower bound, for ZRANGE BYLEX, of the entries of ids after `id`. */
export function after(id: string): string {
  return `(${id}\u0001`;
}

const HEX_HASH = /^(?:([A-Za-z0-9_-]{1,32}):)?([0-9a-f]{64})$/;

/**
 * The hash as the id map holds it: 64 hex digits become 43 base64url characters (after the
 * pepper key id, if any), so a field stays within listpack's 64 bytes even as a claim; any other
 * hash (a custom legacy format) is kept whole after `=`, a character base64url never uses.
 * @internal
 */
export function compactHash(hash: string): string {
  const m = HEX_HASH.exec(hash);
  if (!m) return `=${hash}`;
  const b64 = Buffer.from(m[2]!, 'hex').toString('base64url');
  return m[1] === undefined ? b64 : `${m[1]}:${b64}`;
}

/** @internal The inverse of {@link compactHash}. A v1 id key holds the hash itself: `v1` says so. */
export function expandHash(compact: string, v1 = false): string {
  if (v1) return compact;
  if (compact.startsWith('=')) return compact.slice(1);
  const colon = compact.indexOf(':');
  const b64 = colon < 0 ? compact : compact.slice(colon + 1);
  const hex = Buffer.from(b64, 'base64url').toString('hex');
  return colon < 0 ? hex : `${compact.slice(0, colon)}:${hex}`;
}
