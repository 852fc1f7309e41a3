import { type JsonValue, PATCHABLE, type RecordPatch, TokenAccessError, type TokenInfo, type TokenKind } from '@tokenaccess/core/store';
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
  if (r.parent_id != null) info.parentId = r.parent_id as string;
  if (r.disabled_at != null) info.disabledAt = new Date(Number(r.disabled_at));
  if (r.refill_every != null) info.refill = { every: Number(r.refill_every) };
  if (r.rate_limit != null) info.rateLimit = { limit: Number(r.rate_limit), window: Number(r.rate_window) };
  if (r.rate_count != null) info.rateCount = Number(r.rate_count);
  if (r.metadata != null) info.metadata = (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<string, JsonValue>;
  return info;
}

const ms = (d: Date | undefined) => (d === undefined ? null : d.getTime());

/** Whether a string holds U+0000, which PostgreSQL `text` cannot: it matches no stored value. */
export const hasNul = (s: string | undefined) => s !== undefined && s.includes('\0');
const refuse = (field: string): never => {
  throw new TokenAccessError('invalid_argument', msg(`${field} contains a NUL character (U+0000), which PostgreSQL text cannot store`));
};

/**
 * PostgreSQL `text` and `jsonb` cannot hold U+0000, so a NUL anywhere in a record is refused
 * up front with a clear `invalid_argument` rather than a server error mid-insert.
 */
function assertNoNul(record: Partial<Omit<TokenInfo, 'metadata'>> & { metadata?: unknown }): void {
  if (hasNul(record.id)) refuse('id');
  if (hasNul(record.hash)) refuse('hash');
  if (hasNul(record.subject)) refuse('subject');
  if (hasNul(record.name)) refuse('name');
  if (hasNul(record.hint)) refuse('hint');
  if (hasNul(record.parentId)) refuse('parentId');
  if (record.scopes?.some(hasNul)) refuse('a scope');
  if (record.url && (hasNul(record.url.url) || hasNul(record.url.origin) || hasNul(record.url.canonical) || record.url.methods.some(hasNul))) refuse('the url binding');
  if (record.metadata != null && jsonHasNul(record.metadata)) refuse('metadata');
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
    record.parentId ?? null,
    ms(record.disabledAt),
    record.refill?.every ?? null,
    record.rateLimit?.limit ?? null,
    record.rateLimit?.window ?? null,
    record.rateCount ?? null,
  ];
}

/**
 * The columns each patchable field is stored in, and the cast of each one's parameter (one
 * parameter per column: `rateLimit` is two columns).
 */
export const PATCH_COLUMNS = {
  name: [['name', 'text']],
  scopes: [['scopes', 'text[]']],
  expiresAt: [['expires_at', 'bigint']],
  idleTimeout: [['idle_timeout', 'bigint']],
  maxUses: [['max_uses', 'bigint']],
  metadata: [['metadata', 'text::jsonb']],
  disabledAt: [['disabled_at', 'bigint']],
  refill: [['refill_every', 'bigint']],
  rateLimit: [
    ['rate_limit', 'integer'],
    ['rate_window', 'bigint'],
  ],
} as const satisfies Record<(typeof PATCHABLE)[number], readonly (readonly [string, string])[]>;

/**
 * A patch value as its columns' parameters: `null` clears them all, a Date is epoch ms,
 * `refill` is its `every`, `rateLimit` its `limit` and `window`.
 */
function encodePatch(field: (typeof PATCHABLE)[number], v: NonNullable<RecordPatch[(typeof PATCHABLE)[number]]> | null): unknown[] {
  if (v === null) return PATCH_COLUMNS[field].map(() => null);
  if (v instanceof Date) return [v.getTime()];
  if (field === 'metadata') return [JSON.stringify(v)];
  if (field === 'refill') return [(v as { every: number }).every];
  if (field === 'rateLimit') return [(v as { limit: number }).limit, (v as { window: number }).window];
  return [v];
}

/**
 * The fields an `update` writes (those present in the patch, in `PATCHABLE` order) and their
 * parameters, one per column (see `PATCH_COLUMNS`): `null` clears the columns, as core's
 * `applyPatch` clears the field. `rateLimit: null` leaves `rate_count` as it is.
 */
export function patchValues(patch: RecordPatch): { fields: (typeof PATCHABLE)[number][]; values: unknown[] } {
  assertNoNul({ name: patch.name, scopes: patch.scopes, metadata: patch.metadata });
  const fields: (typeof PATCHABLE)[number][] = [];
  const values: unknown[] = [];
  for (const field of PATCHABLE) {
    const v = patch[field];
    if (v === undefined) continue;
    fields.push(field);
    values.push(...encodePatch(field, v));
  }
  return { fields, values };
}
