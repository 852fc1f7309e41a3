import { type ConsumePolicy, type ConsumeResult, evaluateConsume } from '../store';
import type { TokenInfo } from '../types';

const NOT_FOUND: ConsumeResult = Object.freeze({ ok: false, reason: 'not_found' }) as ConsumeResult;

/**
 * The read-first `consume`, written once for every store: judge the record a plain read
 * returned with core's rules, answer at once when nothing must be written (an unlimited token
 * whose `lastUsedAt` is fresh, or any refusal), and run the store's atomic step only when a use
 * must be counted or `lastUsedAt` touched. Exact, not optimistic: the read is an atomic
 * snapshot, and when it needs no write the atomic step would answer the same at that instant.
 * Pass the read through a deadline watcher's `then` so a late read never starts the atomic step.
 *
 * @example
 * ```ts
 * consume: (hash, now, policy) =>
 *   calls.then('consume', client.get(key(hash)), (v) => judgeRead(v === null ? null : decode(v), now.getTime(), policy, () => atomic(hash, now, policy))),
 * ```
 */
export function judgeRead(record: TokenInfo | null, now: number, policy: ConsumePolicy, atomic: () => Promise<ConsumeResult>): ConsumeResult | Promise<ConsumeResult> {
  if (record === null) return NOT_FOUND;
  const out = evaluateConsume(record, now, policy);
  if (!out.ok) return { ok: false, reason: out.reason, record };
  if (!out.write) return { ok: true, record };
  return atomic();
}
