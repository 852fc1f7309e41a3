import { type Duration, type ListPage, type ListQuery, TokenAccessError, type TokenStore, checkListQuery, dutyCycle, sweepInBatches, sweepShare } from '@tokenaccess/core/store';
import { type Queryable, type Row, createRunner, msg } from './client';
import { consumer } from './consume';
import { freshHints } from './hints';
import { type TableOptions, resolveNames } from './names';
import { hasNul, insertValues, patchValues, toInfo } from './row';
import { statements } from './sql';

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
   * How long (ms, or a duration such as `'2s'`) before a query is abandoned and the call throws `unavailable` (so
   * `verify` answers 503 instead of hanging on a dead network): every store fails closed within
   * 2 s by default. It includes the wait for a free pool connection. The query itself is not
   * cancelled: give the pg Pool a `query_timeout` too, so pg fails it and the Pool discards the
   * dead connection. `0` disables it.
   * @default 2000
   */
  timeout?: Duration;
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
  /**
   * The most rows one `DELETE` statement of `sweep` removes (one step; a `batchSize` batch is
   * one or more steps, and `onProgress` still reports per batch). A smaller step holds its row
   * locks for less time but commits (and flushes the WAL) more often: in bench/scale, steps of
   * 100 or 250 rows raised the tail latency of concurrent verifies more than steps of 1,000.
   * 1 to 10,000.
   * @default 1000
   */
  sweepStep?: number;
  /**
   * The share of the wall time `sweep` may spend working, from 0.01 to 1: after each `DELETE`
   * it pauses in proportion to the time the statement took (0.5: as long as it took), so the
   * sweep keeps a database backend busy for at most that share, and the verifies of the same
   * process and server keep their latency. `'full'` (the same as `1`) sweeps as fast as it can:
   * for a process that serves no verifies, such as a cron job or `tokenaccess sweep`.
   *
   * @example
   * ```ts
   * const sweeper = postgresStore({ client: pool, sweepPace: 'full' }); // a worker that only sweeps
   * ```
   * @default 0.5
   */
  sweepPace?: number | 'full';
}


/** The default `timeout`: fail closed within 2 s, as every store does. */
const DEFAULT_TIMEOUT = 2000;
/** The default `sweepStep` (measured in bench/scale). */
const DEFAULT_SWEEP_STEP = 1000;

/**
 * A {@link TokenStore} on PostgreSQL (pg) or PGlite. Run {@link migrate} first. `consume` and
 * `update` are one SQL statement each; verifying an unlimited token whose `lastUsedAt` is fresh
 * writes nothing.
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
  const names = resolveNames(options);
  const sql = statements(names);
  const db = createRunner(client, { timeout, preparedStatements: options.preparedStatements });
  const fastPathSize = options.fastPathSize ?? 10_000;
  if (!Number.isInteger(fastPathSize) || fastPathSize < 0) throw new TokenAccessError('invalid_argument', msg('fastPathSize must be an integer >= 0'));
  const hints = freshHints(fastPathSize);
  const { sweepStep = DEFAULT_SWEEP_STEP } = options;
  if (!Number.isInteger(sweepStep) || sweepStep < 1 || sweepStep > 10_000) throw new TokenAccessError('invalid_argument', msg(`sweepStep must be an integer from 1 to 10000 (got ${String(sweepStep)})`));
  const share = sweepShare('postgres', options.sweepPace);
  listenForErrors(client, options.onClientError);

  const one = (what: string, text: string, values: unknown[]) => db.then(what, text, values, (rows) => (rows[0] ? toInfo(rows[0]) : null));
  const count = (rows: Row[]) => Number(rows[0]?.n ?? 0);

  return {
    // every query runs under `timeout` (createRunner), so core need not add its own guard
    ...(db.timeout > 0 ? { callTimeout: db.timeout } : {}),
    // a unique violation (23505, on hash or id) becomes DuplicateTokenError (client.ts)
    async insert(record) {
      await db.run('insert', sql.insert, insertValues(record));
    },
    findByHash: (hash) => (hasNul(hash) ? Promise.resolve(null) : one('findByHash', sql.findByHash, [hash])),
    findById: (id) => (hasNul(id) ? Promise.resolve(null) : one('findById', sql.findById, [id])),
    consume: consumer(db, sql, hints),

    async update(id, patch) {
      if (hasNul(id)) return null;
      const { fields, values } = patchValues(patch);
      if (fields.length === 0) return one('update', sql.findById, [id]);
      return db.then('update', sql.update(fields), [id, ...values], (rows) => {
        if (!rows[0]) return null;
        const record = toInfo(rows[0]);
        hints.delete(record.hash); // a use limit may have been set
        return record;
      });
    },

    deleteById(id) {
      if (hasNul(id)) return Promise.resolve(null);
      return db.then('deleteById', sql.deleteById, [id], (rows) => {
        if (!rows[0]) return null;
        const gone = toInfo(rows[0]);
        hints.delete(gone.hash);
        return gone;
      });
    },
    deleteByHash(hash) {
      if (hasNul(hash)) return Promise.resolve(null);
      hints.delete(hash);
      return one('deleteByHash', sql.deleteByHash, [hash]);
    },
    deleteBySubject: (subject) => (hasNul(subject) ? Promise.resolve(0) : db.then('deleteBySubject', sql.deleteBySubject, [subject], count)),

    async list(query: ListQuery): Promise<ListPage> {
      const { subject, kind, parentId, expiringBefore, cursor, limit } = checkListQuery('postgres', query);
      // text cannot hold NUL, so no stored token matches such a filter
      if (hasNul(subject) || hasNul(parentId) || hasNul(cursor)) return { items: [] };
      const filter = { subject: subject !== undefined, kind: kind !== undefined, parentId: parentId !== undefined, expiringBefore: expiringBefore !== undefined, cursor: cursor !== undefined };
      const values = [subject, kind, parentId, expiringBefore?.getTime(), cursor].filter((v) => v !== undefined);
      const rows = await db.run('list', sql.list(filter), [...values, limit + 1]);
      const items = rows.slice(0, limit).map(toInfo);
      return rows.length > limit ? { items, cursor: items[items.length - 1]!.id } : { items };
    },

    sweep(now, options) {
      const at = now.getTime();
      // the three arms in turn, each until a statement comes back short, through its own index;
      // a batch is `sweepStep` rows per statement, with a rest after each
      const arms = [sql.sweep.expired, sql.sweep.idle, sql.sweep.exhausted];
      let arm = 0;
      const cycle = dutyCycle(share);
      return sweepInBatches('postgres', options, async (size) => {
        let deleted = 0;
        while (deleted < size && arm < arms.length) {
          const step = Math.min(sweepStep, size - deleted);
          const n = await db.then('sweep', arms[arm]!, arm < 2 ? [at, step] : [step], count);
          deleted += n;
          if (n < step) arm++;
          await cycle.rest();
        }
        return { deleted, more: arm < arms.length };
      });
    },
  };
}

/**
 * A pg Pool emits `error` when an idle connection dies, and an `error` event nobody listens to
 * crashes a Node process: the store listens only when nothing else does.
 */
function listenForErrors(client: Queryable, onClientError: ((err: Error) => void) | undefined): void {
  const e = client as unknown as { on?: unknown; listenerCount?: unknown };
  if (typeof e.on !== 'function' || typeof e.listenerCount !== 'function') return;
  const emitter = client as unknown as { on(event: 'error', fn: (err: Error) => void): void; listenerCount(event: string): number };
  if (emitter.listenerCount('error') === 0) emitter.on('error', (err) => onClientError?.(err));
}
