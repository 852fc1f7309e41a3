import { PATCHABLE, type RecordPatch } from '@tokenaccess/core/store';
import type { Document } from 'mongodb';
import { REFILE } from './document';

/** A patched value as `toDocument` stores it: metadata as JSON text, `refill` as `{ every }` only, `rateLimit` as `{ limit, window }` only. */
function encode(key: (typeof PATCHABLE)[number], value: NonNullable<RecordPatch[(typeof PATCHABLE)[number]]>): unknown {
  if (key === 'metadata') return JSON.stringify(value);
  if (key === 'refill') return { every: (value as { every: number }).every };
  if (key === 'rateLimit') return { limit: (value as { limit: number }).limit, window: (value as { window: number }).window };
  return value;
}

/**
 * The update pipeline of `update(id, patch)` (core's `applyPatch`, natively): the present fields
 * set, encoded as `toDocument` encodes them, the `null` ones removed (`rateLimit: null` keeps
 * `rateCount`, as core's `applyPatch` does), then {@link REFILE}
 * recomputes `purgeAt` and `usedUp` from the new document, with `uses` and `lastUsedAt` as they
 * are stored at that instant. One `findOneAndUpdate`, so a concurrent `consume` sees the
 * document before or after, never a mix.
 */
export function patchUpdate(patch: RecordPatch): Document[] {
  const set: Document = {};
  for (const key of PATCHABLE) {
    const value = patch[key];
    if (value === undefined) continue;
    // `$literal`: in a pipeline a string starting with `$` would otherwise be a field path
    set[key] = value === null ? '$$REMOVE' : { $literal: encode(key, value) };
  }
  return Object.keys(set).length > 0 ? [{ $set: set }, REFILE] : [REFILE];
}
