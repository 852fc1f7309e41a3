import { type ListPage, type ListQuery, type SweepOptions, type TokenInfo, checkListQuery, dutyCycle, listMatches, sweepInBatches } from '@tokenaccess/core/store';
import { type IdClaims, PENDING_MS, claimOf } from './claims';
import { type Connection, script } from './client';
import { type Entry, after, entry, parseEntry } from './keys';
import { type Filed, type LeafIndex, type Ranged, pendingSince, recordScore } from './leaves';
import { DELETE, SWEEP_ONE } from './lua';
import { decode } from './record';

const deleteWithId = script(DELETE);

/** Index entries one `removeMany` call of a sweep takes out: a few dozen µs of Redis time, so a verify never waits long behind it. */
const REMOVE_AT_ONCE = 16;
const deleteIfDead = script(SWEEP_ONE);

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
  /** Files a record again under its due time ({@link recordScore}). */
  refile(record: TokenInfo, what: string): Promise<unknown>;
  /** The record an index entry leads to, or null (and the entry is pruned when it is stale). */
  follow(e: Entry, from: string[], what: string): Promise<TokenInfo | null>;
  list(query: ListQuery): Promise<ListPage>;
  deleteBySubject(subject: string): Promise<number>;
  sweep(now: Date, options?: SweepOptions): Promise<number>;
}

