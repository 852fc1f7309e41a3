import { TokenAccessError, storeError } from '@tokenaccess/core/store';
import { type Queryable, msg, pgHint } from './client';
import { type Names, type TableOptions, resolveNames } from './names';

/**
 * Options of {@link migrate}: where the table goes (the same `schema` and `table` as the store's).
 *
 * @example
 * ```ts
 * await migrate(pool, { schema: 'auth', table: 'api_tokens' } satisfies MigrateOptions);
 * ```
 */
export interface MigrateOptions extends TableOptions {}

/**
 * What {@link migrate} did.
 *
 * @example
 * ```ts
 * const { applied, version } = await migrate(pool);
 * if (applied.length) console.log(`token table migrated to v${version}`);
 * ```
 */
export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

interface Migration {
  version: number;
  name: string;
  up(n: Names): string[];
}

/**
 * The versioned migrations. Never edit a released one; append.
 *
 * Notes on the choices (see docs/stores/postgres.md, "The schema"):
 * - `id` and `hash` use `COLLATE "C"`: byte order is the creation order of ULID-like ids and
 *   equals JavaScript's string order, and equality is a plain byte compare.
 * - Times are epoch milliseconds in `bigint` columns (`expires_at`, `created_at`,
 *   `last_used_at`; `idle_timeout` is a duration in ms): the hot statement compares integers,
 *   exactly the numbers core's `evaluateConsume` computes with, with no time zone, no rounding
 *   and no client type parser in the way.
 * - No index touches `uses` or `last_used_at`, and the table keeps 10% free per page
 *   (`fillfactor = 90`), so the writes `consume` does are HOT updates.
 * - Later columns are appended nullable with no default (no table rewrite on upgrade), and no
 *   index names `disabled_at`, `refill_every` or the `rate_*` columns: `update` of them, and the
 *   count `consume` keeps in `rate_count`, stay HOT updates too.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'create tokens table',
    up: (n) => [
      `CREATE TABLE ${n.qualified} (
  id            text COLLATE "C" NOT NULL,
  hash          text COLLATE "C" NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('access', 'url')),
  subject       text,
  name          text NOT NULL,
  scopes        text[] NOT NULL,
  url           text,
  url_origin    text,
  url_canonical text,
  url_methods   text[],
  expires_at    bigint,
  idle_timeout  bigint CHECK (idle_timeout >= 0),
  max_uses      bigint CHECK (max_uses >= 0),
  uses          bigint NOT NULL DEFAULT 0,
  created_at    bigint NOT NULL,
  last_used_at  bigint,
  metadata      jsonb,
  hint          text NOT NULL,
  CONSTRAINT ${n.index('pkey')} PRIMARY KEY (id),
  CONSTRAINT ${n.index('hash_key')} UNIQUE (hash),
  CONSTRAINT ${n.index('url_check')} CHECK ((url IS NULL) = (url_canonical IS NULL) AND (url IS NULL) = (url_methods IS NULL))
) WITH (fillfactor = 90)`,
      `CREATE INDEX ${n.index('subject_id_idx')} ON ${n.qualified} (subject, id)`,
      `CREATE INDEX ${n.index('expires_at_idx')} ON ${n.qualified} (expires_at) WHERE expires_at IS NOT NULL`,
      // sweep's other two arms: idle-expired and used-up tokens, usually a small part of the table
      `CREATE INDEX ${n.index('idle_idx')} ON ${n.qualified} (id) WHERE idle_timeout IS NOT NULL`,
      `CREATE INDEX ${n.index('limited_idx')} ON ${n.qualified} (id) WHERE max_uses IS NOT NULL`,
    ],
  },
  {
    version: 2,
    name: 'add parent_id',
    up: (n) => [
      // nullable, no default: adding it rewrites nothing
      `ALTER TABLE ${n.qualified} ADD COLUMN parent_id text COLLATE "C"`,
      // list({ parentId }) in id order; derived tokens are usually a small part of the table
      `CREATE INDEX ${n.index('parent_id_idx')} ON ${n.qualified} (parent_id, id) WHERE parent_id IS NOT NULL`,
    ],
  },
  {
    version: 3,
    name: 'add disabled_at and refill_every; allow the session kind',
    up: (n) => [
      // One ALTER, metadata only: both columns are nullable with no default, so no row is
      // rewritten, and a token that uses neither stores nothing for them (21 columns still fit
      // the 3-byte null bitmap that 19 needed). The CHECK keeps `consume`'s period arithmetic
      // from ever dividing by zero; NOT VALID skips a scan that could find nothing (every
      // existing row holds NULL) and the check still applies to every row written from now on.
      `ALTER TABLE ${n.qualified}
  ADD COLUMN disabled_at bigint,
  ADD COLUMN refill_every bigint,
  ADD CONSTRAINT ${n.index('refill_check')} CHECK (refill_every > 0) NOT VALID`,
      // the 'session' kind (share-link sessions): version 1's kind CHECK was unnamed, so it is
      // found by its definition, dropped, and replaced by a named one (NOT VALID: every existing
      // row already passes it)
      `DO $$ DECLARE c text; BEGIN
  SELECT conname INTO c FROM pg_constraint
   WHERE conrelid = '${n.qualified.replace(/'/g, "''")}'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%kind%';
  IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE ${n.qualified.replace(/'/g, "''")} DROP CONSTRAINT %I', c); END IF;
END $$`,
      `ALTER TABLE ${n.qualified} ADD CONSTRAINT ${n.index('kind_check')} CHECK (kind IN ('access', 'url', 'session')) NOT VALID`,
    ],
  },
  {
    version: 4,
    name: 'add rate_limit, rate_window and rate_count',
    up: (n) => [
      // As version 3: one metadata-only ALTER (nullable, no default, so no row is rewritten, and
      // a token without a rate limit stores nothing for them: 24 columns fill the same 3-byte
      // null bitmap). rate_limit and rate_count fit `integer` (core caps a limit at 10^9);
      // rate_window is in ms (up to 366 days), so `bigint`. The CHECK keeps `consume`'s window
      // arithmetic from dividing by zero and a limit from being half set; NOT VALID skips a scan
      // that could find nothing (every existing row holds NULL in all three).
      `ALTER TABLE ${n.qualified}
  ADD COLUMN rate_limit integer,
  ADD COLUMN rate_window bigint,
  ADD COLUMN rate_count integer,
  ADD CONSTRAINT ${n.index('rate_check')} CHECK ((rate_limit IS NULL) = (rate_window IS NULL) AND rate_limit > 0 AND rate_window > 0 AND rate_count >= 0) NOT VALID`,
    ],
  },
];

/**
 * The schema version this package's store expects (the last migration's).
 *
 * @example
 * ```ts
 * const { version } = await migrate(pool);
 * if (version !== SCHEMA_VERSION) throw new Error('token table is from a newer release');
 * ```
 */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** FNV-1a, as a signed 32-bit int, for the advisory lock key. */
