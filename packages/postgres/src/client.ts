import { TokenAccessError } from '@tokenaccess/core';

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

/** Runs the store's SQL on the injected client, with names, timeouts and error mapping. */
export interface Runner {
  run(text: string, values: unknown[]): Promise<Row[]>;
}

interface PgLike {
  query(config: { text: string; values: unknown[]; name: string }): Promise<{ rows: Row[] }>;
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

/** `[tokenaccess] [postgres] …` */
export const msg = (text: string) => `[tokenaccess] [postgres] ${text}`;

/**
 * Maps a driver error to tokenaccess's: a store failure becomes `unavailable` with the
 * driver's error as `cause` (so core answers 503); a missing table gets a hint.
 */
export function unavailable(err: unknown, what: string): TokenAccessError {
  if (err instanceof TokenAccessError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const hint = code === '42P01' ? ' (the table does not exist: run migrate() first)' : '';
  return new TokenAccessError('unavailable', msg(`${what} failed: ${detail}${hint}`), { cause: err });
}

/**
 * A deadline for every query of one store, without a timer per query: verification is the hot
 * path, and a setTimeout per call (or a Set of pending calls) costs more than the rest of the
 * store's own work. All calls of a store share one timeout, so their deadlines come in the order
 * the calls start: a FIFO queue, checked by one interval every TICK ms while anything is
 * pending. A deadline fires between `timeout` and `timeout + TICK` ms after the call.
 */
const TICK = 25;

interface Deadline {
  due: number;
  reject: (err: unknown) => void;
  done: boolean;
}

function deadlines(timeout: number): (promise: Promise<{ rows: unknown[] }>) => Promise<Row[]> {
  const span = Math.ceil(timeout / TICK) + 1;
  let queue: Deadline[] = [];
  let head = 0;
  let ticks = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    ticks++;
    while (head < queue.length) {
      const d = queue[head]!;
      if (!d.done) {
        if (d.due > ticks) break;
        d.done = true;
        d.reject(new TokenAccessError('unavailable', msg(`the database did not answer within ${timeout} ms`)));
      }
      head++;
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
      clearInterval(timer);
      timer = undefined;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  return (promise) =>
    new Promise<Row[]>((resolve, reject) => {
      const d: Deadline = { due: ticks + span, reject, done: false };
      queue.push(d);
      if (timer === undefined) {
        timer = setInterval(tick, TICK);
        (timer as { unref?: () => void }).unref?.();
      }
      promise.then(
        (result) => {
          d.done = true;
          resolve(result.rows as Row[]);
        },
        (err) => {
          d.done = true;
          reject(rethrow(err));
        },
      );
    });
}

export function createRunner(client: Queryable, options: { timeout: number; preparedStatements?: boolean }): Runner {
  const named = isPg(client) && (options.preparedStatements ?? true);
  const names = new Map<string, string>();
  const { timeout } = options;
  const withDeadline = timeout > 0 ? deadlines(timeout) : undefined;

  const send = (text: string, values: unknown[]): Promise<{ rows: unknown[] }> => {
    if (!named) return client.query(text, values);
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = statementName(text)));
    return (client as unknown as PgLike).query({ text, values, name });
  };

  // Plain promise chains rather than async functions: every hop is a microtask on the hot path.
  const rowsOf = (result: { rows: unknown[] }) => result.rows as Row[];
  const fail = (err: unknown): never => {
    throw rethrow(err);
  };
  return {
    run(text, values) {
      let promise: Promise<{ rows: unknown[] }>;
      try {
        promise = send(text, values);
      } catch (err) {
        return Promise.reject(rethrow(err));
      }
      return withDeadline ? withDeadline(promise) : promise.then(rowsOf, fail);
    },
  };
}

/** Unique violations pass through untouched (the caller maps them); everything else is wrapped. */
function rethrow(err: unknown): unknown {
  if ((err as { code?: unknown } | null)?.code === '23505') return err;
  return unavailable(err, 'query');
}