/** @internal */
export function indexes({ client, keys, calls, run }: Connection, index: LeafIndex, claims: IdClaims, pace: SweepPace): Indexes {
  const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);

  const unindex = (record: TokenInfo) => {
    const member = entry(record.id, record.kind);
    const ops: Promise<unknown>[] = [claims.forget(record.id, record.hash, 'unindex')];
    if (record.subject !== undefined) ops.push(calls.run('unindex', () => client.zrem(keys.subject(record.subject!), member)));
    if (record.parentId !== undefined) ops.push(calls.run('unindex', () => client.zrem(keys.parent(record.parentId!), member)));
    return Promise.all(ops);
  };

  const refile = (record: TokenInfo, what: string) => index.set(record.id, { hash: record.hash }, record.kind, record.hash, recordScore(record), what);

  const follow = async (e: Entry, from: string[], what: string): Promise<TokenInfo | null> => {
    const claim = await claims.lookUp(e.id, what);
    const value = claim ? await calls.run(what, () => client.get(keys.token(claim.hash))) : null;
    const record = value === null ? null : decode(value, claim!.hash);
    if (record?.id === e.id) return record;
    if (!record) quietly(claims.prune(e, from, claim));
    return null;
  };

  /** The record a token-index entry leads to (it holds the hash: one GET), or null. */
  const followFiled = async (f: Filed, what: string): Promise<TokenInfo | null> => {
    const value = await calls.run(what, () => client.get(keys.token(f.hash)));
    const record = value === null ? null : decode(value, f.hash);
    if (record?.id === f.id) return record;
    if (!record) quietly(claims.prune({ id: f.id, kind: f.kind }, [], claimOf(f)));
    return null;
  };

  /**
   * One due entry of the token index at `now`: 1 when a dead token was deleted or cleared, else 0.
   * An entry to take out of the index is pushed on `drop`: the sweep removes a page's at once.
   */
  const sweepEntry = async (f: Filed, now: number, drop: Filed[]): Promise<number> => {
    const since = pendingSince(f.score);
    if (since !== undefined) {
      // an insert that has not finished: still running, or crashed before or after its SET
      // (by the wall clock: a sweep called with a `now` ahead of it must not take a running insert for a crashed one)
      if (Date.now() - since < PENDING_MS) return 0;
      const value = await calls.run('sweep', () => client.get(keys.token(f.hash)));
      const record = value === null ? null : decode(value, f.hash);
      if (record?.id === f.id) return void (await index.set(f.id, { hash: f.hash, score: f.score }, f.kind, f.hash, recordScore(record), 'sweep')), 0;
      drop.push(f);
      return 1;
    }
    const [state, a, b] = (await run('sweep', deleteIfDead, keys.token(f.hash), [now, f.id])) as [string, string | undefined, string | undefined];
    if (state === 'deleted') {
      // the script sent back only the subject and the parent: their indexes, and the old layouts'
      const member = entry(f.id, f.kind);
      const ops: Promise<unknown>[] = [claims.forgetLegacy(f.id, f.hash, 'sweep')];
      if (a) ops.push(calls.run('sweep', () => client.zrem(keys.subject(a), member)));
      if (b) ops.push(calls.run('sweep', () => client.zrem(keys.parent(b), member)));
      await Promise.all(ops);
      drop.push(f);
      return 1;
    }
    if (state === 'alive') {
      // its deadline moved since it was filed (an idle timeout, an update): file it under the new one
      await index.set(f.id, { hash: f.hash, score: f.score }, f.kind, f.hash, recordScore(decode(a!, f.hash)), 'sweep');
      return 0;
    }
    if (state === 'other') return 0;
    // already gone (Redis's TTL removed it): its entry goes. Its subject's and parent's entries
    // (the index does not say which) go when that subject or parent is next walked
    drop.push(f);
    return 1;
  };

  /**
   * The entries of every index bucket in one id order, from after `cursor`: a k-way merge that
   * reads each bucket about `chunk` entries (whole leaves) at a time. A read past the cursor is
   * never empty while the bucket has leaves left: every leaf after the cursor's holds only ids
   * above it.
   */
  const merged = (cursor: string | undefined, chunk: number) => {
    const state = keys.indexBuckets.map((dir) => ({ dir, start: cursor, buf: [] as Ranged[], at: 0, done: false }));
    const refill = async (s: (typeof state)[number]) => {
      const { entries, more } = await index.range(s.dir, s.start, chunk, 'list');
      s.buf = entries;
      s.at = 0;
      if (!more || entries.length === 0) s.done = true;
      else s.start = entries[entries.length - 1]!.id;
    };
    return async (n: number): Promise<Filed[]> => {
      const out: Filed[] = [];
      while (out.length < n) {
        await Promise.all(state.filter((s) => s.at >= s.buf.length && !s.done).map(refill));
        let best: (typeof state)[number] | undefined;
        for (const s of state) if (s.at < s.buf.length && (best === undefined || Buffer.compare(s.buf[s.at]!.key, best.buf[best.at]!.key) < 0)) best = s;
        if (!best) break;
        out.push(best.buf[best.at++]!);
      }
      return out;
    };
  };

  /** One zset (a subject's or a parent's), read in order from after `cursor`. */
  const single = (key: string, cursor: string | undefined) => {
    let start = cursor ? after(cursor) : '-';
    let done = false;
    return async (n: number): Promise<Entry[]> => {
      if (done) return [];
      const members = await calls.run('list', () => client.zrangebylex(key, start, '+', 'LIMIT', 0, n));
      if (members.length < n) done = true;
      else start = after(parseEntry(members[members.length - 1]!)!.id);
      return members.map(parseEntry).filter((e): e is Entry => e !== null);
    };
  };

  return {
    unindex,
    refile,
    follow,

    async list(query) {
      const { subject, kind, parentId, limit, cursor } = checkListQuery('redis', query);
      // the smallest index that holds every match: a parent's children, a subject's tokens, or
      // the token index's buckets merged; what that index cannot answer is checked on the records
      const key = parentId !== undefined ? keys.parent(parentId) : subject !== undefined ? keys.subject(subject) : undefined;
      const filtered = (parentId !== undefined && subject !== undefined) || query.expiringBefore !== undefined;
      const items: TokenInfo[] = [];
      const keep = (found: (TokenInfo | null)[]) => {
        for (const record of found) if (record && listMatches(record, query)) items.push(record);
      };
      if (key !== undefined) {
        const next = single(key, cursor);
        // one more than the page, to know whether a next page exists
        while (items.length <= limit) {
          const batch = Math.max(limit + 1 - items.length, filtered || kind !== undefined ? 100 : 16);
          const entries = await next(batch);
          keep(await Promise.all(entries.filter((e) => kind === undefined || e.kind === kind).map((e) => follow(e, [key], 'list'))));
          if (entries.length < batch) break;
        }
      } else {
        const next = merged(cursor, Math.max(8, Math.ceil((limit + 1) / keys.indexBuckets.length) + 2));
        while (items.length <= limit) {
          const batch = Math.max(limit + 1 - items.length, filtered || kind !== undefined ? 100 : 16);
          const entries = await next(batch);
          keep(await Promise.all(entries.filter((f) => kind === undefined || f.kind === kind).map((f) => followFiled(f, 'list'))));
          if (entries.length < batch) break;
        }
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
            if (value === null) return void (await claims.prune({ ...e, subject }, [key], claim));
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
      const buckets = keys.indexBuckets;
      // one bucket after the other, the due entries of a few whole leaves read at a time (going
      // on after the last leaf read), handed out `batchSize` at a time
      let b = 0;
      let from: string | undefined;
      let queue: Filed[] = [];
      const cycle = dutyCycle(pace.share, pace.pauseMs);
      const page = Math.max(16, pace.concurrency * 8);
      return sweepInBatches('redis', options, async (batchSize) => {
        while (queue.length === 0 && b < buckets.length) {
          const { entries, next } = await index.due(buckets[b]!, from, t, page);
          queue = entries;
          from = next;
          if (next === undefined) b++;
        }
        const batch = queue.splice(0, batchSize);
        let deleted = 0;
        const drop: Filed[] = [];
        // a few entries at a time, resting in between: the process's own verifies share the
        // connection and the event loop with the sweep, and must not queue behind a whole batch;
        // the duty cycle bounds the share of both the sweep takes, whatever a step costs here
        for (let i = 0; i < batch.length; i += pace.concurrency) {
          const counts = await Promise.all(batch.slice(i, i + pace.concurrency).map((f) => sweepEntry(f, t, drop)));
          deleted += counts.reduce((a, c) => a + c, 0);
          await cycle.rest();
        }
        // the index entries of the tokens gone, one script per bucket page (a leaf is read once,
        // not once per entry); an entry left by a sweep cut short here is found dead by the next
        for (let i = 0; i < drop.length; i += REMOVE_AT_ONCE) {
          await index.removeMany(keys.index(drop[i]!.id), drop.slice(i, i + REMOVE_AT_ONCE), 'sweep');
          await cycle.rest();
        }
        return { deleted, more: queue.length > 0 || b < buckets.length };
      });
    },
  };
}
