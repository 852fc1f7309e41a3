import { type ConsumePolicy, type ConsumeResult, type TokenInfo, type TokenStore, judgeRead, livenessOf, rateCountAt, usesAt } from '@tokenaccess/core/store';
import type { Row, Runner } from './client';
import type { FreshHints } from './hints';
import { hasNul, toInfo } from './row';
import type { Statements } from './sql';

const NOT_FOUND: ConsumeResult = Object.freeze({ ok: false, reason: 'not_found' }) as ConsumeResult;

/** The consume statement for a policy, and its parameters (see `Statements.consume`). */
function consumeQuery(sql: Statements, hash: string, at: number, policy: ConsumePolicy): [string, unknown[]] {
  const values: unknown[] = [hash, at, at - policy.lastUsedResolution];
  const url = policy.url;
  if (url) {
    // A NUL can be in no stored binding (text cannot hold it), so such a request matches
    // nothing; a NULL canonical fails the binding check without sending the NUL to the server.
    const unmatchable = hasNul(url.canonical) || hasNul(url.method) || hasNul(url.origin);
    values.push(unmatchable ? null : url.canonical, unmatchable ? null : url.method, unmatchable ? null : (url.origin ?? null));
  }
  const lists = policy.scopes?.anyOf.map((l) => l.filter((s) => !hasNul(s))) ?? [];
  values.push(...lists);
  return [sql.consume({ scopeLists: lists.length, mode: policy.scopes?.mode ?? 'all', url: url !== undefined }), values];
}

/** Whether a token is counted on every verification: by uses (`maxUses`) or by rate (`rateLimit`). */
const counted = (r: TokenInfo) => r.maxUses !== undefined || r.rateLimit !== undefined;

/**
 * Which budget others used up when a counted token's statement lost two races (the row read is
 * older than the row its UPDATE was checked on): the one with fewer verifications left in the
 * row read, since concurrent successes spend both alike.
 */
function spent(r: TokenInfo, at: number): 'exhausted' | 'rate_limited' {
  if (r.rateLimit === undefined) return 'exhausted';
  if (r.maxUses === undefined) return 'rate_limited';
  const t = livenessOf(r);
  return r.maxUses - usesAt(t, at) <= r.rateLimit.limit - rateCountAt(t, at) ? 'exhausted' : 'rate_limited';
}

/**
 * The store's `consume`: the atomic statement, or, while the hints say an unlimited token's
 * `lastUsedAt` is fresh, a plain read judged by core's `judgeRead` (the statement runs after
 * all when the row read needs a write). Written as promise chains: each async/await hop is a
 * microtask, and at high concurrency they cost measurable throughput.
 */
export function consumer(db: Runner, sql: Statements, hints: FreshHints): TokenStore['consume'] {
  const atomic = (hash: string, at: number, policy: ConsumePolicy, retry: boolean): Promise<ConsumeResult> => {
    const [text, values] = consumeQuery(sql, hash, at, policy);
    return db.then('consume', text, values, (rows) => outcome(rows, hash, at, policy, retry));
  };

  // Remembers an unlimited token's lastUsedAt, so its next verifications may take the fast path
  // (a counted token, by uses or by rate, always needs the statement).
  const remember = (hash: string, out: ConsumeResult | Promise<ConsumeResult>) => {
    const record = (out as ConsumeResult).ok ? (out as { record: TokenInfo }).record : undefined;
    if (record && !counted(record) && record.lastUsedAt) hints.set(hash, record.lastUsedAt.getTime());
    return out;
  };

  // The statement's one row: the row as written, or, when nothing was written, the row as it
  // was, judged with core's rules.
  const outcome = (rows: Row[], hash: string, at: number, policy: ConsumePolicy, retry: boolean): ConsumeResult | Promise<ConsumeResult> => {
    const record = rows[0] ? toInfo(rows[0]) : null;
    if (rows[0]?.written) return remember(hash, { ok: true, record: record! });
    return remember(
      hash,
      judgeRead(record, at, policy, () => {
        // The row read needed a write, but when the UPDATE locked the newest version its WHERE
        // failed: a concurrent consume or update changed the row. An unlimited token's use
        // stays valid as of the read (the other change came after it); a counted one must be
        // counted, so the statement runs once more on the newest row, and after a second race
        // the last use (or the last verification of the window) was taken by others.
        if (!counted(record!)) return Promise.resolve({ ok: true, record: record! });
        return retry ? atomic(hash, at, policy, false) : Promise.resolve({ ok: false, reason: spent(record!, at), record: record! });
      }),
    );
  };

  return (hash, now, policy) => {
    if (hasNul(hash)) return Promise.resolve(NOT_FOUND);
    const at = now.getTime();
    const seen = hints.get(hash);
    if (seen === undefined || at - seen >= policy.lastUsedResolution) return atomic(hash, at, policy, true);
    // The fast path: nothing should need writing, so one plain read, judged by core's rules.
    return db.then('consume', sql.findByHash, [hash], (rows) => {
      if (!rows[0]) hints.delete(hash);
      return judgeRead(rows[0] ? toInfo(rows[0]) : null, at, policy, () => {
        hints.delete(hash); // the row changed under the hint (an update set a limit): do it atomically
        return atomic(hash, at, policy, true);
      });
    });
  };
}
