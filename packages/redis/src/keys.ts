import { TokenAccessError, type TokenKind, storeMessage } from '@tokenaccess/core/store';

/**
 * The key layout. Every key is one of these, under `keyPrefix` (default `tka:`); `{…}` is the
 * Redis Cluster hash tag, so the slot of each key is decided by what it is looked up by.
 *
 * | key                      | type   | holds                                              | TTL                     |
 * |--------------------------|--------|----------------------------------------------------|-------------------------|
 * | `tka:t:{<hash>}`         | string | the record: `<uses>|<lastUsedAt>|<json>` (truth)   | PXAT its deadline (1)   |
 * | `tka:i:{<id>}`           | string | id → hash (`?<ms>:<hash>` until the insert is done) | PXAT `expiresAt`       |
 * | `tka:s:{<subject>}`      | zset   | the subject's tokens, by id (`<id>\0<kind>`)       | none                    |
 * | `tka:{all}`              | zset   | every token, by id (same members)                  | none                    |
 * | `tka:{exp}`              | zset   | tokens that can expire or are used up, by deadline or the use that used them up (ms) | none |
 *
 * (1) A used-up record stays as a tombstone, so `consume` answers `exhausted`: until its deadline,
 * or, when it has none, 30 days after its last use (core's `purgeAt` and `TOMBSTONE_MS`). A
 * refilling token is never a tombstone: used up for its period, it keeps no TTL but its deadline.
 *
 * Atomic operations (`consume`, `update`, the deletes) are scripts on the one token key, so they touch one
 * slot on a Cluster. The other keys are indexes that lead to token keys; see `docs/stores/redis.md`.
 */
export interface Keys {
  token(hash: string): string;
  id(id: string): string;
  subject(subject: string): string;
  all: string;
  expiry: string;
}

/** @internal */
export function keys(prefix: string): Keys {
  if (/[{}]/.test(prefix)) {
    throw new TokenAccessError('invalid_argument', storeMessage('redis', `keyPrefix must not contain "{" or "}" (they are Redis Cluster hash tags): ${JSON.stringify(prefix)}`));
  }
  return {
    token: (hash) => `${prefix}t:{${hash}}`,
    id: (id) => `${prefix}i:{${id}}`,
    subject: (subject) => `${prefix}s:{${subject}}`,
    all: `${prefix}{all}`,
    expiry: `${prefix}{exp}`,
  };
}

/**
 * An index member: `<id>\0<a|u|s>`, and in `{exp}` `<id>\0<a|u|s>\0<subject>` (so that `sweep`,
 * which finds tokens Redis already removed, can also clear their subject's entry). It sorts by
 * id (NUL sorts below every id character) and carries the kind, so `list({ kind })` filters
 * without reading records. The hash is not in it: short members keep a subject's zset in Redis's
 * compact listpack encoding (members up to 64 bytes, up to 128 of them), and the id key leads to
 * the token.
 */
export interface Entry {
  id: string;
  kind: TokenKind;
  subject?: string;
}

/** @internal The one letter a kind is stored as, in index members and in the record's JSON. */
export function kindLetter(kind: TokenKind): 'a' | 'u' | 's' {
  return kind === 'url' ? 'u' : kind === 'session' ? 's' : 'a';
}

/** @internal The kind a stored letter stands for. */
export function kindOf(letter: string | undefined): TokenKind {
  return letter === 'u' ? 'url' : letter === 's' ? 'session' : 'access';
}

/** @internal The member of `s:{subject}` and `{all}`. */
export function entry(id: string, kind: TokenKind): string {
  return `${id}\u0000${kindLetter(kind)}`;
}

/** @internal The member of `{exp}` (a record is an `Entry` too). */
export function expiryEntry(e: Entry): string {
  return e.subject === undefined ? entry(e.id, e.kind) : `${entry(e.id, e.kind)}\u0000${e.subject}`;
}

/** @internal */
export function parseEntry(member: string): Entry | null {
  const nul = member.indexOf('\u0000');
  if (nul < 0) return null;
  const e: Entry = { id: member.slice(0, nul), kind: kindOf(member[nul + 1]) };
  if (member.length > nul + 2) e.subject = member.slice(nul + 3);
  return e;
}

/** @internal The exclusive lower bound, for ZRANGE BYLEX, of the entries of ids after `id`. */
export function after(id: string): string {
  return `(${id}\u0001`;
}
