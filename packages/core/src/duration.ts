import { invalid } from './errors';
import type { Duration } from './types';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/**
 * Parses a duration into milliseconds: a non-negative finite number of ms, or `'90d'`, `'12h'`,
 * `'30m'`, `'45s'`, `'500ms'`, `'2w'`. Anything else throws `invalid_argument`.
 *
 * @example
 * ```ts
 * parseDuration('90d'); // 7776000000
 * ```
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.round(value);
  } else if (typeof value === 'string') {
    const m = RE.exec(value.trim());
    if (m) {
      const ms = Math.round(Number(m[1]) * UNITS[m[2]!]!);
      if (ms > 0 && Number.isSafeInteger(ms)) return ms;
    }
  }
  throw invalid(`${what} must be a positive number of milliseconds or a string like '30m', '12h', '90d' (got ${JSON.stringify(value)})`);
}
