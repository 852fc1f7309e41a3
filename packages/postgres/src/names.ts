import { TokenAccessError } from '@tokenaccess/core/store';
import { msg } from './client';

/**
 * Where the tokens live. Both names are identifiers, quoted, so any characters but NUL work.
 *
 * @example
 * ```ts
 * const where: TableOptions = { schema: 'auth', table: 'api_tokens' };
 * await migrate(pool, where);
 * const store = postgresStore({ client: pool, ...where });
 * ```
 */
export interface TableOptions {
  /**
   * Table name. At most 48 bytes (UTF-8), so the index names built from it stay within
   * PostgreSQL's 63-byte identifier limit.
   * @default 'tokenaccess_tokens'
   */
  table?: string;
  /**
   * Schema name, at most 63 bytes.
   * @default 'public'
   */
  schema?: string;
}

/** The quoted, validated names the SQL uses. */
export interface Names {
  schema: string;
  table: string;
  /** `"schema"."table"` */
  qualified: string;
  /** `"schema"."tokenaccess_migrations"` */
  migrations: string;
  /** Quoted name of an index on the table: `index('subject_id_idx')`. */
  index(suffix: string): string;
}

export const DEFAULT_TABLE = 'tokenaccess_tokens';
export const DEFAULT_SCHEMA = 'public';
export const MIGRATIONS_TABLE = 'tokenaccess_migrations';

/**
 * Double-quotes an identifier, doubling embedded quotes (so `a"b; drop` stays one name).
 *
 * @example
 * ```ts
 * await pool.query(`SELECT count(*) FROM ${quoteIdent('auth')}.${quoteIdent('tokenaccess_tokens')}`);
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function check(kind: string, name: unknown, maxBytes: number): string {
  if (typeof name !== 'string' || name.length === 0) throw new TokenAccessError('invalid_argument', msg(`${kind} must be a non-empty string`));
  if (name.includes('\0')) throw new TokenAccessError('invalid_argument', msg(`${kind} must not contain NUL`));
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > maxBytes) throw new TokenAccessError('invalid_argument', msg(`${kind} is ${bytes} bytes long; at most ${maxBytes} are allowed`));
  return name;
}

export function resolveNames(options: TableOptions = {}): Names & { rawSchema: string; rawTable: string } {
  const rawSchema = check('schema', options.schema ?? DEFAULT_SCHEMA, 63);
  const rawTable = check('table', options.table ?? DEFAULT_TABLE, 48);
  const schema = quoteIdent(rawSchema);
  const table = quoteIdent(rawTable);
  return {
    rawSchema,
    rawTable,
    schema,
    table,
    qualified: `${schema}.${table}`,
    migrations: `${schema}.${quoteIdent(MIGRATIONS_TABLE)}`,
    index: (suffix) => quoteIdent(`${rawTable}_${suffix}`),
  };
}
