import type { ConsumePolicy } from '@tokenaccess/core/store';
import type { Document } from 'mongodb';
import { REFILE, effectiveRate, effectiveUses, missing } from './document';

/**
 * The filter and update of the one `findOneAndUpdate` that is `consume`'s atomic step. The
 * filter matches exactly the records core's `evaluateConsume` accepts (not disabled, expiry, idle
 * expiry, use limit in the current refill period, URL binding, scopes, rate limit in the current
 * rate window); the update pipeline counts the use only for limited tokens (from 0 when a refill
 * period began), counts the verification in `rateCount` for rate-limited tokens (from 0 when a
 * rate window began) and touches `lastUsedAt` only when stale (always for a refilling counted
 * token or a rate-limited one), decided by MongoDB on the current document, so concurrent calls
 * never overcount, at a period or window boundary too.
 * `test/semantics.test.ts` checks both against the reference.
 */

/** Records `evaluateConsume(record, now, policy)` accepts, as a MongoDB filter. */
export function consumeFilter(hash: string, now: Date, policy: ConsumePolicy): Document {
  const and: Document[] = [
    {
      $expr: {
        $and: [
          // idle: alive while (lastUsedAt ?? createdAt) + idleTimeout > now
          { $or: [missing('$idleTimeout'), { $gt: [{ $add: [{ $ifNull: ['$lastUsedAt', '$createdAt'] }, '$idleTimeout'] }, now] }] },
          // use limit: alive while the uses of the current refill period < maxUses
          { $or: [missing('$maxUses'), { $lt: [effectiveUses(now), '$maxUses'] }] },
          // rate limit: alive while the verifications of the current rate window < limit. Last in
          // the reference's order, but a filter has no order: a miss is explained by judgeRead
          { $or: [missing('$rateLimit'), { $lt: [effectiveRate(now), '$rateLimit.limit'] }] },
        ],
      },
    },
  ];
  // `$not: { $lte }` also matches a token without expiresAt; `disabledAt: null` matches an
  // absent (or null) field: a disabled token matches nothing, and the read explains 'disabled'
  const filter: Document = { hash, disabledAt: null, expiresAt: { $not: { $lte: now } } };
  if (policy.url) {
    filter['url.canonical'] = policy.url.canonical;
    filter['url.methods'] = policy.url.method; // array contains
    if (policy.url.origin !== undefined) and.push({ $or: [{ 'url.origin': { $exists: false } }, { 'url.origin': policy.url.origin }] });
  } else {
    // a share link cannot be replayed as a Bearer token
    filter.url = { $exists: false };
  }
  if (policy.scopes) {
    const lists = policy.scopes.anyOf.map((accepted) => ({ scopes: { $in: accepted } }));
    if (policy.scopes.mode === 'all') and.push(...lists);
    // `any` of nothing is false; `$or: []` is not a valid filter, so say "no document"
    else and.push(lists.length ? { $or: lists } : { _id: { $in: [] } });
  }
  filter.$and = and;
  return filter;
}

/**
 * The update pipeline: count (limited tokens, from 0 in a new refill period; rate-limited tokens
 * in `rateCount`, from 0 in a new rate window), touch (stale `lastUsedAt`, or any counted use of a
 * refilling token, or any verification of a rate-limited one, so `lastUsedAt` names the period
 * `uses` counts and the window `rateCount` counts), then {@link REFILE}. Every field of the first
 * stage is computed from the document as it was before it (both counts from the old
 * `lastUsedAt`). A use that exhausts a token keeps the document (its `purgeAt` moves to its
 * tombstone, unless it refills), so later calls answer `exhausted`, never `not_found`.
 */
export function consumeUpdate(now: Date, policy: ConsumePolicy): Document[] {
  const counted = { $not: [missing('$maxUses')] };
  const limited = { $not: [missing('$rateLimit')] };
  const staleBefore = new Date(now.getTime() - policy.lastUsedResolution);
  const touch = { $or: [missing('$lastUsedAt'), { $lte: ['$lastUsedAt', staleBefore] }, { $and: [counted, { $not: [missing('$refill')] }] }, limited] };
  return [
    {
      $set: {
        uses: { $cond: [counted, { $add: [effectiveUses(now), 1] }, '$uses'] },
        // without a limit the count stays as it is (kept by `update(id, { rateLimit: null })`),
        // and an absent one stays absent
        rateCount: { $cond: [limited, { $add: [effectiveRate(now), 1] }, { $cond: [missing('$rateCount'), '$$REMOVE', '$rateCount'] }] },
        // never moves back: a late request from an earlier period counts against the later one
        // (the explicit `$cond` for a missing lastUsedAt: mingo's `$max` answers null there)
        lastUsedAt: { $cond: [touch, { $cond: [missing('$lastUsedAt'), now, { $max: ['$lastUsedAt', now] }] }, '$lastUsedAt'] },
      },
    },
    REFILE,
  ];
}
