import type { JsonValue, TokenInfo, TokenKind, UrlBinding } from '@tokenaccess/core';
import { purgeAt } from '@tokenaccess/core/store';

/**
 * A token as MongoDB stores it: the {@link TokenInfo} fields, with `id` as `_id` (so the
 * unique index on the id is the built-in `_id` index), `metadata` as a JSON string, and
 * `purgeAt`, the instant the token is dead, for the TTL index.
 */
export interface TokenDocument {
  /** The token's public id (ULID-like, sorts in creation order). */
  _id: string;
  kind: TokenKind;
  subject?: string;
  name: string;
  scopes: string[];
  url?: UrlBinding;
  expiresAt?: Date;
  idleTimeout?: number;
  maxUses?: number;
  uses: number;
  createdAt: Date;
  lastUsedAt?: Date;
  /**
   * JSON text. Stored as a string, not a subdocument, because metadata keys may hold `.` and
   * `$` (which MongoDB before 5.0 cannot store, and which update pipelines would have to
   * escape); nothing ever queries into it.
   */
  metadata?: string;
  hint: string;
  hash: string;
  /**
   * When MongoDB removes the token by itself (the TTL index), as core's `purgeAt` computes it: its
   * deadline, the earlier of `expiresAt` and the idle deadline (`(lastUsedAt ?? createdAt) +
   * idleTimeout`); for a used-up token with no deadline, its last use plus `TOMBSTONE_MS` (30
   * days), so it answers `exhausted` until then, as on every store, and never stays forever.
   * Absent when none applies. `sweep` deletes by it too.
   */
  purgeAt?: Date;
  /**
   * `true` once `uses` has reached `maxUses` (absent otherwise): what `sweep` finds used-up
   * tokens by (a sparse index), since their `purgeAt` may be far away.
   */
  usedUp?: true;
}

/** Whether the record's use limit is reached (what `usedUp` says). */
export const isUsedUp = (record: TokenInfo): boolean => record.maxUses !== undefined && record.uses >= record.maxUses;

/** The document to insert for `record`; absent optional fields stay absent (never `null`). */
export function toDocument(record: TokenInfo): TokenDocument {
  const doc: TokenDocument = {
    _id: record.id,
    kind: record.kind,
    name: record.name,
    scopes: [...record.scopes],
    uses: record.uses,
    createdAt: record.createdAt,
    hint: record.hint,
    hash: record.hash,
  };
  if (record.subject !== undefined) doc.subject = record.subject;
  if (record.url !== undefined) {
    const { url, origin, canonical, methods } = record.url;
    doc.url = origin === undefined ? { url, canonical, methods: [...methods] } : { url, origin, canonical, methods: [...methods] };
  }
  if (record.expiresAt !== undefined) doc.expiresAt = record.expiresAt;
  if (record.idleTimeout !== undefined) doc.idleTimeout = record.idleTimeout;
  if (record.maxUses !== undefined) doc.maxUses = record.maxUses;
  if (record.lastUsedAt !== undefined) doc.lastUsedAt = record.lastUsedAt;
  if (record.metadata !== undefined) doc.metadata = JSON.stringify(record.metadata);
  const purge = purgeAt(record);
  if (purge !== undefined) doc.purgeAt = new Date(purge);
  if (isUsedUp(record)) doc.usedUp = true;
  return doc;
}

const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** The record a document holds. Fields are copied one by one, so `purgeAt` and `usedUp` never leak out. */
export function fromDocument(doc: TokenDocument): TokenInfo {
  const record: TokenInfo = {
    id: doc._id,
    kind: doc.kind,
    name: doc.name,
    scopes: doc.scopes,
    uses: doc.uses,
    createdAt: doc.createdAt,
    hint: doc.hint,
    hash: doc.hash,
  };
  if (present(doc.subject)) record.subject = doc.subject;
  if (present(doc.url)) {
    const { url, origin, canonical, methods } = doc.url;
    record.url = present(origin) ? { url, origin, canonical, methods } : { url, canonical, methods };
  }
  if (present(doc.expiresAt)) record.expiresAt = doc.expiresAt;
  if (present(doc.idleTimeout)) record.idleTimeout = doc.idleTimeout;
  if (present(doc.maxUses)) record.maxUses = doc.maxUses;
  if (present(doc.lastUsedAt)) record.lastUsedAt = doc.lastUsedAt;
  if (present(doc.metadata)) record.metadata = JSON.parse(doc.metadata) as Record<string, JsonValue>;
  return record;
}
