import { closeSync, existsSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, EXIT, usage } from '../errors';
import { PrivateDirError, preparePrivateDir, restrictPrivateDir, withPrivateUmask } from '../private-dir';
import { EMBEDDED_DIR, type OpenedStore, type StoreSettings, errText, once, redact, takeParams } from './shared';

type PgModule = typeof import('@tokenaccess/postgres');

/**
 * `SELECT count(*)` of what sweep deletes (the three arms of the store's own sweep), for the
 * progress bar's total. Times are epoch-ms `bigint` columns in the current schema and were
 * `timestamptz` before; the column type is read first so either works. Any failure just
 * leaves the bar without a total.
 */
async function countDeadSql(client: { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }, pgMod: PgModule, schema: string | undefined, table: string | undefined, now: Date): Promise<number> {
  const rawSchema = schema ?? 'public';
  const rawTable = table ?? 'tokenaccess_tokens';
  const t = `${pgMod.quoteIdent(rawSchema)}.${pgMod.quoteIdent(rawTable)}`;
  const typeRows = (await client.query(
    `SELECT data_type FROM information_schema.columns WHERE table_schema = $1::text AND table_name = $2::text AND column_name = 'expires_at'`,
    [rawSchema, rawTable],
  )).rows as { data_type?: string }[];
  const epoch = typeRows[0]?.data_type === 'bigint';
  const at = epoch ? '$1::bigint' : '$1::timestamptz';
  const idle = epoch
    ? `coalesce(t.last_used_at, t.created_at) + t.idle_timeout <= ${at}`
    : `coalesce(t.last_used_at, t.created_at) + t.idle_timeout * interval '1 millisecond' <= ${at}`;
  const { rows } = await client.query(
    `SELECT count(*)::float8 AS n FROM ${t} t WHERE t.expires_at <= ${at}
       OR (t.idle_timeout IS NOT NULL AND ${idle})
       OR (t.max_uses IS NOT NULL AND t.uses >= t.max_uses)`,
    [epoch ? String(now.getTime()) : now.toISOString()],
  );
  return Number((rows[0] as { n?: unknown } | undefined)?.n ?? 0);
}

function migratedMessage(r: { applied: number[]; version: number }, where: string): string {
  return r.applied.length > 0
    ? `migrated ${where} to schema version ${r.version} (applied ${r.applied.join(', ')})`
    : `${where} is up to date (schema version ${r.version})`;
}

export async function openPostgres(raw: string, s: StoreSettings): Promise<OpenedStore> {
  const { url, params } = takeParams(raw, ['schema', 'table']);
  const schema = s.schema ?? params.schema;
  const table = s.table ?? params.table;
  const [{ default: pg }, pgMod] = await Promise.all([import('pg'), import('@tokenaccess/postgres')]);
  // pg parses the URL only when it connects, and throws there synchronously: check it first with
  // pg's own parser (a Client that is never connected opens nothing), so a typo is a usage error
  try {
    new pg.Client({ connectionString: url });
  } catch (err) {
    throw usage(`bad PostgreSQL URL ${JSON.stringify(redact(url))}: ${errText(err)}`);
  }
  if (s.publish && s.channel !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(s.channel)) {
    throw usage(`--channel must be a PostgreSQL identifier for LISTEN/NOTIFY: letters, digits and _, at most 63 (got ${JSON.stringify(s.channel)})`);
  }
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: s.connectTimeout, max: 4, idleTimeoutMillis: 1000 });
  pool.on('error', () => {
    // an idle connection died; the Pool already dropped it and the next query reports the failure
  });
  // NOTIFY goes through the Pool; the CLI caches nothing, so it never LISTENs (no dedicated
  // connection is taken from the Pool, nothing holds the process open)
  const invalidation = s.publish ? pgMod.postgresInvalidation({ client: pool, heartbeat: 0, ...(s.channel !== undefined ? { channel: s.channel } : {}) }) : undefined;
  const close = once(async () => {
    await invalidation?.close();
    await pool.end();
  });
  const names = { ...(schema !== undefined ? { schema } : {}), ...(table !== undefined ? { table } : {}) };
  const where = `${redact(url)} (schema ${schema ?? 'public'}, table ${table ?? 'tokenaccess_tokens'})`;
  try {
    // the CLI serves no verifies: its sweep may run back to back (sweepPace 'full')
    const store = pgMod.postgresStore({ client: pool, timeout: s.timeout, sweepPace: 'full', ...names });
    // connect now, so an unreachable server is reported as such before any command runs
    const conn = await pool.connect().catch((err: unknown) => {
      throw new CliError(`cannot connect to ${redact(url)}: ${errText(err)}`, EXIT.failure, { cause: err });
    });
    conn.release();
    return {
      store,
      backend: 'postgres',
      label: where,
      migrate: async () => migratedMessage(await pgMod.migrate(pool, names), where),
      countDead: (now) => countDeadSql(pool, pgMod, schema, table, now),
      ...(invalidation ? { invalidation } : {}),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * A lock file next to PGlite's data, so two commands never open the same directory at once
 * (PGlite is single-process). A lock left by a process that died is taken over.
 */
function lockDir(dir: string): () => void {
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new CliError(`the store in ${dir} is in use by another tokenaccess process (pid ${pid})`, EXIT.failure, { hint: `if no such process runs, delete ${file}` });
      rmSync(file, { force: true });
    }
  }
  throw new CliError(`could not lock ${dir}`);
}

