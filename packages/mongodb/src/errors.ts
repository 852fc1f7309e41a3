import { DuplicateTokenError, TokenAccessError } from '@tokenaccess/core';

/** MongoDB's duplicate-key codes (11001 is what servers before 2.6 sent on updates). */
const DUPLICATE_KEY = new Set([11000, 11001]);

function isDuplicateKey(err: unknown): err is { code: number; keyPattern?: Record<string, unknown> } {
  return typeof err === 'object' && err !== null && DUPLICATE_KEY.has((err as { code?: unknown }).code as number);
}

/**
 * The error a store call throws for a driver failure: `DuplicateTokenError` for E11000 (naming
 * the field that collided), `TokenAccessError('unavailable')` for everything else (network,
 * server selection timeout, server errors), which core answers with 503.
 */
export function storeError(what: string, err: unknown): Error {
  if (err instanceof TokenAccessError) return err;
  if (isDuplicateKey(err)) {
    const field = err.keyPattern && Object.keys(err.keyPattern)[0] === '_id' ? 'id' : 'hash';
    return new DuplicateTokenError(`[tokenaccess] [mongodb] a token with this ${field} already exists`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TokenAccessError('unavailable', `[tokenaccess] [mongodb] ${what} failed: ${message}`, { cause: err });
}
