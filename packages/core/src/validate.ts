import { invalid } from './errors';
import { parseDuration } from './duration';
import type { Duration, JsonValue } from './types';

// The input rules of issue and issueUrl, the same for every store: what is accepted here, every
// store can hold and read back exactly.

/** The methods a URL token may be bound to (the RFC 9110 methods a browser or client sends). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const MAX_METADATA = 64 * 1024;
const MAX_METADATA_DEPTH = 32;

/** Text every store can hold as given: no U+0000 (Postgres refuses it) and no lone surrogate (UTF-8 cannot encode it). */
const storable = (s: string) => !UNSTORABLE.test(s);
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function validateText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) throw invalid(`${what} must be a non-empty string of at most 512 characters`);
  if (!storable(value)) throw invalid(`${what} must not hold U+0000 or a lone surrogate`);
  return value;
}

export function validateMaxUses(n: number, what = 'maxUses'): number {
  if (!Number.isSafeInteger(n) || n < 1) throw invalid(`${what} must be a positive integer or null (got ${JSON.stringify(n)})`);
  return n;
}

export function validateMethods(methods: unknown): string[] {
  if (!Array.isArray(methods) || methods.length === 0) throw invalid('methods must be a non-empty array of HTTP methods');
  const out = methods.map((m) => (typeof m === 'string' ? m.toUpperCase() : ''));
  for (const m of out) if (!METHODS.has(m)) throw invalid(`${JSON.stringify(m).slice(0, 40)} is not an HTTP method a URL token can be bound to (${[...METHODS].join(', ')})`);
  return [...new Set(out)];
}

/**
 * Metadata every store holds exactly: a plain JSON object of at most 64 KiB and 32 levels, no
 * U+0000 or lone surrogate in a key or string, no key starting with `$` (a MongoDB operator).
 * Refused at issue, so a verify never meets a record its store cannot read back.
 */
export function validateMetadata(m: unknown): Record<string, JsonValue> {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalid('metadata must be a plain object');
  checkJson(m, 1);
  let json: string;
  try {
    json = JSON.stringify(m);
  } catch {
    throw invalid('metadata must be JSON-serialisable');
  }
  if (json.length > MAX_METADATA) throw invalid(`metadata is larger than ${MAX_METADATA} bytes as JSON`);
  return JSON.parse(json) as Record<string, JsonValue>;
}

function checkJson(value: unknown, depth: number): void {
  if (typeof value === 'string') {
    if (!storable(value)) throw invalid('metadata strings must not hold U+0000 or a lone surrogate');
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_METADATA_DEPTH) throw invalid(`metadata is nested deeper than ${MAX_METADATA_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const v of value) checkJson(v, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!storable(k) || k.startsWith('$')) throw invalid(`metadata key ${JSON.stringify(k.slice(0, 40))} is not allowed (no U+0000, lone surrogate or leading '$')`);
    checkJson(v, depth + 1);
  }
}

/** A `refill` option: `{ every }` (a duration of at least 1 s) on a token with `maxUses`. */
export function validateRefill(refill: unknown, maxUses: number | undefined): { every: number } {
  if (!refill || typeof refill !== 'object' || !('every' in refill)) throw invalid('refill must be { every: Duration }');
  const every = parseDuration((refill as { every: Duration }).every, 'refill.every');
  if (every < 1000) throw invalid('refill.every must be at least 1s');
  if (maxUses === undefined) throw invalid('refill needs maxUses (the budget it renews)');
  return { every };
}

/** The longest rate window: a year (longer is a use limit, `maxUses`, not a rate). */
const MAX_RATE_WINDOW = 366 * 24 * 3600 * 1000;
/** The shortest rate window, and its unit: whole seconds, so the `RateLimit` headers are exact. */
const MIN_RATE_WINDOW = 1000;
const MAX_RATE_LIMIT = 1_000_000_000;

/**
 * The bounds of a `rateLimit`, for tools that check input before calling core (the CLI, the
 * admin page) and word their own messages: a limit is an integer from 1 to 1,000,000,000, a
 * window whole seconds from 1 s to 366 d (so the `RateLimit` headers are exact).
 *
 * @example
 * ```ts
 * import { rateLimitBounds } from '@tokenaccess/core';
 * rateLimitBounds.limitOk(100); // true
 * rateLimitBounds.windowOk(1500); // false: not whole seconds
 * ```
 */
export const rateLimitBounds = {
  maxLimit: MAX_RATE_LIMIT,
  minWindow: MIN_RATE_WINDOW,
  maxWindow: MAX_RATE_WINDOW,
  limitOk: (limit: number): boolean => Number.isInteger(limit) && limit >= 1 && limit <= MAX_RATE_LIMIT,
  windowOk: (ms: number): boolean => Number.isInteger(ms) && ms >= MIN_RATE_WINDOW && ms <= MAX_RATE_WINDOW && ms % MIN_RATE_WINDOW === 0,
} as const;

/**
 * A `rateLimit` option: `{ limit, window }`, an integer limit of 1 to 1,000,000,000 verifications
 * per window, a duration of 1 s to 366 d (whole seconds, so the `RateLimit` headers are exact).
 */
export function validateRateLimit(rate: unknown, what = 'rateLimit'): { limit: number; window: number } {
  if (!rate || typeof rate !== 'object' || !('limit' in rate) || !('window' in rate)) throw invalid(`${what} must be { limit, window }`);
  const { limit, window } = rate as { limit: unknown; window: Duration };
  if (typeof limit !== 'number' || !rateLimitBounds.limitOk(limit)) throw invalid(`${what}.limit must be an integer from 1 to 1000000000`);
  const ms = parseDuration(window, `${what}.window`);
  if (!rateLimitBounds.windowOk(ms)) throw invalid(`${what}.window must be whole seconds from 1s to 366d`);
  return { limit, window: ms };
}