/** A directory that is not private, or cannot be made so, is bad input: exit 2, one line. */
function privateDir<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PrivateDirError) throw new CliError(err.message, EXIT.usage, { cause: err });
    throw err;
  }
}

/**
 * PGlite on a directory that only this user can read or write (0700, files 0600): it holds token
 * hashes and use counts. `dir` is `.tokenaccess/` (the data in `pgdata/` under it) or the
 * directory of `pglite:<dir>`.
 */
export async function openPglite(dir: string, s: StoreSettings, embedded: boolean): Promise<OpenedStore> {
  const dataDir = embedded ? join(dir, 'pgdata') : dir;
  // before anything is written: create it owner-only, or refuse one others can write or another
  // user owns; an existing store is tightened here (and refused if it holds another user's files)
  const { writable } = privateDir(() => {
    preparePrivateDir(dir, embedded ? {} : { marker: 'PG_VERSION', ignore: ['lock'] });
    if (embedded) preparePrivateDir(dataDir);
    return restrictPrivateDir(dir);
  });
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (writable > 0) {
    // a store made before this release, or loosened by hand: say so, its contents were exposed
    s.notice(`made ${embedded ? `./${EMBEDDED_DIR}/` : dir} owner-only: ${writable} of its files and directories were writable by other users (see "Permissions" in docs/cli.md)`);
  }
  if (embedded && !existsSync(join(dir, '.gitignore'))) {
    // the directory holds token hashes: keep it out of commits
    writeFileSync(join(dir, '.gitignore'), '# created by tokenaccess: the embedded token store\n*\n', { mode: 0o600 });
  }
  const unlock = lockDir(embedded ? dir : dataDir);
  let db: { close(): Promise<void>; query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } | undefined;
  const close = once(async () => {
    try {
      await db?.close();
    } finally {
      // PostgreSQL writes some files (pg_internal.init) 0644 while it runs
      try {
        restrictPrivateDir(dir);
      } catch {
        // checked on open; nothing else to do on the way out
      }
      unlock();
    }
  });
  try {
    if (fresh) s.notice(embedded ? `creating the embedded store in ./${EMBEDDED_DIR}/ (PGlite; use --store for a database server)` : `creating a PGlite database in ${dir}`);
    const [{ PGlite }, pgMod] = await Promise.all([import('@electric-sql/pglite'), import('@tokenaccess/postgres')]);
    const pglite = await withPrivateUmask(async () => {
      // PGlite cannot mount a symbolic link: give it the directory the link points at
      const p = new PGlite(realpathSync(dataDir));
      db = p;
      await p.waitReady;
      return p;
    });
    // PGlite chmods the files of a new database to 0666 itself, whatever the umask
    privateDir(() => restrictPrivateDir(dir));
    const names = { ...(s.schema !== undefined ? { schema: s.schema } : {}), ...(s.table !== undefined ? { table: s.table } : {}) };
    const where = embedded ? `the embedded store ./${EMBEDDED_DIR}/` : `pglite:${dir}`;
    // embedded Postgres has no deploy step: keep its schema current on every open (idempotent, cheap)
    const first = await pgMod.migrate(pglite, names);
    const store = pgMod.postgresStore({ client: pglite, timeout: 0, sweepPace: 'full', ...names });
    return {
      store,
      backend: 'pglite',
      label: s.schema === undefined && s.table === undefined ? where : `${where} (schema ${s.schema ?? 'public'}, table ${s.table ?? 'tokenaccess_tokens'})`,
      migrate: async () => migratedMessage(first.applied.length > 0 ? first : await pgMod.migrate(pglite, names), where),
      countDead: (now) => countDeadSql(pglite, pgMod, s.schema, s.table, now),
      close,
    };
  } catch (err) {
    await close();
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot open the PGlite store in ${dataDir}: ${errText(err)}`, EXIT.failure, { cause: err });
  }
}
