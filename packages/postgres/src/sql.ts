import type { PATCHABLE } from '@tokenaccess/core/store';
import type { Names } from './names';
import { PATCH_COLUMNS } from './row';

/**
 * The statements of the store, built once per table. Every parameter carries an explicit cast
 * (`$2::bigint`, `$6::text[]`), so the statements mean the same on every client: pg, PGlite
 * and plain `{ query }` wrappers send the same strings, numbers and arrays. Times are epoch
 * milliseconds (`bigint`) both ways.
 */

const COLUMNS = [
  'id',
  'hash',
  'kind',
  'subject',
  'name',
  'scopes',
  'url',
  'url_origin',
  'url_canonical',
  'url_methods',
  'expires_at',
  'idle_timeout',
  'max_uses',
  'uses',
  'created_at',
  'last_used_at',
  'metadata',
  'hint',
  'parent_id',
  'disabled_at',
  'refill_every',
  'rate_limit',
  'rate_window',
  'rate_count',
] as const;

/** The columns of a record, with `a` the table alias. */
export const readColumns = (a: string) => COLUMNS.map((c) => `${a}.${c}`).join(', ');

/** The shape of a consume statement: how many scope lists, how they combine, URL or Bearer. */
export interface ConsumeShape {
  scopeLists: number;
  mode: 'all' | 'any';
  url: boolean;
}

/** Which `list` filters a query uses. */
export interface ListFilter {
  subject: boolean;
  kind: boolean;
  parentId: boolean;
  expiringBefore: boolean;
  cursor: boolean;
}

export interface Statements {
  insert: string;
  findByHash: string;
  findById: string;
  deleteById: string;
  deleteByHash: string;
  deleteBySubject: string;
  /** Parameters in this order, each only when its filter is on, then the page size + 1. */
  list(filter: ListFilter): string;
  /** `$1` id, then one parameter per column of each field (see `PATCH_COLUMNS`), in the order given; answers the new row. */
  update(fields: readonly (typeof PATCHABLE)[number][]): string;
  /**
   * Parameters: `$1` hash, `$2` now (ms), `$3` the instant at or before which lastUsedAt is
   * stale (now − resolution); with `url`: `$4` canonical, `$5` method, `$6` origin or NULL;
   * then one `text[]` per scope list.
   */
  consume(shape: ConsumeShape): string;
  sweep: { expired: string; idle: string; exhausted: string };
}

