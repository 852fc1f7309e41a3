import { DuplicateTokenError, type TokenInfo, storeMessage } from '@tokenaccess/core/store';
import { type Connection, script } from './client';
import { type Entry, compactHash, entry, expandHash } from './keys';
import { type Filed, type LeafIndex, pendingScore, pendingSince, recordScore } from './leaves';
import { DELETE_IF, HDEL_IF } from './lua';

/**
 * Ids and their claim protocol, on the token index (`leaves.ts`). The index files each id once,
 * with the hash of its token: while an `insert` is in flight the entry's score is minus the time
 * of the claim (taken atomically by the index's `add`, so ids are unique), and the insert makes
 * it final (the token's deadline) only after the token is written. Readers that find an entry
 * whose token is missing use the claim to tell an insert still running (leave it) from one that
 * crashed or a token Redis expired (prune it, and let the id be taken again).
 *
 * Layouts v2 (the id map `i:<n>`) and v1 (a string key `i:{<id>}` per id): while their keys may
 * exist (`migrateRedisLayout` has not run), a lookup that misses the index falls back to them.
 */

/**
 * How old an unfinished claim must be before it counts as left by a crashed insert (and is
 * pruned, and its id may be taken again).
 */
export const PENDING_MS = 30_000;

/** How often (ms) a store checks again whether layout v1 or v2 keys still exist. */
const LEGACY_RECHECK_MS = 60_000;

/** Where an id leads: a hash, and since when it is claimed while the insert is unfinished. */
export interface Claim {
  hash: string;
  /** ms since epoch of the claim while the insert has not made it final */
  pendingSince?: number;
  /** the index entry's score, as Redis prints it */
  score?: string;
  /** found in a layout v1 id key or the v2 id map */
  legacy?: 'v1' | 'v2';
}

/** A layout v2 id-map value, or (with `v1`) a v1 id key's value. @internal */
export function parseClaim(raw: string, legacy: 'v1' | 'v2'): Claim {
  const v1 = legacy === 'v1';
  const colon = raw.indexOf(':');
  const claim: Claim = raw.startsWith('?')
    ? { hash: expandHash(raw.slice(colon + 1), v1), pendingSince: v1 ? Number(raw.slice(1, colon)) : parseInt(raw.slice(1, colon), 36) }
    : { hash: expandHash(raw, v1) };
  claim.legacy = legacy;
  return claim;
}

/** The claim a token-index entry makes: its hash and score, and since when while its insert is unfinished. @internal */
export function claimOf(filed: Filed): Claim {
  const claim: Claim = { hash: filed.hash, score: filed.score };
  const since = pendingSince(filed.score);
  if (since !== undefined) claim.pendingSince = since;
  return claim;
}

const isInFlight = (claim: Claim | null): boolean => claim?.pendingSince !== undefined && Date.now() - claim.pendingSince < PENDING_MS;

const deleteIfLeadsTo = script(DELETE_IF);
const fieldDeleteIf = script(HDEL_IF);

/** The id-claim steps of `insert`, and what readers do with the claims they find. @internal */
export interface IdClaims {
  /** What the id leads to, or null when no layout files such an id. */
  lookUp(id: string, what: string): Promise<Claim | null>;
  /** Step 1 of `insert`: files the id as pending; returns that entry's score. Throws `DuplicateTokenError`. */
  claim(record: TokenInfo): Promise<string>;
  /** Last step of `insert`: the entry gets the token's deadline. */
  confirm(record: TokenInfo, pending: string): Promise<unknown>;
  /** Gives back an id whose insert failed, if the entry is still this claim. */
  release(record: TokenInfo, pending: string): Promise<unknown>;
  /** Removes the id when it leads to `hash` (a deleted token's). */
  forget(id: string, hash: string, what: string): Promise<unknown>;
  /** The part of {@link forget} for layouts v1 and v2 (nothing once they are migrated). */
  forgetLegacy(id: string, hash: string, what: string): Promise<unknown>;
  /**
   * An index entry whose token is missing: removes it from the zsets `from` (subject, parent)
   * and drops its id, unless its insert may still be in flight or the token exists after all.
   * `known` is the claim the caller already read; `gone` says the caller has just seen the token
   * key missing. Returns whether it was pruned.
   */
  prune(e: Entry, from: string[], known?: Claim | null, gone?: boolean): Promise<boolean>;
}

