import { DuplicateTokenError, type TokenInfo, storeMessage } from '@tokenaccess/core/store';
import { type Connection, script } from './client';
import { type Entry, compactHash, entry, expandHash, expiryEntry } from './keys';
import { DELETE_IF, HDEL_IF, HSET_IF } from './lua';

/**
 * The id map and its claim protocol. The id map is split into small hashes (`i:<n>`, n from the
 * id), whose field `<id>` leads to the token key: while an `insert` is in flight it holds a
 * claim `?<ms base36>:<hash>` (taken with HSETNX, so ids are unique), and the insert makes it
 * final (`<hash>`) only after the token is written. Hashes are stored compact (`compactHash`).
 * Readers that find an index entry whose token is missing use the claim to tell an insert still
 * running (leave it) from one that crashed or a token Redis expired (prune it, and let the id be
 * taken again).
 *
 * Layout v1 kept one string key per id (`i:{<id>}`, the full hash). While such keys may exist
 * (the v1 `{all}` index is still there: `migrateRedisLayout` has not run), a lookup that misses
 * the id map falls back to them.
 */

/**
 * How old an unfinished claim must be before it counts as left by a crashed insert (and is
 * pruned, and its id may be taken again).
 */
export const PENDING_MS = 30_000;

/** How often (ms) a store checks again whether layout v1 keys still exist. */
const V1_RECHECK_MS = 60_000;

/** Where an id leads: a hash, and since when it is claimed while the insert is unfinished. */
export interface Claim {
  hash: string;
  /** ms since epoch of the claim while the insert has not made it final */
  pendingSince?: number;
  /** found in a layout v1 id key */
  v1?: boolean;
}

/** @internal */
export function parseClaim(raw: string, v1 = false): Claim {
  const claim: Claim = raw.startsWith('?')
    ? { hash: expandHash(raw.slice(raw.indexOf(':') + 1), v1), pendingSince: v1 ? Number(raw.slice(1, raw.indexOf(':'))) : parseInt(raw.slice(1, raw.indexOf(':')), 36) }
    : { hash: expandHash(raw, v1) };
  if (v1) claim.v1 = true;
  return claim;
}

const isInFlight = (claim: Claim | null): boolean => claim?.pendingSince !== undefined && Date.now() - claim.pendingSince < PENDING_MS;

const deleteIfLeadsTo = script(DELETE_IF);
const fieldDeleteIf = script(HDEL_IF);
const fieldSetIf = script(HSET_IF);

/** The id-claim steps of `insert`, and what readers do with the claims they find. @internal */
export interface IdClaims {
  /** What the id leads to, or null when the id map has no such id. */
  lookUp(id: string, what: string): Promise<Claim | null>;
  /** Step 1 of `insert`: claims the id; returns the claim to make final. Throws `DuplicateTokenError`. */
  claim(record: TokenInfo): Promise<string>;
  /** Last step of `insert`: the claim becomes the hash. */
  confirm(record: TokenInfo): Promise<unknown>;
  /** Gives back an id whose insert failed, if the claim is still this one. */
  release(id: string, claim: string): Promise<unknown>;
  /** Removes the id when it leads to `hash` (a deleted token's). */
  forget(id: string, hash: string, what: string): Promise<unknown>;
  /**
   * An index entry whose token is missing: removes it from the zsets `from` and drops its id,
   * unless its insert may still be in flight or the token exists after all. `known` is the claim
   * the caller already read; `gone` says the caller has just seen the token key missing.
   * Returns whether it was pruned.
   */
  prune(e: Entry, from: string[], known?: Claim | null, gone?: boolean): Promise<boolean>;
}

