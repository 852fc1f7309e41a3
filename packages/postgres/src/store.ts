import type { ConsumePolicy, ConsumeResult, ListPage, ListQuery, SweepOptions, TokenInfo, TokenStore } from '@tokenaccess/core';
import { DuplicateTokenError, TokenAccessError, evaluateConsume } from '@tokenaccess/core';
import { type Queryable, type Row, createRunner, msg } from './client';
import { type TableOptions, resolveNames } from './names';
import { freshHints } from './hints';
import { insertValues, toInfo } from './row';
import { type Statements, statements } from './sql';

/**
 * Options of {@link postgresStore}.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { client: pool, schema: 'auth', timeout: 1000 };
 * ```
 */
export interface PostgresStoreOptions extends TableOptions {
  /**
   * The database client: a `pg` `Pool` (recommended), `Client` or `PoolClient`, a PGlite
   * instance, or any object with `query(text, values) → Promise<{ rows }>` that returns
   * `text[]` as arrays and `jsonb` as parsed values (as pg and PGlite do).
   */
  client: Queryable;
  /**
   * Milliseconds after which a query is abandoned and the call throws `unavailable` (so
   * `verify` answers 503 instead of hanging on a dead network): every store fails closed within
   * 2 s by default. It includes the wait for a free pool connection. The query itself is not
   * cancelled: give the pg Pool a `query_timeout` too, so pg fails it and the Pool discards the
   * dead connection. `0` disables it.
   * @default 2000
   */
  timeout?: number;
  /**
   * Send the store's statements as named prepared statements (parsed and planned once per
   * connection). Only used with pg; turn it off behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21).
   * @default true with pg, false otherwise
   */
  preparedStatements?: boolean;
  /**
   * How many unlimited tokens the store remembers the last-seen `lastUsedAt` of, so that their
   * verification, while that is fresher than `lastUsedResolution`, is a plain `SELECT` rather than
   * the UPDATE statement (which would match nothing). The row is still read and judged on every
   * call; only the choice of statement is remembered. `0` always sends the UPDATE statement.
   * @default 10000
   */
  fastPathSize?: number;
  /**
   * Called with an `error` event of the client (a pg Pool emits one when an idle connection
   * dies). The store listens only when nothing else does, because an `error` event without
   * a listener crashes a Node process; add your own `pool.on('error', …)` all the same.
   * @default ignore (the Pool has already dropped the broken connection)
   */
  onClientError?: (err: Error) => void;
}

const hasNul = (s: string | undefined) => s !== undefined && s.includes('\0');

/** The default `timeout`: fail closed within 2 s, as every store does. */
const DEFAULT_TIMEOUT = 2000;

