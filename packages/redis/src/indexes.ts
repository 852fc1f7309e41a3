import { type ListPage, type ListQuery, type SweepOptions, type TokenInfo, checkListQuery, dutyCycle, listMatches, sweepInBatches, timeDeadline } from '@tokenaccess/core/store';
import type { IdClaims } from './claims';
import { type Connection, script } from './client';
import { type Entry, after, entry, expiryEntry, parseEntry } from './keys';
import { DELETE, SWEEP_ONE } from './lua';
import { decode } from './record';

const deleteWithId = script(DELETE);
const deleteIfDead = script(SWEEP_ONE);

/**
 * The score of a record in its `exp` bucket: its time deadline, or 0 when it is stored used up
 * for good (dead now, so the next `sweep` deletes it; a refilling token is not: its budget comes
 * back); undefined when it belongs in no `exp` bucket.
 * @internal
 */
export function expiryScore(record: TokenInfo): number | undefined {
  if (record.maxUses !== undefined && record.refill === undefined && record.uses >= record.maxUses) return 0;
  return timeDeadline(record);
}

/** How a sweep paces itself, so the process's own verifies are not starved. @internal */
export interface SweepPace {
  /** Index entries handled at once. */
  concurrency: number;
  /** Least pause (ms) after each group of `concurrency` entries; 0 yields to the event loop only. */
  pauseMs: number;
  /** Share of the wall time the sweep may spend working, in (0, 1]; 1 is full speed. */
  share: number;
}

/** The index walks: `list`, `deleteBySubject`, `sweep`, and the index upkeep they share. @internal */
export interface Indexes {
  /** Removes a deleted record's index entries (best effort per entry; the token key is the truth). */
  unindex(record: TokenInfo): Promise<unknown>;
  /** Files a record in its `exp` bucket under {@link expiryScore}, or takes it out. */
  refileExpiry(record: TokenInfo): Promise<unknown>;
  /** The record an index entry leads to, or null (and the entry is pruned when it is stale). */
  follow(e: Entry, from: string[], what: string): Promise<TokenInfo | null>;
  list(query: ListQuery): Promise<ListPage>;
  deleteBySubject(subject: string): Promise<number>;
  sweep(now: Date, options?: SweepOptions): Promise<number>;
}

/** Byte order of two members, as Redis sorts them (memcmp of the UTF-8). */
function lexLess(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
}