export function statements(n: Names): Statements {
  const t = n.qualified;
  const cols = readColumns('t');
  const listCache = new Map<string, string>();
  const consumeCache = new Map<string, string>();
  const updateCache = new Map<string, string>();

  // The rules of core's `evaluateConsume` (`deadAt`, `usesAt`, `rateCountAt`), over the row aliased `t`, at
  // `$2` (now). Each is written so it is never NULL: NOT NULL would be NULL, and WHERE NULL
  // drops the row.
  const enabled = `(t.disabled_at IS NULL)`;
  const notExpired = `(t.expires_at IS NULL OR t.expires_at > $2::bigint)`;
  const notIdle = `(t.idle_timeout IS NULL OR coalesce(t.last_used_at, t.created_at) + t.idle_timeout > $2::bigint)`;
  // The refill period (or rate window) of an instant: floor((x - created_at) / every), in exact
  // integer arithmetic (`/` truncates toward zero, so a negative remainder steps down one;
  // refill_every and rate_window are > 0 by the table's CHECKs). Equal to JavaScript's
  // Math.floor on the same epoch milliseconds.
  const period = (x: string, every: string) => `((${x} - t.created_at) / ${every} - CASE WHEN (${x} - t.created_at) % ${every} < 0 THEN 1 ELSE 0 END)`;
  // usesAt: a refilling token starts again from 0 once now is in a later period than lastUsedAt.
  const renewed = `(t.refill_every IS NOT NULL AND (t.last_used_at IS NULL OR ${period('t.last_used_at', 't.refill_every')} < ${period('$2::bigint', 't.refill_every')}))`;
  const usesNow = `CASE WHEN ${renewed} THEN 0 ELSE t.uses END`;
  const notExhausted = `(t.max_uses IS NULL OR ${usesNow} < t.max_uses)`;
  // rateCountAt: the count of the window that holds lastUsedAt, or 0 once now is in a later one.
  // Only read where rate_limit (and so rate_window) is set.
  const rateNow = `CASE WHEN t.last_used_at IS NULL OR ${period('t.last_used_at', 't.rate_window')} < ${period('$2::bigint', 't.rate_window')} THEN 0 ELSE coalesce(t.rate_count, 0) END`;
  const notRateLimited = `(t.rate_limit IS NULL OR ${rateNow} < t.rate_limit)`;
  const stale = `(t.last_used_at IS NULL OR t.last_used_at <= $3::bigint)`;
  const mustWrite = `(t.max_uses IS NOT NULL OR t.rate_limit IS NOT NULL OR ${stale})`;

  return {
    insert: `INSERT INTO ${t} (${COLUMNS.join(', ')})
VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text[], $7::text, $8::text, $9::text, $10::text[],
  $11::bigint, $12::bigint, $13::bigint, $14::bigint, $15::bigint, $16::bigint, $17::text::jsonb, $18::text, $19::text,
  $20::bigint, $21::bigint, $22::integer, $23::bigint, $24::integer)`,
    findByHash: `SELECT ${cols} FROM ${t} t WHERE t.hash = $1::text`,
    findById: `SELECT ${cols} FROM ${t} t WHERE t.id = $1::text`,
    deleteById: `DELETE FROM ${t} t WHERE t.id = $1::text RETURNING ${cols}`,
    deleteByHash: `DELETE FROM ${t} t WHERE t.hash = $1::text RETURNING ${cols}`,
    deleteBySubject: `WITH d AS (DELETE FROM ${t} t WHERE t.subject = $1::text RETURNING 1) SELECT count(*) AS n FROM d`,

    list(filter) {
      const k = `${+filter.subject}${+filter.kind}${+filter.parentId}${+filter.expiringBefore}${+filter.cursor}`;
      let text = listCache.get(k);
      if (text === undefined) {
        // Keyset pagination: the cursor is the last id of the previous page; no OFFSET, so
        // page 1,000 costs what page 1 costs. Parameters are numbered by presence, so each
        // combination is its own statement with its own plan: (subject, id), (parent_id, id),
        // expires_at or the primary key.
        const where: string[] = [];
        let p = 0;
        if (filter.subject) where.push(`t.subject = $${++p}::text`);
        if (filter.kind) where.push(`t.kind = $${++p}::text`);
        if (filter.parentId) where.push(`t.parent_id = $${++p}::text`);
        if (filter.expiringBefore) where.push(`t.expires_at < $${++p}::bigint`);
        if (filter.cursor) where.push(`t.id > $${++p}::text`);
        text = `SELECT ${cols} FROM ${t} t${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY t.id LIMIT $${++p}::int`;
        listCache.set(k, text);
      }
      return text;
    },

    update(fields) {
      const k = fields.join();
      let text = updateCache.get(k);
      if (text === undefined) {
        // One statement on the row lock: a concurrent consume's UPDATE waits for it and then
        // re-checks its WHERE on the new row, so it counts against the new limits.
        // uses, last_used_at and rate_count are not named, so they stay as they are.
        let p = 1;
        const set = fields.flatMap((f) => PATCH_COLUMNS[f].map(([column, cast]) => `${column} = $${++p}::${cast}`));
        text = `UPDATE ${t} t SET ${set.join(', ')} WHERE t.id = $1::text RETURNING ${cols}`;
        updateCache.set(k, text);
      }
      return text;
    },

    consume({ scopeLists, mode, url }) {
      const k = `${scopeLists}:${mode}:${+url}`;
      let text = consumeCache.get(k);
      if (text === undefined) {
        // A URL token must match the binding; a Bearer token must not be a URL token.
        const urlOk = url
          ? `coalesce(t.url IS NOT NULL AND t.url_canonical = $4::text AND $5::text = ANY (t.url_methods)
      AND ($6::text IS NULL OR t.url_origin IS NULL OR t.url_origin = $6::text), false)`
          : `(t.url IS NULL)`;
        const first = url ? 7 : 4;
        const held = Array.from({ length: scopeLists }, (_, i) => `t.scopes && $${first + i}::text[]`);
        // As core's satisfiesScopes: no lists is satisfied under 'all' and not under 'any'.
        const scopesOk = held.length === 0 ? (mode === 'all' ? 'true' : 'false') : `(${held.join(mode === 'all' ? ' AND ' : ' OR ')})`;
        // One statement: an UPDATE that carries every check of core's `evaluateConsume` in its
        // WHERE, and, when it wrote nothing, a read of the row as the statement's snapshot saw
        // it. The UPDATE matches only a live row that must be written (a counted token, or a
        // stale lastUsedAt): an unlimited token used within the resolution makes no write and
        // takes no row lock. Under READ COMMITTED, PostgreSQL re-evaluates an UPDATE's WHERE on
        // the newest version of a row that a concurrent consume or update changed, so the use
        // limit holds under any concurrency, and a written row is returned whole as written
        // (never old fields with a new count). When nothing was written, the caller judges the
        // row read with core's rules to name the reason (or to see that no write was needed),
        // so a refusal costs no second round trip.
        // Refill is counted in the same UPDATE: the new period's first use writes uses = 1 and
        // lastUsedAt = now, and every use racing it is re-evaluated on that row, so it counts
        // from 1, never from 0 again. A counted use of a refilling token always sets lastUsedAt,
        // but, as in core's rule, never moves it back: a use whose `now` is older than the
        // stored lastUsedAt (a process with a slower clock, or a request that waited for the row
        // lock behind a later one) counts in the stored period and leaves it, so it cannot make
        // the next use see a "new" period and refill twice.
        // A rate-limited token is counted the same way, in rate_count for the window of
        // last_used_at: every counted verification writes (so a fresh lastUsedAt never skips
        // it), sets last_used_at to the later of itself and now, and counts from 0 in a new
        // window. Every SET expression reads the row as it was, so uses and rate_count are both
        // computed against the old last_used_at, as core's rule says.
        text = `WITH upd AS (
  UPDATE ${t} t SET
    uses = CASE WHEN t.max_uses IS NULL THEN t.uses ELSE ${usesNow} + 1 END,
    rate_count = CASE WHEN t.rate_limit IS NULL THEN t.rate_count ELSE ${rateNow} + 1 END,
    last_used_at = CASE WHEN ${stale} THEN $2::bigint
      WHEN (t.max_uses IS NOT NULL AND t.refill_every IS NOT NULL) OR t.rate_limit IS NOT NULL THEN greatest(t.last_used_at, $2::bigint)
      ELSE t.last_used_at END
  WHERE t.hash = $1::text
    AND ${enabled} AND ${notExpired} AND ${notIdle} AND ${notExhausted} AND ${urlOk} AND ${scopesOk} AND ${notRateLimited} AND ${mustWrite}
  RETURNING ${cols}
)
SELECT *, true AS written FROM upd
UNION ALL
SELECT ${cols}, false FROM ${t} t
WHERE t.hash = $1::text AND NOT EXISTS (SELECT FROM upd)`;
        consumeCache.set(k, text);
      }
      return text;
    },

    sweep: (() => {
      // Each arm deletes at most `limit` rows per statement, chosen through its own index, and
      // re-checks its condition on the row it deletes.
      const arm = (cond: string, limit: string) =>
        `WITH d AS (DELETE FROM ${t} t WHERE t.id IN (SELECT t.id FROM ${t} t WHERE ${cond} LIMIT ${limit}) AND ${cond} RETURNING 1) SELECT count(*) AS n FROM d`;
      return {
        // parameters: $1 now (ms), $2 batch size
        expired: arm(`t.expires_at <= $1::bigint`, '$2::int'),
        idle: arm(`t.idle_timeout IS NOT NULL AND coalesce(t.last_used_at, t.created_at) + t.idle_timeout <= $1::bigint`, '$2::int'),
        // parameters: $1 batch size
        // used up for good: a refilling token's budget comes back, so it is never swept as used
        // up (core's `sweepable`); its uses may still be from a past period
        exhausted: arm(`t.max_uses IS NOT NULL AND t.refill_every IS NULL AND t.uses >= t.max_uses`, '$1::int'),
      };
    })(),
  };
}
