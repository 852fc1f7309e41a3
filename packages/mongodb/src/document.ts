import { TOMBSTONE_MS, purgeAt, type JsonValue, type TokenInfo } from '@tokenaccess/core/store';
import type { Document } from 'mongodb';

/**
 * A token as MongoDB stores it: the {@link TokenInfo} fields, with `id` as `_id` (so the id's
 * unique index is the built-in `_id` index), `metadata` as JSON text, and two fields of its own
 * for the TTL index and `sweep`. Absent optional fields are absent, never `null`.
 */
export type TokenDocument = Omit<TokenInfo, 'id' | 'metadata'> & {
  /** The token's public id (sorts in creation order). */
  _id: string;
  /**
   * JSON text, not a subdocument: metadata keys may hold `.` and `$` (which MongoDB before 5.0
   * cannot store, and which update pipelines would have to escape); nothing queries into it.
   */
  metadata?: string;
  /**
   * When MongoDB removes the token by itself (the TTL index): core's `purgeAt`, so a used-up
   * token answers `exhausted` until then. Absent when none applies. `sweep` deletes by it too.
   */
  purgeAt?: Date;
  /**
   * `true` once `uses` has reached `maxUses` for good, else absent: how `sweep` finds used-up
   * tokens (a sparse index). Never on a refilling token: its budget comes back.
   */
  usedUp?: true;
};

/** Whether the record is used up for good (what `usedUp` says): limit reached, no refill. */
export const isUsedUp = (record: TokenInfo): boolean => record.maxUses !== undefined && record.refill === undefined && record.uses >= record.maxUses;

/**
 * The document to insert for `record`. Insert it with `{ ignoreUndefined: true }`, so that a
 * field set to `undefined` stays absent instead of becoming `null`.
 */
export function toDocument(record: TokenInfo): TokenDocument {
  const { id, metadata, ...fields } = record;
  const doc: TokenDocument = { _id: id, ...fields };
  if (metadata !== undefined) doc.metadata = JSON.stringify(metadata);
  if (record.refill !== undefined) doc.refill = { every: record.refill.every };
  if (record.rateLimit !== undefined) doc.rateLimit = { limit: record.rateLimit.limit, window: record.rateLimit.window };
  const purge = purgeAt(record);
  if (purge !== undefined) doc.purgeAt = new Date(purge);
  if (isUsedUp(record)) doc.usedUp = true;
  return doc;
}

// the document's own fields, which never leak into a record
const OWN = new Set(['_id', 'purgeAt', 'usedUp']);

/** The record a document holds (a `null` left by another writer reads as absent). */
export function fromDocument(doc: TokenDocument): TokenInfo {
  const record: Record<string, unknown> = { id: doc._id };
  for (const key in doc) {
    const value = (doc as Record<string, unknown>)[key];
    if (value === null || value === undefined || OWN.has(key)) continue;
    record[key] = key === 'metadata' ? (JSON.parse(value as string) as Record<string, JsonValue>) : value;
  }
  return record as unknown as TokenInfo;
}

/** An aggregation expression: whether `field` (`'$name'`) is absent. */
export const missing = (field: string): Document => ({ $eq: [{ $type: field }, 'missing'] });

/**
 * The fixed period of `date` (`floor((date - createdAt) / size)`) for a period length `size` (a
 * field path): refill periods (`'$refill.every'`, core's `usesAt`) and rate windows
 * (`'$rateLimit.window'`, core's `rateCountAt`) are both counted from `createdAt`.
 */
const periodOf = (date: Date | string, size: string): Document => ({ $floor: { $divide: [{ $subtract: [date, '$createdAt'] }, size] } });
const period = (date: Date | string): Document => periodOf(date, '$refill.every');

/**
 * An aggregation expression: the uses that count against `maxUses` at `now` (core's `usesAt`):
 * `uses`, or 0 for a refilling token never used or last used in an earlier period.
 */
export const effectiveUses = (now: Date): Document => ({
  $cond: [
    { $and: [{ $not: [missing('$refill')] }, { $or: [missing('$lastUsedAt'), { $lt: [period('$lastUsedAt'), period(now)] }] }] },
    0,
    '$uses',
  ],
});

/**
 * An aggregation expression: the verifications that count against `rateLimit.limit` at `now`
 * (core's `rateCountAt`): `rateCount` (absent: 0), or 0 when the token was never used or `now`
 * lies in a later rate window than `lastUsedAt`. Meaningful only where `rateLimit` is present.
 */
export const effectiveRate = (now: Date): Document => ({
  $cond: [
    { $or: [missing('$lastUsedAt'), { $lt: [periodOf('$lastUsedAt', '$rateLimit.window'), periodOf(now, '$rateLimit.window')] }] },
    0,
    { $ifNull: ['$rateCount', 0] },
  ],
});

// used up for good: a refilling token never is (core's `sweepable`, `purgeAt`)
const spent = { $and: [{ $not: [missing('$maxUses')] }, missing('$refill'), { $gte: ['$uses', '$maxUses'] }] };

/**
 * The update-pipeline stage every write ends with: `purgeAt` and `usedUp` recomputed from the
 * fields as the stages before it left them, as {@link toDocument} computes them at insert (core's
 * `purgeAt`: the earlier of `expiresAt` and the idle deadline, else for a token used up for good
 * its last use plus `TOMBSTONE_MS`, else absent: a refilling token gets neither a tombstone nor
 * `usedUp`, so neither the TTL index nor `sweep` takes it for being used up). `$min` skips
 * missing and null values.
 */
export const REFILE: Document = {
  $set: {
    purgeAt: {
      $ifNull: [
        { $min: ['$expiresAt', { $cond: [missing('$idleTimeout'), null, { $add: [{ $ifNull: ['$lastUsedAt', '$createdAt'] }, '$idleTimeout'] }] }] },
        { $cond: [spent, { $add: [{ $ifNull: ['$lastUsedAt', '$createdAt'] }, TOMBSTONE_MS] }, '$$REMOVE'] },
      ],
    },
    usedUp: { $cond: [spent, true, '$$REMOVE'] },
  },
};
