import type { TokenInfo } from '../types';

/**
 * How long a used-up token that never expires by time is kept to answer `exhausted`: 30 days.
 *
 * @example
 * ```ts
 * const keepUntil = record.lastUsedAt!.getTime() + TOMBSTONE_MS;
 * ```
 */
export const TOMBSTONE_MS = 30 * 86_400_000;

/**
 * When a record dies by time, in epoch ms: the earlier of `expiresAt` and the idle deadline
 * (`(lastUsedAt ?? createdAt) + idleTimeout`); `undefined` when it never expires by time.
 *
 * @example
 * ```ts
 * const ms = timeDeadline(record); // for PXAT in Redis, a TTL field in MongoDB
 * ```
 */
export function timeDeadline(r: Pick<TokenInfo, 'expiresAt' | 'idleTimeout' | 'lastUsedAt' | 'createdAt'>): number | undefined {
  let d = r.expiresAt?.getTime();
  if (r.idleTimeout !== undefined) {
    const idle = (r.lastUsedAt ?? r.createdAt).getTime() + r.idleTimeout;
    if (d === undefined || idle < d) d = idle;
  }
  return d;
}

/**
 * When a store may drop a record on its own (a TTL): at its time deadline, plus `grace`. A
 * used-up record is kept until then too, so it answers `exhausted` (never `not_found`) on every
 * store; one that never expires by time is kept {@link TOMBSTONE_MS} after its last use (not a
 * refilling one: its budget comes back).
 * `undefined`: keep it (a live token without expiry).
 *
 * @example
 * ```ts
 * const at = purgeAt(record); // Redis: SET … PXAT at; MongoDB: { purgeAt: new Date(at) } under a TTL index
 * ```
 */
export function purgeAt(r: Pick<TokenInfo, 'expiresAt' | 'idleTimeout' | 'lastUsedAt' | 'createdAt' | 'maxUses' | 'uses' | 'refill'>, grace = 0): number | undefined {
  const d = timeDeadline(r);
  if (d !== undefined) return d + grace;
  // a refilling token used up for this period gets its budget back: never a tombstone
  if (r.maxUses !== undefined && r.refill === undefined && r.uses >= r.maxUses) return (r.lastUsedAt ?? r.createdAt).getTime() + TOMBSTONE_MS;
  return undefined;
}