/**
 * A {@link TokenStore} on PostgreSQL (pg) or PGlite. Run {@link migrate} first. `consume` is
 * one SQL statement; verifying an unlimited token whose `lastUsedAt` is fresh writes nothing.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { migrate, postgresStore } from '@tokenaccess/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * pool.on('error', (err) => console.error('idle pg client failed', err));
 * await migrate(pool);
 * const tokens = createTokenAccess({ store: postgresStore({ client: pool }) });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): TokenStore {
  const { client } = options;
  if (!client || typeof client.query !== 'function') {
    throw new TokenAccessError('invalid_argument', msg('postgresStore({ client }): client must have a query(text, values) method'));
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw new TokenAccessError('invalid_argument', msg('timeout must be a number of ms >= 0'));
  const names = resolveNames(options);
  const sql = statements(names);
  const db = createRunner(client, { timeout, preparedStatements: options.preparedStatements });
  const fastPathSize = options.fastPathSize ?? 10_000;
  if (!Number.isInteger(fastPathSize) || fastPathSize < 0) throw new TokenAccessError('invalid_argument', msg('fastPathSize must be an integer >= 0'));
  const hints = freshHints(fastPathSize);

  const emitter = client as unknown as { on?: unknown; listenerCount?: unknown };
  if (typeof emitter.on === 'function' && typeof emitter.listenerCount === 'function') {
    const e = client as unknown as { on(event: 'error', fn: (err: Error) => void): void; listenerCount(event: string): number };
    if (e.listenerCount('error') === 0) e.on('error', (err) => options.onClientError?.(err));
  }

  const one = async (text: string, values: unknown[]) => {
    const rows = await db.run(text, values);
    return rows[0] ? toInfo(rows[0]) : null;
  };

  return {
    // every query runs under `timeout` (createRunner), so core need not add its own guard
    ...(timeout > 0 ? { callTimeout: timeout } : {}),
    async insert(record) {
      const values = insertValues(record);
      try {
        await db.run(sql.insert, values);
      } catch (err) {
        if ((err as { code?: unknown }).code === '23505') {
          throw new DuplicateTokenError(msg('a token with this hash or id already exists'), { cause: err });
        }
        throw err;
      }
    },

    findByHash: (hash) => (hasNul(hash) ? Promise.resolve(null) : one(sql.findByHash, [hash])),
    findById: (id) => (hasNul(id) ? Promise.resolve(null) : one(sql.findById, [id])),
    async deleteById(id) {
      if (hasNul(id)) return null;
      const gone = await one(sql.deleteById, [id]);
      if (gone) hints.delete(gone.hash);
      return gone;
    },
    async deleteByHash(hash) {
      if (hasNul(hash)) return null;
      hints.delete(hash);
      return one(sql.deleteByHash, [hash]);
    },

    async deleteBySubject(subject) {
      if (hasNul(subject)) return 0;
      const rows = await db.run(sql.deleteBySubject, [subject]);
      return Number(rows[0]?.n ?? 0);
    },

    // The hot path, written as promise chains: each async/await hop is a microtask, and at high
    // concurrency they cost measurable throughput.
    consume(hash, now, policy) {
      if (hasNul(hash)) return Promise.resolve({ ok: false, reason: 'not_found' });
      const at = now.getTime();
      const seen = hints.get(hash);
      const atomic = () =>
        db.run(...consumeQuery(sql, hash, now, policy)).then((rows) => {
          const result = consumeOutcome(rows, now, policy);
          if (result.ok && result.record.maxUses === undefined && result.record.lastUsedAt) hints.set(hash, result.record.lastUsedAt.getTime());
          return result;
        });
      if (seen === undefined || at - seen >= policy.lastUsedResolution) return atomic();
      // The fast path: nothing can need writing, so one plain read, judged by core's rules.
      return db.run(sql.findByHash, [hash]).then((rows): ConsumeResult | Promise<ConsumeResult> => {
        if (!rows[0]) {
          hints.delete(hash);
          return { ok: false, reason: 'not_found' };
        }
        const record = toInfo(rows[0]);
        const verdict = evaluateConsume(record, at, policy);
        if (!verdict.ok) return { ok: false, reason: verdict.reason, record };
        if (!verdict.write) return { ok: true, record };
        hints.delete(hash); // the row changed under the hint (never in normal use): do it atomically
        return atomic();
      });
    },

    async list(query: ListQuery): Promise<ListPage> {
      const { subject, kind, cursor, limit } = query;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new TokenAccessError('invalid_argument', msg(`list limit must be an integer from 1 to 1000 (got ${String(limit)})`));
      }
      if (hasNul(subject) || hasNul(cursor)) return { items: [] };
      const values: unknown[] = [];
      if (subject !== undefined) values.push(subject);
      if (kind !== undefined) values.push(kind);
      if (cursor !== undefined) values.push(cursor);
      values.push(limit + 1);
      const text = sql.list({ subject: subject !== undefined, kind: kind !== undefined, cursor: cursor !== undefined });
      const rows = await db.run(text, values);
      const items = rows.slice(0, limit).map(toInfo);
      return rows.length > limit ? { items, cursor: items[items.length - 1]!.id } : { items };
    },

    async sweep(now: Date, options: SweepOptions = {}) {
      const batch = options.batchSize ?? 1000;
      if (!Number.isInteger(batch) || batch < 1) throw new TokenAccessError('invalid_argument', msg('sweep batchSize must be a positive integer'));
      const at = now.getTime();
      let total = 0;
      const arms: [string, unknown[]][] = [
        [sql.sweep.expired, [at, batch]],
        [sql.sweep.idle, [at, batch]],
        [sql.sweep.exhausted, [batch]],
      ];
      for (const [text, values] of arms) {
        for (;;) {
          const rows = await db.run(text, values);
          const deleted = Number(rows[0]?.n ?? 0);
          if (deleted > 0) {
            total += deleted;
            options.onProgress?.(total);
          }
          if (deleted < batch) break;
        }
      }
      return total;
    },
  };
}

/** The consume statement for a policy, and its parameters (see `Statements.consume`). */
function consumeQuery(sql: Statements, hash: string, now: Date, policy: ConsumePolicy): [string, unknown[]] {
  const at = now.getTime();
  const values: unknown[] = [hash, at, at - policy.lastUsedResolution];
  const url = policy.url;
  if (url) {
    // A NUL can be in no stored binding (text cannot hold it), so such a request matches
    // nothing; a NULL canonical fails the binding check without sending the NUL to the server.
    const unmatchable = hasNul(url.canonical) || hasNul(url.method) || hasNul(url.origin);
    values.push(unmatchable ? null : url.canonical, unmatchable ? null : url.method, unmatchable ? null : (url.origin ?? null));
  }
  const lists = policy.scopes?.anyOf.map((l) => l.filter((s) => !hasNul(s))) ?? [];
  values.push(...lists);
  return [sql.consume({ scopeLists: lists.length, mode: policy.scopes?.mode ?? 'all', url: url !== undefined }), values];
}

/**
 * Reads the row of the consume statement: the record as it was, plus the new `uses` and
 * `last_used_at` if the UPDATE wrote. Without a write, core's reference `evaluateConsume` on the
 * record names the refusal, or confirms that nothing had to be written.
 */
function consumeOutcome(rows: Row[], now: Date, policy: ConsumePolicy): ConsumeResult {
  const row = rows[0];
  if (!row) return { ok: false, reason: 'not_found' };
  const record: TokenInfo = toInfo(row);
  if (row.new_uses != null) {
    record.uses = Number(row.new_uses);
    if (row.new_last_used_at != null) record.lastUsedAt = new Date(Number(row.new_last_used_at));
    return { ok: true, record };
  }
  const verdict = evaluateConsume(record, now.getTime(), policy);
  if (!verdict.ok) return { ok: false, reason: verdict.reason, record };
  if (!verdict.write) return { ok: true, record };
  // The row read needed a write, but by the time the UPDATE locked it, a concurrent consume had
  // changed it. For a counted token the only such change that fails a check is the last use
  // being spent; for an unlimited one it is lastUsedAt being touched by the other request,
  // which leaves this use valid with nothing to write.
  if (record.maxUses !== undefined) return { ok: false, reason: 'exhausted', record };
  return { ok: true, record };
}
