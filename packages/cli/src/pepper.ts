import type { Pepper } from '@tokenaccess/core';
import { usage } from './errors';

/**
 * Reads `--pepper` / `TOKENACCESS_PEPPER`: a secret (stored under key id `k1`, as core does
 * for a string pepper), or, for rotation, JSON `{"current":"k2","keys":{"k1":"…","k2":"…"}}`.
 */
export function parsePepper(value: string | undefined): Pepper | undefined {
  if (value === undefined || value === '') return undefined;
  if (!value.trimStart().startsWith('{')) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw usage('the pepper looks like JSON but does not parse', 'give one secret, or {"current":"k2","keys":{"k1":"…","k2":"…"}}');
  }
  const p = parsed as { current?: unknown; keys?: unknown };
  if (typeof p.current !== 'string' || !p.keys || typeof p.keys !== 'object' || Array.isArray(p.keys)) {
    throw usage('a JSON pepper needs "current" (a key id) and "keys" (key id → secret)');
  }
  return { current: p.current, keys: p.keys as Record<string, string> };
}
