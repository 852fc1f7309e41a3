import { TokenAccessError } from '@tokenaccess/core';

/**
 * Exit codes of the `tokenaccess` command (and return values of `run`).
 *
 * @example
 * ```ts
 * if ((await run(['sweep'])) === EXIT.usage) console.error('check the arguments');
 * ```
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** Runtime failure: the store is unreachable or failed, a token was not found. */
  failure: 1,
  /**
   * Usage error: unknown command or option, bad value (duration, scope, URL, store URL), or a
   * PGlite directory that cannot be used as given (others can write it, another user owns it, it
   * cannot be created).
   */
  usage: 2,
} as const;

/**
 * An error the CLI reports as one line, `tokenaccess: error: <message>`, exiting with `exitCode`.
 *
 * @example
 * ```ts
 * throw new CliError('unknown command "lst" (see tokenaccess help)', EXIT.usage);
 * ```
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /** An optional second line, printed as `hint: …`. */
  readonly hint?: string;

  constructor(message: string, exitCode: number = EXIT.failure, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
    if (options?.hint) this.hint = options.hint;
  }
}

/** A usage error (exit code 2). */
export const usage = (message: string, hint?: string) => new CliError(message, EXIT.usage, hint ? { hint } : undefined);

/** Strips the library's `[tokenaccess] [adapter]` prefixes: the CLI has its own. */
export function plain(message: string): string {
  return message.replace(/^(\[tokenaccess\]\s*)(\[[a-z]+\]\s*)?/, '');
}

/** The innermost useful message of an error chain (a driver's `ECONNREFUSED` under our wrapper). */
function rootCause(err: unknown): string | undefined {
  let cur: unknown = err;
  let last: string | undefined;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    const e = cur as Error & { code?: unknown; errors?: unknown[] };
    // AggregateError (pg on a host with IPv4 and IPv6) keeps the useful message inside
    if (!e.message && Array.isArray(e.errors) && e.errors[0] instanceof Error) cur = e.errors[0];
    else {
      if (e.message) last = e.message;
      cur = e.cause;
    }
  }
  return last;
}

/**
 * Turns anything thrown into `{ message, exitCode }`: TokenAccessError `invalid_argument` is a
 * usage error (2), everything else a runtime failure (1).
 */
export function describeError(err: unknown): { message: string; exitCode: number; hint?: string } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof TokenAccessError) {
    let message = plain(err.message);
    if (err.code === 'unavailable') {
      const cause = rootCause(err.cause);
      if (cause && !message.includes(cause)) message = `${message} (${plain(cause)})`;
    }
    return { message, exitCode: err.code === 'invalid_argument' ? EXIT.usage : EXIT.failure };
  }
  if (err instanceof Error) return { message: rootCause(err) ?? err.message ?? String(err), exitCode: EXIT.failure };
  return { message: String(err), exitCode: EXIT.failure };
}
