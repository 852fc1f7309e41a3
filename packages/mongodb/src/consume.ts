import type { ConsumePolicy } from '@tokenaccess/core';
import { TOMBSTONE_MS } from '@tokenaccess/core/store';
import type { Document } from 'mongodb';

/**
 * The filter and update of the one `findOneAndUpdate` that is `consume`. The filter matches
 * exactly the records `evaluateConsume` accepts (expiry, idle expiry, use limit, URL binding,
 * scopes); the update pipeline counts the use only for limited tokens and touches `lastUsedAt`
 * only when stale, decided by MongoDB on the current document, so concurrent calls never
 * overcount.
 */

const missing = (field: string) => ({ $eq: [{ $type: field }, 'missing'] });

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
 * The update pipeline: count (limited tokens), touch (stale `lastUsedAt`), recompute `purgeAt`
 * and `usedUp`. A use that exhausts a token keeps the document: with no deadline the TTL index
 * removes it `TOMBSTONE_MS` after its last use, so later calls answer `exhausted`, never
 * `not_found`.
 */
export function consumeUpdate(now: Date, policy: ConsumePolicy): Document[] {
  const counted = { $not: [missing('$maxUses')] };
  const staleBefore = new Date(now.getTime() - policy.lastUsedResolution);
  const stale = { $or: [missing('$lastUsedAt'), { $lte: ['$lastUsedAt', staleBefore] }] };
  const spent = { $and: [counted, { $gte: ['$uses', '$maxUses'] }] };
  return [
    {
      $set: {
        uses: { $cond: [counted, { $add: ['$uses', 1] }, '$uses'] },
        lastUsedAt: { $cond: [stale, now, '$lastUsedAt'] },
      },
    },
    {
      // core's `purgeAt()` and `isUsedUp()`, as at insert, from the fields as they are now
      // (`$min` skips missing and null values; all missing gives null)
      $set: {
        purgeAt: {
          $ifNull: [
            { $min: ['$expiresAt', { $cond: [missing('$idleTimeout'), null, { $add: ['$lastUsedAt', '$idleTimeout'] }] }] },
            { $cond: [spent, { $add: [{ $ifNull: ['$lastUsedAt', '$createdAt'] }, TOMBSTONE_MS] }, '$$REMOVE'] },
          ],
        },
        usedUp: { $cond: [spent, true, '$$REMOVE'] },
      },
    },
  ];
}
