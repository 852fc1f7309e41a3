import { CliError, EXIT, usage } from '../errors';
import { errText, redact, takeParams, withDeadline } from '../stores/shared';

/** A row as the source returns it: dates as the strings the database wrote, big integers as strings. */
export type Row = Record<string, unknown>;

/**
 * The framework's database, read-only: MySQL / MariaDB through `mysql2`, PostgreSQL through `pg`.
 * Each driver is imported here, lazily, only when its URL is given.
 */
export interface SourceDb {
  dialect: 'mysql' | 'postgres';
  /** The URL without its password, for messages. */
  label: string;
  /** `?table=` of the URL, if any. */
  table?: string;
  /** The table's column names, as the database spells them; empty when there is no such table. */
  columns(table: string): Promise<string[]>;
  query(sql: string, params: unknown[]): Promise<Row[]>;
  /** A quoted column name. */
  quote(name: string): string;
  /** The table, quoted (and schema-qualified on PostgreSQL). */
  tableRef(name: string): string;
  /** The `n`th (1-based) parameter placeholder. */
  param(n: number): string;
  /** An SQL expression for a date column as seconds since the epoch (how Tiki compares). */
  epoch(column: string): string;
  close(): Promise<void>;
}

export interface SourceSettings {
  connectTimeout: number;
  /** Longest wait for one query, ms. */
  timeout: number;
}

/** Opens `--from`: `mysql://` / `mariadb://` or `postgres://` / `postgresql://`. */
export async function openSource(raw: string, s: SourceSettings): Promise<SourceDb> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'mysql':
    case 'mariadb':
      return openMysql(raw, s);
    case 'postgres':
    case 'postgresql':
      return openPg(raw, s);
    default:
      throw usage(`unsupported source URL ${JSON.stringify(redact(raw).slice(0, 80))}`, 'use mysql://user:pass@host:3306/db (MySQL, MariaDB) or postgres://user:pass@host:5432/db');
  }
}

/** A driver the CLI does not depend on: installed by whoever imports. */
async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new CliError(`importing from this database needs the ${name} package`, EXIT.failure, { hint: `npm install ${name}` });
    }
    throw err;
  }
}

async function openMysql(raw: string, s: SourceSettings): Promise<SourceDb> {
  const { url: withoutParams, params } = takeParams(raw, ['table']);
  const url = withoutParams.replace(/^mariadb:/i, 'mysql:');
  const mysql = await load('mysql2', () => import('mysql2/promise'));
  let conn: import('mysql2/promise').Connection;
  try {
    conn = await withDeadline(
      mysql.createConnection({
        uri: url,
        connectTimeout: s.connectTimeout,
        // dates as written (the framework's wall clock), ids as strings: nothing is converted on the way
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
      }),
      s.connectTimeout + 1000,
    );
  } catch (err) {
    if (err instanceof TypeError || /Invalid URL/i.test(errText(err))) throw usage(`bad MySQL URL ${JSON.stringify(redact(raw))}: ${errText(err)}`);
    throw new CliError(`cannot connect to ${redact(raw)}: ${errText(err)}`, EXIT.failure, { cause: err });
  }
  // a connection lost mid-import raises on the next query; without a listener it would also crash the process
  conn.on('error', () => {});
  const [dbRows] = await conn.query('SELECT DATABASE() AS db');
  if (!(dbRows as Row[])[0]?.db) {
    conn.destroy();
    throw usage(`${redact(raw)} names no database`, 'add it to the path: mysql://user@host:3306/<database>');
  }
  return {
    dialect: 'mysql',
    label: redact(withoutParams),
    ...(params.table !== undefined ? { table: params.table } : {}),
    async columns(table) {
      const [rows] = await conn.query({ sql: 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', timeout: s.timeout }, [table]);
      return (rows as Row[]).map((r) => String(r.c));
    },
    async query(sql, values) {
      const [rows] = await conn.query({ sql, timeout: s.timeout }, values);
      return rows as Row[];
    },
    quote: (name) => `\`${name.replace(/`/g, '``')}\``,
    tableRef: (name) => `\`${name.replace(/`/g, '``')}\``,
    param: () => '?',
    epoch: (column) => `UNIX_TIMESTAMP(${column})`,
    async close() {
      await Promise.race([conn.end(), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => {});
      conn.destroy();
    },
  };
}

async function openPg(raw: string, s: SourceSettings): Promise<SourceDb> {
  const { url, params } = takeParams(raw, ['table', 'schema']);
  const { default: pg } = await import('pg');
  let client: import('pg').Client;
  try {
    client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: s.connectTimeout,
      ...(s.timeout > 0 ? { query_timeout: s.timeout } : {}),
      // dates as written: `timestamp` is the framework's wall clock, `timestamptz` carries its offset
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 1114 || oid === 1184 ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
  } catch (err) {
    throw usage(`bad PostgreSQL URL ${JSON.stringify(redact(raw))}: ${errText(err)}`);
  }
  client.on('error', () => {});
  try {
    await withDeadline(client.connect(), s.connectTimeout + 1000);
  } catch (err) {
    await client.end().catch(() => {});
    throw new CliError(`cannot connect to ${redact(raw)}: ${errText(err)}`, EXIT.failure, { cause: err });
  }
  const schema = params.schema ?? ((await client.query('SELECT current_schema() AS s')).rows[0] as Row).s;
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return {
    dialect: 'postgres',
    label: redact(url),
    ...(params.table !== undefined ? { table: params.table } : {}),
    async columns(table) {
      const r = await client.query('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [schema, table]);
      return (r.rows as Row[]).map((row) => String(row.c));
    },
    async query(sql, values) {
      return (await client.query(sql, values)).rows as Row[];
    },
    quote,
    tableRef: (name) => `${quote(String(schema))}.${quote(name)}`,
    param: (n) => `$${n}`,
    epoch: (column) => `EXTRACT(EPOCH FROM ${column})`,
    async close() {
      await Promise.race([client.end(), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => {});
    },
  };
}
