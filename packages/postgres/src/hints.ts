/**
 * Which statement to send first, remembered per token hash: the `lastUsedAt` (epoch ms) last
 * seen for an **unlimited** token. While `now - lastUsedAt < lastUsedResolution`, verifying that
 * token should need no write (lastUsedAt only ever grows), so the store sends a plain `SELECT`
 * instead of the UPDATE statement.
 *
 * It is a hint, never an answer: the row is read on every call and judged by core's
 * `judgeRead`, so a revoked, expired or changed token is refused exactly as by the atomic
 * statement, and if the row read does need a write (an `update` elsewhere set a use limit), the
 * store falls back to that statement. Bounded (least recently set first out), per store instance.
 */
export interface FreshHints {
  get(hash: string): number | undefined;
  set(hash: string, lastUsedAt: number): void;
  delete(hash: string): void;
}

export function freshHints(size: number): FreshHints {
  const map = new Map<string, number>();
  if (size <= 0) return { get: () => undefined, set: () => {}, delete: () => {} };
  return {
    get: (hash) => map.get(hash),
    set(hash, lastUsedAt) {
      if (map.get(hash) === lastUsedAt) return;
      map.delete(hash);
      map.set(hash, lastUsedAt);
      if (map.size > size) map.delete(map.keys().next().value!);
    },
    delete: (hash) => void map.delete(hash),
  };
}
