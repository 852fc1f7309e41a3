import { DuplicateTokenError, type Duration, deadlines, storeError, storeMessage } from '@tokenaccess/core/store';

/**
 * What the store needs from a database client: `query(text, values)` resolving to `{ rows }`.
 * A `pg` `Pool`, `Client` or `PoolClient` fits, and so does a PGlite instance
 * (`@electric-sql/pglite`), or any wrapper with the same shape.
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const client: Queryable = new PGlite();
 * ```
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A row as the store reads it back: column name to value. */
export type Row = Record<string, unknown>;

/**
 * Runs the store's SQL on the injected client: statement names for pg, and every call under
 * core's one deadline watcher, whose failures are mapped by core's `storeError`.
 */
export interface Runner {
  /** The timeout every statement runs under, in ms (0: none). */
  readonly timeout: number;
  /** The rows of one statement. `what` names the call in error messages. */
  run(what: string, text: string, values: unknown[]): Promise<Row[]>;
  /** The rows of one statement, mapped in the same promise; `map` never runs after the deadline. */
  then<U>(what: string, text: string, values: unknown[], map: (rows: Row[]) => U | PromiseLike<U>): Promise<U>;
}

interface PgLike {
  query(config: { text: string; values: unknown[]; name: string }): Promise<{ rows: Row[] }>;
}

/** `[tokenaccess] [postgres] …` */
export const msg = (text: string) => storeMessage('postgres', text);

const codeOf = (err: unknown) => (err as { code?: unknown } | null)?.code;

/** What core's `storeError` adds to a driver error's message: a missing table says what to do. */
export const pgHint = (err: unknown) => (codeOf(err) === '42P01' ? ' (the table does not exist: run migrate() first)' : '');

/** What a failure of `what` becomes: a duplicate key is a `DuplicateTokenError`, the rest core's `storeError`. */
export function pgError(what: string, err: unknown): unknown {
  if (codeOf(err) === '23505') return new DuplicateTokenError(msg('a token with this hash or id already exists'), { cause: err });
  return storeError('postgres', what, err, pgHint(err));
}

/**
 * `pg`'s `Pool` has `totalCount`; its `Client` and `PoolClient` have `connectionParameters`.
 * Only these get config objects (statement names); anything else is called with exactly
 * `query(text, values)`.
 */
export function isPg(client: unknown): boolean {
  if (typeof client !== 'object' || client === null) return false;
  return typeof (client as { connect?: unknown }).connect === 'function' && ('totalCount' in client || 'connectionParameters' in client);
}

/** A short, stable statement name per SQL text (two 32-bit FNV-1a variants). */
export function statementName(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `tka_${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

export function createRunner(client: Queryable, options: { timeout: Duration; preparedStatements?: boolean }): Runner {
  const named = isPg(client) && (options.preparedStatements ?? true);
  const names = new Map<string, string>();
  const calls = deadlines(options.timeout, pgError);

  // A client that throws instead of rejecting still answers through the watcher's mapping.
  const send = (text: string, values: unknown[]): Promise<{ rows: unknown[] }> => {
    try {
      if (!named) return client.query(text, values);
      let name = names.get(text);
      if (name === undefined) names.set(text, (name = statementName(text)));
      return (client as unknown as PgLike).query({ text, values, name });
    } catch (err) {
      return Promise.reject(err);
    }
  };

  // Plain promise chains rather than async functions: every hop is a microtask on the hot path,
  // and `map` runs inside the watcher's own callback.
  return {
    timeout: calls.timeout,
    run: (what, text, values) => calls.then(what, send(text, values), (result) => result.rows as Row[]),
    then: (what, text, values, map) => calls.then(what, send(text, values), (result) => map(result.rows as Row[])),
  };
}