/** @internal */
export function idClaims({ client, keys, calls, run }: Connection, index: LeafIndex): IdClaims {
  let legacyUntil = 0;
  let legacyPresent: Promise<boolean> = Promise.resolve(false);
  /** Whether layout v1 or v2 keys may exist (checked at most once a minute: is a v1 or v2 `all` there). */
  const maybeLegacy = (what: string): Promise<boolean> => {
    if (Date.now() >= legacyUntil) {
      legacyUntil = Date.now() + LEGACY_RECHECK_MS;
      legacyPresent = Promise.all([keys.v1.all, ...keys.v2.allBuckets].map((k) => calls.run(what, () => client.exists(k)))).then(
        (n) => n.some((x) => x === 1),
        (err: unknown) => {
          legacyUntil = 0;
          throw err;
        },
      );
    }
    return legacyPresent;
  };

  const legacyLookUp = async (id: string, what: string): Promise<Claim | null> => {
    if (!(await maybeLegacy(what))) return null;
    const raw = await calls.run(what, () => client.hget(keys.v2.idMap(id), id));
    if (raw !== null) return parseClaim(raw, 'v2');
    const old = await calls.run(what, () => client.get(keys.v1.id(id)));
    return old === null ? null : parseClaim(old, 'v1');
  };

  const lookUp = async (id: string, what: string): Promise<Claim | null> => {
    const filed = await index.get(id, what);
    return filed ? claimOf(filed) : legacyLookUp(id, what);
  };
  const tokenExists = async (hash: string, what: string) => (await calls.run(what, () => client.exists(keys.token(hash)))) === 1;
  const dropLegacy = (id: string, claim: Claim, what: string) =>
    claim.legacy === 'v1' ? run(what, deleteIfLeadsTo, keys.v1.id(id), [claim.hash]) : run(what, fieldDeleteIf, keys.v2.idMap(id), [id, compactHash(claim.hash)]);
  const duplicate = (id: string) => new DuplicateTokenError(storeMessage('redis', `a token with id ${id} exists`));
  const forgetLegacy = async (id: string, hash: string, what: string) => {
    if (await maybeLegacy(what)) {
      await Promise.all([run(what, fieldDeleteIf, keys.v2.idMap(id), [id, compactHash(hash)]), run(what, deleteIfLeadsTo, keys.v1.id(id), [hash])]);
    }
  };

  return {
    lookUp,
    async claim(record) {
      const pending = pendingScore(Date.now());
      const held = await index.add(record.id, record.kind, record.hash, pending, 'insert');
      if (held) {
        // the id is filed: a duplicate, unless the entry is an orphan (its token is gone for good)
        const current = claimOf(held);
        if (isInFlight(current) || (await tokenExists(current.hash, 'insert'))) throw duplicate(record.id);
        if (!(await index.set(record.id, { hash: held.hash, score: held.score }, record.kind, record.hash, pending, 'insert'))) throw duplicate(record.id);
      } else if (await maybeLegacy('insert')) {
        // an id still held in layout v1 or v2 whose token exists is taken too
        const old = await legacyLookUp(record.id, 'insert');
        if (old !== null && (await tokenExists(old.hash, 'insert'))) {
          await index.remove(record.id, record.hash, 'insert', pending);
          throw duplicate(record.id);
        }
      }
      return pending;
    },
    confirm(record, pending) {
      return index.set(record.id, { hash: record.hash, score: pending }, record.kind, record.hash, recordScore(record), 'insert');
    },
    release: (record, pending) => index.remove(record.id, record.hash, 'insert', pending),
    async forget(id, hash, what) {
      await Promise.all([index.remove(id, hash, what), forgetLegacy(id, hash, what)]);
    },
    forgetLegacy,
    async prune(e, from, known, gone = false) {
      const current = known === undefined ? await lookUp(e.id, 'prune') : known;
      if (isInFlight(current)) return false;
      // an insert writes its token before it makes the claim final: seen final here, the token
      // either exists now or was deleted for good
      if (current && !gone && (await tokenExists(current.hash, 'prune'))) return false;
      const ops: Promise<unknown>[] = from.map((key) => calls.run('prune', () => client.zrem(key, entry(e.id, e.kind))));
      if (current) ops.push(current.legacy ? dropLegacy(e.id, current, 'prune') : index.remove(e.id, current.hash, 'prune', current.score));
      await Promise.all(ops);
      return true;
    },
  };
}
