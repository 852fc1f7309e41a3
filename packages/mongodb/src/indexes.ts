import type { Collection, IndexDescription } from 'mongodb';
import type { TokenDocument } from './document';

/**
 * The indexes the store needs (what `ensureIndexes()` creates). `_id` (the token id) is unique by
 * itself, so with the unique index on `hash` both keys a token is found by are unique. Exported
 * for migration tools that create indexes their own way.
 *
 * @example
 * ```ts
 * import { INDEXES } from '@tokenaccess/mongodb';
 * await db.collection('tokenaccess_tokens').createIndexes(INDEXES);
 * ```
 */
export const INDEXES: IndexDescription[] = [
  // consume, findByHash, deleteByHash; also what makes a duplicate hash an E11000
  { key: { hash: 1 }, name: 'tokenaccess_hash', unique: true },
  // list by subject in creation order (keyset pagination on _id); URL tokens may have no subject
  { key: { subject: 1, _id: 1 }, name: 'tokenaccess_subject_id', partialFilterExpression: { subject: { $exists: true } } },
  // list the children of a token (`derive`) in creation order; only derived tokens have parentId
  { key: { parentId: 1, _id: 1 }, name: 'tokenaccess_parent_id', partialFilterExpression: { parentId: { $exists: true } } },
  // list by kind alone (the CLI's "all share links")
  { key: { kind: 1, _id: 1 }, name: 'tokenaccess_kind_id' },
  // MongoDB's TTL monitor deletes a document once purgeAt has passed; sweep ranges over it too
  { key: { purgeAt: 1 }, name: 'tokenaccess_purge_ttl', expireAfterSeconds: 0 },
  // sweep finds used-up tokens (kept as `exhausted` until purgeAt) by it; only they have the field
  { key: { usedUp: 1 }, name: 'tokenaccess_used_up', sparse: true },
];

/** Creates the indexes (idempotent: existing identical indexes are left alone). */
export async function createIndexes(collection: Collection<TokenDocument>): Promise<void> {
  await collection.createIndexes(INDEXES);
}
