import { type ListPage, type ListQuery, type SweepOptions, type TokenInfo, checkListQuery, listMatches, sweepInBatches, timeDeadline } from '@tokenaccess/core/store';
import type { IdClaims } from './claims';
import { type Connection, script } from './client';
import { type Entry, after, entry, expiryEntry, parseEntry } from './keys';
import { DELETE, SWEEP_ONE } from './lua';
import { decode } from './record';

const deleteWithId = script(DELETE);
const deleteIfDead = script(SWEEP_ONE);

/**
 * The score of a record in `{exp}`: its time deadline, or 0 when it is stored used up for good
 * (dead now, so the next `sweep` deletes it; a refilling token is not: its budget comes back);
 * undefined when it belongs in no `{exp}`.
 * @internal
 */
export function expiryScore(record: TokenInfo): number | undefined {
  if (record.maxUses !== undefined && record.refill === undefined && record.uses >= record.maxUses) return 0;
  return timeDeadline(record);
}

/** The index walks: `list`, `deleteBySubject`, `sweep`, and the index upkeep they share. @internal */
export interface Indexes {
  /** Removes a deleted record's index entries (best effort per entry; the token key is the truth). */
  unindex(record: TokenInfo): Promise<unknown>;
  /** Files a record in `{exp}` under {@link expiryScore}, or takes it out. */
  refileExpiry(record: TokenInfo): Promise<unknown>;
  /** The record an index entry leads to, or null (and the entry is pruned when it is stale). */
  follow(e: Entry, from: string[], what: string): Promise<TokenInfo | null>;
  list(query: ListQuery): Promise<ListPage>;
  deleteBySubject(subject: string): Promise<number>;
  sweep(now: Date, options?: SweepOptions): Promise<number>;
}

/** @internal */
export function indexes({ client, keys, calls, run }: Connection, claims: IdClaims): Indexes {
  const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);

  const unindex = (record: TokenInfo) => {
    const member = entry(record.id, record.kind);
    const ops: Promise<unknown>[] = [
      claims.forget(record.id, record.hash, 'unindex'),
      calls.run('unindex', () => client.zrem(keys.all, member)),
      calls.run('unindex', () => client.zrem(keys.expiry, expiryEntry(record))),
    ];
    if (record.subject !== undefined) ops.push(calls.run('unindex', () => client.zrem(keys.subject(record.subject!), member)));
    return Promise.all(ops);
  };

  const follow = async (e: Entry, from: string[], what: string): Promise<TokenInfo | null> => {
    const claim = await claims.lookUp(e.id, what);
    const value = claim ? await calls.run(what, () => client.get(keys.token(claim.hash))) : null;
    const record = value === null ? null : decode(value, claim!.hash);
    if (record?.id === e.id) return record;
    if (!record) quietly(claims.prune(e, from, claim));
    return null;
  };

  /** One `{exp}` entry due at `now`: 1 when a dead token was deleted or cleared, else 0. */
  const sweepEntry = async (member: string, now: number, keepInPlace: () => void): Promise<number> => {
    const e = parseEntry(member);
    if (!e) {
      await calls.run('sweep', () => client.zrem(keys.expiry, member));
      return 0;
    }
    const claim = await claims.lookUp(e.id, 'sweep');
    const [state, value] = claim ? ((await run('sweep', deleteIfDead, keys.token(claim.hash), [now, e.id])) as [string, string | undefined]) : ['missing', undefined];
    if (state === 'deleted') {
      await unindex(decode(value!, claim!.hash));
      return 1;
    }
    if (state === 'alive') {
      // the idle deadline moved since it was indexed: file it under the new one
      const deadline = timeDeadline(decode(value!, claim!.hash));
      await calls.run('sweep', () => (deadline === undefined ? client.zrem(keys.expiry, member) : client.zadd(keys.expiry, 'XX', deadline, member)));
      return 0;
    }
    // already gone (Redis's TTL removed it): clear what it left in the indexes
    if (await claims.prune(e, [keys.expiry, keys.all, ...(e.subject !== undefined ? [keys.subject(e.subject)] : [])], claim)) return 1;
    keepInPlace();
    return 0;
  };

  return {
    unindex,
    follow,
    refileExpiry(record) {
      const score = expiryScore(record);
      const member = expiryEntry(record);
      return calls.run('update', () => (score === undefined ? client.zrem(keys.expiry, member) : client.zadd(keys.expiry, score, member)));
    },

    async list(query) {
      const { subject, kind, limit, cursor } = checkListQuery('redis', query);
      const key = subject === undefined ? keys.all : keys.subject(subject);
      // filters the index cannot answer are checked on the records (core's listMatches)
      const filtered = query.parentId !== undefined || query.expiringBefore !== undefined;
      const items: TokenInfo[] = [];
      let start = cursor ? after(cursor) : '-';
      // one more than the page, to know whether a next page exists
      while (items.length <= limit) {
        const batch = Math.max(limit + 1 - items.length, filtered ? 100 : 16);
        const members = await calls.run('list', () => client.zrangebylex(key, start, '+', 'LIMIT', 0, batch));
        const entries = members.map(parseEntry).filter((e): e is Entry => e !== null && (kind === undefined || e.kind === kind));
        const found = await Promise.all(entries.map((e) => follow(e, [key], 'list')));
        for (const record of found) if (record && listMatches(record, query)) items.push(record);
        if (members.length < batch) break;
        start = after(parseEntry(members[members.length - 1]!)!.id);
      }
      if (items.length <= limit) return { items };
      const page = items.slice(0, limit);
      return { items: page, cursor: page[limit - 1]!.id };
    },

    async deleteBySubject(subject) {
      const key = keys.subject(subject);
      let deleted = 0;
      let start = '-';
      for (;;) {
        const members = await calls.run('deleteBySubject', () => client.zrangebylex(key, start, '+', 'LIMIT', 0, 500));
        const entries = members.map(parseEntry).filter((e): e is Entry => e !== null);
        await Promise.all(
          entries.map(async (e) => {
            const claim = await claims.lookUp(e.id, 'deleteBySubject');
            const value = claim ? ((await run('deleteBySubject', deleteWithId, keys.token(claim.hash), [e.id])) as string | null) : null;
            if (value === null) return void (await claims.prune({ ...e, subject }, [key, keys.all, keys.expiry], claim));
            deleted++;
            await unindex(decode(value, claim!.hash));
          }),
        );
        if (members.length < 500) break;
        start = after(parseEntry(members[members.length - 1]!)!.id);
      }
      return deleted;
    },

    sweep(now, options) {
      const t = now.getTime();
      // entries kept in place (an insert in flight) are stepped over, not read again
      let skip = 0;
      const keepInPlace = () => void skip++;
      return sweepInBatches('redis', options, async (size) => {
        const members = await calls.run('sweep', () => client.zrangebyscore(keys.expiry, '-inf', t, 'LIMIT', skip, size));
        const counts = await Promise.all(members.map((m) => sweepEntry(m, t, keepInPlace)));
        return { deleted: counts.reduce((a, b) => a + b, 0), more: members.length === size };
      });
    },
  };
}