/** @internal */
export function idClaims({ client, keys, calls, run }: Connection): IdClaims {
  let v1Until = 0;
  let v1Present: Promise<boolean> = Promise.resolve(false);
  /** Whether layout v1 keys may exist (checked at most once a minute: is the v1 `{all}` there). */
  const maybeV1 = (what: string): Promise<boolean> => {
    if (Date.now() >= v1Until) {
      v1Until = Date.now() + V1_RECHECK_MS;
      v1Present = calls.run(what, () => client.exists(keys.v1.all)).then(
        (n) => n === 1,
        (err: unknown) => {
          v1Until = 0;
          throw err;
        },
      );
    }
    return v1Present;
  };

  const lookUp = async (id: string, what: string): Promise<Claim | null> => {
    const raw = await calls.run(what, () => client.hget(keys.idMap(id), id));
    if (raw !== null) return parseClaim(raw);
    if (!(await maybeV1(what))) return null;
    const old = await calls.run(what, () => client.get(keys.v1.id(id)));
    return old === null ? null : parseClaim(old, true);
  };
  const tokenExists = async (hash: string, what: string) => (await calls.run(what, () => client.exists(keys.token(hash)))) === 1;
  const drop = (id: string, claim: Claim, what: string) =>
    claim.v1 ? run(what, deleteIfLeadsTo, keys.v1.id(id), [claim.hash]) : run(what, fieldDeleteIf, keys.idMap(id), [id, compactHash(claim.hash)]);

  /** The id is taken: a duplicate, unless the claim is an orphan (its token is gone for good). */
  const reclaim = async (record: TokenInfo, pending: string): Promise<void> => {
    const bucket = keys.idMap(record.id);
    const raw = await calls.run('insert', () => client.hget(bucket, record.id));
    if (raw === null) {
      if ((await calls.run('insert', () => client.hsetnx(bucket, record.id, pending))) === 1) return;
    } else {
      const current = parseClaim(raw);
      if (!isInFlight(current) && !(await tokenExists(current.hash, 'insert'))) {
        if ((await run('insert', fieldSetIf, bucket, [record.id, raw, pending])) === 1) return;
      }
    }
    throw new DuplicateTokenError(storeMessage('redis', `a token with id ${record.id} exists`));
  };

  return {
    lookUp,
    async claim(record) {
      const pending = `?${Date.now().toString(36)}:${compactHash(record.hash)}`;
      const taken = await calls.run('insert', () => client.hsetnx(keys.idMap(record.id), record.id, pending));
      if (taken !== 1) await reclaim(record, pending);
      else if (await maybeV1('insert')) {
        // an id still held by a v1 id key whose token exists is taken too
        const old = await calls.run('insert', () => client.get(keys.v1.id(record.id)));
        if (old !== null && (await tokenExists(parseClaim(old, true).hash, 'insert'))) {
          await run('insert', fieldDeleteIf, keys.idMap(record.id), [record.id, compactHash(record.hash)]);
          throw new DuplicateTokenError(storeMessage('redis', `a token with id ${record.id} exists`));
        }
      }
      return pending;
    },
    confirm(record) {
      return calls.run('insert', () => client.hset(keys.idMap(record.id), record.id, compactHash(record.hash)));
    },
    release: (id, claim) => run('insert', fieldDeleteIf, keys.idMap(id), [id, claim.slice(claim.indexOf(':') + 1)]),
    async forget(id, hash, what) {
      await run(what, fieldDeleteIf, keys.idMap(id), [id, compactHash(hash)]);
      if (await maybeV1(what)) await run(what, deleteIfLeadsTo, keys.v1.id(id), [hash]);
    },
    async prune(e, from, known, gone = false) {
      const current = known === undefined ? await lookUp(e.id, 'prune') : known;
      if (isInFlight(current)) return false;
      // an insert writes its token before it makes the claim final: seen final here, the token
      // either exists now or was deleted for good
      if (current && !gone && (await tokenExists(current.hash, 'prune'))) return false;
      const ops: Promise<unknown>[] = from.map((key) => calls.run('prune', () => client.zrem(key, key === keys.expiry(e.id) ? expiryEntry(e) : entry(e.id, e.kind))));
      if (current) ops.push(drop(e.id, current, 'prune'));
      await Promise.all(ops);
      return true;
    },
  };
}
