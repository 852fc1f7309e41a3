import type { JsonValue, TokenInfo, TokenKind, UrlBinding } from '@tokenaccess/core';

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
   * When the token is dead: the earliest of `expiresAt`, the idle deadline
   * (`(lastUsedAt ?? createdAt) + idleTimeout`) and the use that used it up. Absent when none
   * applies. The TTL index removes the document after it; `sweep` deletes by it.
   */
  purgeAt?: Date;
}

/** The instant `record` is dead (see {@link TokenDocument.purgeAt}), or undefined. */
export function purgeAt(record: TokenInfo): Date | undefined {
  const times: number[] = [];
  if (record.expiresAt) times.push(record.expiresAt.getTime());
  if (record.idleTimeout !== undefined) times.push((record.lastUsedAt ?? record.createdAt).getTime() + record.idleTimeout);
  if (record.maxUses !== undefined && record.uses >= record.maxUses) times.push((record.lastUsedAt ?? record.createdAt).getTime());
  return times.length ? new Date(Math.min(...times)) : undefined;
}

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
  if (purge) doc.purgeAt = purge;
  return doc;
}

const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** The record a document holds. Fields are copied one by one, so `purgeAt` never leaks out. */
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
