import type { JsonValue, TokenInfo, TokenKind } from '@tokenaccess/core';
import { TokenAccessError } from '@tokenaccess/core';
import { type Row, msg } from './client';

/**
 * A row as a `TokenInfo`: absent fields stay absent. `bigint` columns arrive as strings (pg),
 * numbers or BigInts (other clients); `Number` reads all three, exactly below 2^53.
 */
export function toInfo(r: Row): TokenInfo {
  const info: TokenInfo = {
    id: r.id as string,
    kind: r.kind as TokenKind,
    name: r.name as string,
    scopes: r.scopes as string[],
    uses: Number(r.uses),
    createdAt: new Date(Number(r.created_at)),
    hint: r.hint as string,
    hash: r.hash as string,
  };
  if (r.subject != null) info.subject = r.subject as string;
  if (r.url != null) {
    info.url = { url: r.url as string, canonical: r.url_canonical as string, methods: r.url_methods as string[] };
    if (r.url_origin != null) info.url.origin = r.url_origin as string;
  }
  if (r.expires_at != null) info.expiresAt = new Date(Number(r.expires_at));
  if (r.idle_timeout != null) info.idleTimeout = Number(r.idle_timeout);
  if (r.max_uses != null) info.maxUses = Number(r.max_uses);
  if (r.last_used_at != null) info.lastUsedAt = new Date(Number(r.last_used_at));
  if (r.metadata != null) info.metadata = (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<string, JsonValue>;
  return info;
}

const ms = (d: Date | undefined) => (d === undefined ? null : d.getTime());

/**
 * PostgreSQL `text` and `jsonb` cannot hold U+0000, so a NUL anywhere in a record is refused
 * up front with a clear `invalid_argument` rather than a server error mid-insert.
 */
function assertNoNul(record: TokenInfo): void {
  const bad = (s: string | undefined) => s !== undefined && s.includes('\0');
  const where = (field: string) => {
    throw new TokenAccessError('invalid_argument', msg(`${field} contains a NUL character (U+0000), which PostgreSQL text cannot store`));
  };
  if (bad(record.id)) where('id');
  if (bad(record.hash)) where('hash');
  if (bad(record.subject)) where('subject');
  if (bad(record.name)) where('name');
  if (bad(record.hint)) where('hint');
  if (record.scopes.some(bad)) where('a scope');
  if (record.url && (bad(record.url.url) || bad(record.url.origin) || bad(record.url.canonical) || record.url.methods.some(bad))) where('the url binding');
  if (record.metadata !== undefined && jsonHasNul(record.metadata)) where('metadata');
}

/** jsonb refuses `\u0000` in strings and keys. */
function jsonHasNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (Array.isArray(v)) return v.some(jsonHasNul);
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\0') || jsonHasNul(x));
  return false;
}

/** The parameters of the `insert` statement, in column order. */
export function insertValues(record: TokenInfo): unknown[] {
  assertNoNul(record);
  return [
    record.id,
    record.hash,
    record.kind,
    record.subject ?? null,
    record.name,
    record.scopes,
    record.url?.url ?? null,
    record.url?.origin ?? null,
    record.url?.canonical ?? null,
    record.url?.methods ?? null,
    ms(record.expiresAt),
    record.idleTimeout ?? null,
    record.maxUses ?? null,
    record.uses,
    record.createdAt.getTime(),
    ms(record.lastUsedAt),
    record.metadata === undefined ? null : JSON.stringify(record.metadata),
    record.hint,
  ];
}