function key32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}
/** First key of the two-int advisory lock: "tka" in ASCII. */
const LOCK_CLASS = 0x746b61;

type Tx = (run: (q: Queryable) => Promise<MigrateResult>) => Promise<MigrateResult>;

/**
 * Picks how to hold one connection for a transaction: a pg `Pool` lends a client; PGlite has
 * `transaction()` (which also keeps other callers of the same instance out); a `Client`,
 * `PoolClient` or anything else is one connection already.
 */
function transactionOn(client: Queryable): Tx {
  const c = client as Queryable & {
    transaction?: (fn: (tx: Queryable) => Promise<unknown>) => Promise<unknown>;
    connect?: () => Promise<Queryable & { release(err?: unknown): void }>;
    totalCount?: number;
  };
  if (typeof c.transaction === 'function') {
    return (fn) => c.transaction!((tx) => fn(tx)) as Promise<MigrateResult>;
  }
  const plain = async (q: Queryable, fn: (q: Queryable) => Promise<MigrateResult>) => {
    await q.query('BEGIN', []);
    try {
      const out = await fn(q);
      await q.query('COMMIT', []);
      return out;
    } catch (err) {
      await q.query('ROLLBACK', []).catch(() => {});
      throw err;
    }
  };
  if (typeof c.connect === 'function' && 'totalCount' in c) {
    return async (fn) => {
      const conn = await c.connect!();
      let failed: unknown;
      try {
        return await plain(conn, fn);
      } catch (err) {
        failed = err;
        throw err;
      } finally {
        // A connection whose transaction failed is dropped rather than returned to the pool.
        conn.release(failed instanceof Error ? failed : undefined);
      }
    };
  }
  return (fn) => plain(client, fn);
}

/**
 * Creates or upgrades the token table, idempotently. Versions are recorded in
 * `<schema>.tokenaccess_migrations`; the whole run is one transaction under a transaction-level
 * advisory lock (`pg_advisory_xact_lock`), so several processes may call it at once at start-up:
 * one migrates, the others wait and then find nothing to do. On PGlite (one process) the lock
 * is taken as well and costs nothing.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate, postgresStore } from '@tokenaccess/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.error('idle pg client failed', err));
 * await migrate(pool, { schema: 'auth' });
 * const store = postgresStore({ client: pool, schema: 'auth' });
 * ```
 */
export async function migrate(client: Queryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  const n = resolveNames(options);
  if (!client || typeof client.query !== 'function') throw new TokenAccessError('invalid_argument', msg('migrate(client): client must have a query(text, values) method'));
  try {
    return await transactionOn(client)(async (q) => {
      const sql = async (text: string, values: unknown[] = []) => (await q.query(text, values)).rows as Record<string, unknown>[];
      await sql('SELECT pg_advisory_xact_lock($1::int, $2::int)', [LOCK_CLASS, key32(n.rawSchema)]);
      // CREATE SCHEMA IF NOT EXISTS checks the CREATE privilege before it checks existence, so
      // it is only run when the schema is missing (a role may own a table in a schema it cannot create).
      const found = await sql('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1::text', [n.rawSchema]);
      if (found.length === 0) await sql(`CREATE SCHEMA IF NOT EXISTS ${n.schema}`);
      await sql(`CREATE TABLE IF NOT EXISTS ${n.migrations} (
  table_name text NOT NULL,
  version    integer NOT NULL,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_name, version)
)`);
      const done = new Set(
        (await sql(`SELECT version FROM ${n.migrations} WHERE table_name = $1::text`, [n.rawTable])).map((r) => Number(r.version)),
      );
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const statement of m.up(n)) await sql(statement);
        await sql(`INSERT INTO ${n.migrations} (table_name, version, name) VALUES ($1::text, $2::int, $3::text)`, [n.rawTable, m.version, m.name]);
        applied.push(m.version);
      }
      return { applied, version: Math.max(0, ...done, ...applied) };
    });
  } catch (err) {
    throw storeError('postgres', 'migrate', err, pgHint(err));
  }
}