/** @internal */
export function indexes({ client, keys, calls, run }: Connection, claims: IdClaims, pace: SweepPace): Indexes {
  const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);

  const unindex = (record: TokenInfo) => {
    const member = entry(record.id, record.kind);
    const ops: Promise<unknown>[] = [
      claims.forget(record.id, record.hash, 'unindex'),
      calls.run('unindex', () => client.zrem(keys.all(record.id), member)),
      calls.run('unindex', () => client.zrem(keys.expiry(record.id), expiryEntry(record))),
    ];
    if (record.subject !== undefined) ops.push(calls.run('unindex', () => client.zrem(keys.subject(record.subject!), member)));
    if (record.parentId !== undefined) ops.push(calls.run('unindex', () => client.zrem(keys.parent(record.parentId!), member)));
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

  /** Every index entry of a token that Redis removed, for `prune`. */
  const indexesOf = (e: Entry) => {
    const from = [keys.expiry(e.id), keys.all(e.id)];
    if (e.subject !== undefined) from.push(keys.subject(e.subject));
    if (e.parentId !== undefined) from.push(keys.parent(e.parentId));
    return from;
  };

  /** One `exp` entry due at `now`: 1 when a dead token was deleted or cleared, else 0. */
  const sweepEntry = async (bucket: string, member: string, now: number, keepInPlace: () => void): Promise<number> => {
    const e = parseEntry(member);
    if (!e) {
      await calls.run('sweep', () => client.zrem(bucket, member));
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
      await calls.run('sweep', () => (deadline === undefined ? client.zrem(bucket, member) : client.zadd(bucket, 'XX', deadline, member)));
      return 0;
    }
    // already gone (Redis's TTL removed it): clear what it left in the indexes
    if (await claims.prune(e, indexesOf(e), claim, state === 'missing')) return 1;
    keepInPlace();
    return 0;
  };

  /** Members of one zset after `start`, `size` at most, in order. */
  const range = (key: string, start: string, size: number) => calls.run('list', () => client.zrangebylex(key, start, '+', 'LIMIT', 0, size));

  /**
   * The members of several zsets (the `all` buckets) in one order, from after `cursor`: a k-way
   * merge that reads each bucket `chunk` members at a time, so a page costs about one command
   * per bucket.
   */
  const merged = (buckets: string[], cursor: string | undefined, chunk: number) => {
    const state = buckets.map((key) => ({ key, buf: [] as string[], at: 0, start: cursor ? after(cursor) : '-', done: false }));
    const refill = async (s: (typeof state)[number]) => {
      const members = await range(s.key, s.start, chunk);
      s.buf = members;
      s.at = 0;
      if (members.length < chunk) s.done = true;
      else s.start = after(parseEntry(members[members.length - 1]!)!.id);
    };
    return async (n: number): Promise<string[]> => {
      const out: string[] = [];
      while (out.length < n) {
        await Promise.all(state.filter((s) => s.at >= s.buf.length && !s.done).map(refill));
        let best: (typeof state)[number] | undefined;
        for (const s of state) if (s.at < s.buf.length && (best === undefined || lexLess(s.buf[s.at]!, best.buf[best.at]!))) best = s;
        if (!best) break;
        out.push(best.buf[best.at++]!);
      }
      return out;
    };
  };

  /** One zset, read in order from after `cursor`. */
  const single = (key: string, cursor: string | undefined) => {
    let start = cursor ? after(cursor) : '-';
    let done = false;
    return async (n: number): Promise<string[]> => {
      if (done) return [];
      const members = await range(key, start, n);
      if (members.length < n) done = true;
      else start = after(parseEntry(members[members.length - 1]!)!.id);
      return members;
    };
  };

  return {
    unindex,
    follow,
    refileExpiry(record) {
      const score = expiryScore(record);
      const member = expiryEntry(record);
      const key = keys.expiry(record.id);
      return calls.run('update', () => (score === undefined ? client.zrem(key, member) : client.zadd(key, score, member)));
    },

    async list(query) {
      const { subject, kind, parentId, limit, cursor } = checkListQuery('redis', query);
      // the smallest index that holds every match: a parent's children, a subject's tokens, or
      // the `all` buckets merged; what that index cannot answer is checked on the records
      const key = parentId !== undefined ? keys.parent(parentId) : subject !== undefined ? keys.subject(subject) : undefined;
      const filtered = (parentId !== undefined && subject !== undefined) || query.expiringBefore !== undefined;
      const next = key !== undefined ? single(key, cursor) : merged(keys.allBuckets, cursor, Math.max(8, Math.ceil((limit + 1) / keys.allBuckets.length) + 2));
      const items: TokenInfo[] = [];
      // one more than the page, to know whether a next page exists
      while (items.length <= limit) {
        const batch = Math.max(limit + 1 - items.length, filtered || kind !== undefined ? 100 : 16);
        const members = await next(batch);
        const entries = members.map(parseEntry).filter((e): e is Entry => e !== null && (kind === undefined || e.kind === kind));
        const from = (e: Entry) => [key ?? keys.all(e.id)];
        const found = await Promise.all(entries.map((e) => follow(e, from(e), 'list')));
        for (const record of found) if (record && listMatches(record, query)) items.push(record);
        if (members.length < batch) break;
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
            if (value === null) return void (await claims.prune({ ...e, subject }, [key, keys.all(e.id), keys.expiry(e.id)], claim));
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
      const buckets = keys.expiryBuckets;
      // one bucket after the other, `batchSize` entries at a time; entries kept in place (an
      // insert in flight) are stepped over, not read again
      let b = 0;
      let skip = 0;
      const keepInPlace = () => void skip++;
      const cycle = dutyCycle(pace.share, pace.pauseMs);
      // a page of the bucket at a time, a few dozen entries, not a whole batch (1,000 members):
      // the sweep ran faster so (bench/scale, 2e5: 72 → 51–53 s); the verifies' p99 during it did
      // not move beyond noise
      const page = Math.max(16, pace.concurrency * 8);
      return sweepInBatches('redis', options, async (batchSize) => {
        const size = Math.min(batchSize, page);
        const bucket = buckets[b]!;
        const members = await calls.run('sweep', () => client.zrangebyscore(bucket, '-inf', t, 'LIMIT', skip, size));
        let deleted = 0;
        // a few entries at a time, resting in between: the process's own verifies share the
        // connection and the event loop with the sweep, and must not queue behind a whole batch;
        // the duty cycle bounds the share of both the sweep takes, whatever a step costs here
        for (let i = 0; i < members.length; i += pace.concurrency) {
          const counts = await Promise.all(members.slice(i, i + pace.concurrency).map((m) => sweepEntry(bucket, m, t, keepInPlace)));
          deleted += counts.reduce((a, c) => a + c, 0);
          await cycle.rest();
        }
        if (members.length < size) {
          b++;
          skip = 0;
        }
        return { deleted, more: b < buckets.length };
      });
    },
  };
}
