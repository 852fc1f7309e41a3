import type { ConsumePolicy } from '@tokenaccess/core/store';
import type { Document } from 'mongodb';
import { REFILE, missing } from './document';

/**
 * The filter and update of the one `findOneAndUpdate` that is `consume`'s atomic step. The
 * filter matches exactly the records core's `evaluateConsume` accepts (expiry, idle expiry, use
 * limit, URL binding, scopes); the update pipeline counts the use only for limited tokens and
 * touches `lastUsedAt` only when stale, decided by MongoDB on the current document, so
 * concurrent calls never overcount. `test/semantics.test.ts` checks both against the reference.
 */

/** Records `evaluateConsume(record, now, policy)` accepts, as a MongoDB filter. */
export function consumeFilter(hash: string, now: Date, policy: ConsumePolicy): Document {
  const and: Document[] = [
    {
      $expr: {
        $and: [
          // idle: alive while (lastUsedAt ?? createdAt) + idleTimeout > now
          { $or: [missing('$idleTimeout'), { $gt: [{ $add: [{ $ifNull: ['$lastUsedAt', '$createdAt'] }, '$idleTimeout'] }, now] }] },
          // use limit: alive while uses < maxUses
          { $or: [missing('$maxUses'), { $lt: ['$uses', '$maxUses'] }] },
        ],
      },
    },
  ];
  // `$not: { $lte }` also matches a token without expiresAt
  const filter: Document = { hash, expiresAt: { $not: { $lte: now } } };
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
 * The update pipeline: count (limited tokens), touch (stale `lastUsedAt`), then {@link REFILE}.
 * A use that exhausts a token keeps the document (its `purgeAt` moves to its tombstone), so later
 * calls answer `exhausted`, never `not_found`.
 */
export function consumeUpdate(now: Date, policy: ConsumePolicy): Document[] {
  const counted = { $not: [missing('$maxUses')] };
  const staleBefore = new Date(now.getTime() - policy.lastUsedResolution);
  const stale = { $or: [missing('$lastUsedAt'), { $lte: ['$lastUsedAt', staleBefore] }] };
  return [
    {
      $set: {
        uses: { $cond: [counted, { $add: ['$uses', 1] }, '$uses'] },
        lastUsedAt: { $cond: [stale, now, '$lastUsedAt'] },
      },
    },
    REFILE,
  ];
}
