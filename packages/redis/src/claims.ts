import { DuplicateTokenError, type TokenInfo, storeMessage } from '@tokenaccess/core/store';
import { type Connection, script } from './client';
import { type Entry, expiryEntry, entry } from './keys';
import { DELETE_IF, SET_IF } from './lua';

/**
 * The id-claim protocol. The id key `i:{id}` leads to the token key: while an `insert` is in
 * flight it holds a claim `?<ms>:<hash>` (taken with NX, so ids are unique), and the insert
 * makes it final (`<hash>`) only after the token is written. Readers that find an index entry
 * whose token is missing use the claim to tell an insert still running (leave it) from one that
 * crashed or a token Redis expired (prune it, and let the id be taken again).
 */

/**
 * How old an unfinished claim must be before it counts as left by a crashed insert (and is
 * pruned, and its id may be taken again).
 */
export const PENDING_MS = 30_000;

/** Where an id key leads: a hash, and since when it is claimed while the insert is unfinished. */
export interface Claim {
  hash: string;
  /** ms since epoch of the claim while the insert has not made it final */
  pendingSince?: number;
}

/** @internal */
export function parseClaim(raw: string): Claim {
  if (!raw.startsWith('?')) return { hash: raw };
  const colon = raw.indexOf(':');
  return { hash: raw.slice(colon + 1), pendingSince: Number(raw.slice(1, colon)) };
}

const isInFlight = (claim: Claim | null): boolean => claim?.pendingSince !== undefined && Date.now() - claim.pendingSince < PENDING_MS;

const deleteIfLeadsTo = script(DELETE_IF);
const setIfUnchanged = script(SET_IF);

/** The id-claim steps of `insert`, and what readers do with the claims they find. @internal */
export interface IdClaims {
  /** What the id leads to, or null when its id key is gone. */
  lookUp(id: string, what: string): Promise<Claim | null>;
  /** Step 1 of `insert`: claims the id; returns the claim to make final. Throws `DuplicateTokenError`. */
  claim(record: TokenInfo): Promise<string>;
  /** Last step of `insert`: the claim becomes the hash, expiring with the token's absolute expiry. */
  confirm(record: TokenInfo): Promise<unknown>;
  /** Gives back an id whose insert failed, if the claim is still this one. */
  release(id: string, claim: string): Promise<unknown>;
  /** Deletes the id key when it leads to `hash` (a deleted token's). */
  forget(id: string, hash: string, what: string): Promise<unknown>;
  /** After `update`: the id key expires with the record's new absolute expiry. */
  refileExpiry(record: TokenInfo): Promise<unknown>;
  /**
   * An index entry whose token is missing: removes it from the zsets `from` and drops its id
   * key, unless its insert may still be in flight or the token exists after all. `known` is
   * the claim the caller already read. Returns whether it was pruned.
   */
  prune(e: Entry, from: string[], known?: Claim | null): Promise<boolean>;
}

/** @internal */
export function idClaims({ client, keys, calls, expiryGrace, run }: Connection): IdClaims {
  const lookUp = async (id: string, what: string): Promise<Claim | null> => {
    const raw = await calls.run(what, () => client.get(keys.id(id)));
    return raw === null ? null : parseClaim(raw);
  };
  const tokenExists = async (hash: string, what: string) => (await calls.run(what, () => client.exists(keys.token(hash)))) === 1;
  const expiryAt = (record: TokenInfo) => (record.expiresAt === undefined ? undefined : Math.round(record.expiresAt.getTime() + expiryGrace));

  /** The id is taken: a duplicate, unless the claim is an orphan (its token is gone for good). */
  const reclaim = async (record: TokenInfo, pending: string): Promise<void> => {
    const idKey = keys.id(record.id);
    const raw = await calls.run('insert', () => client.get(idKey));
    if (raw === null) {
      if ((await calls.run('insert', () => client.set(idKey, pending, 'NX'))) === 'OK') return;
    } else {
      const current = parseClaim(raw);
      if (!isInFlight(current) && !(await tokenExists(current.hash, 'insert'))) {
        if ((await run('insert', setIfUnchanged, idKey, [raw, pending])) === 1) return;
      }
    }
    throw new DuplicateTokenError(storeMessage('redis', `a token with id ${record.id} exists`));
  };

  return {
    lookUp,
    async claim(record) {
      const pending = `?${Date.now()}:${record.hash}`;
      const taken = await calls.run('insert', () => client.set(keys.id(record.id), pending, 'NX'));
      if (taken !== 'OK') await reclaim(record, pending);
      return pending;
    },
    confirm(record) {
      const idKey = keys.id(record.id);
      const at = expiryAt(record);
      return calls.run('insert', () => (at === undefined ? client.set(idKey, record.hash, 'XX') : client.set(idKey, record.hash, 'PXAT', at, 'XX')));
    },
    release: (id, claim) => run('insert', deleteIfLeadsTo, keys.id(id), [claim]),
    forget: (id, hash, what) => run(what, deleteIfLeadsTo, keys.id(id), [hash]),
    refileExpiry(record) {
      const idKey = keys.id(record.id);
      const at = expiryAt(record);
      return calls.run('update', () => (at === undefined ? client.persist(idKey) : client.pexpireat(idKey, at)));
    },
    async prune(e, from, known) {
      const current = known === undefined ? await lookUp(e.id, 'prune') : known;
      if (isInFlight(current)) return false;
      // an insert writes its token before it makes the claim final: seen final here, the token
      // either exists now or was deleted for good
      if (current && (await tokenExists(current.hash, 'prune'))) return false;
      const ops: Promise<unknown>[] = from.map((key) => calls.run('prune', () => client.zrem(key, key === keys.expiry ? expiryEntry(e) : entry(e.id, e.kind))));
      if (current) ops.push(run('prune', deleteIfLeadsTo, keys.id(e.id), [current.hash]));
      await Promise.all(ops);
      return true;
    },
  };
}
