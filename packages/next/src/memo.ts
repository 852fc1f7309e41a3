import { type TokenAccess, type TokenInfo, type VerifyResult, hasScopes, validateScopes, verifyError } from '@tokenaccess/core';
import { cache } from 'react';
import type { ServerTokenOptions } from './server';

/** One token source of one request: the verifications run one after another, and the first success is kept. */
interface Slot {
  /** The last queued verification (settled or not): the next one waits for it. */
  tail: Promise<unknown>;
  /** What this request's token verified as: a success, or a refusal that no scope change can turn (not `insufficient_scope`). */
  settled?: VerifyResult;
}

/**
 * The per-request store. React's `cache()` gives one Map per server request while a Server
 * Component tree renders (a layout and its page, `generateMetadata`, nested components), and a
 * fresh Map on every call outside a render (route handlers, Server Actions, tests), where nothing
 * is memoized and every call verifies.
 */
const perRequest = cache((): Map<TokenAccess, Map<unknown, Slot>> => new Map());

/** Where the token comes from: `getToken` (by identity) or the header and cookie names. */
function sourceKey(check: Omit<ServerTokenOptions, 'tokens'>): unknown {
  if (check.getToken) return check.getToken;
  const cookie = (check as { cookie?: string }).cookie;
  return `${(check.header ?? 'authorization').toLowerCase()}\u0000${cookie ?? ''}`;
}

/**
 * @internal Verifies the current request's token once per request and token source: the first
 * call spends the use (for a token with `maxUses`); later calls in the same render get the same
 * token, with their own scopes checked on it (nothing more to spend). Calls are serialised, so a
 * layout and a page rendering in parallel never both reach the store first. A refusal for a
 * missing scope spent nothing and is not kept: a later call with other scopes verifies again.
 */
export function verifyOnce(
  tokens: TokenAccess,
  check: Omit<ServerTokenOptions, 'tokens'>,
  verify: () => Promise<VerifyResult>,
): Promise<VerifyResult> {
  // a non-spending check (`count: false`) has nothing to share: it always asks the store
  if ((check as { count?: boolean }).count === false) return verify();
  const requests = perRequest();
  let sources = requests.get(tokens);
  if (!sources) requests.set(tokens, (sources = new Map()));
  const key = sourceKey(check);
  let slot = sources.get(key);
  if (!slot) sources.set(key, (slot = { tail: Promise.resolve() }));
  const s = slot;
  const run = s.tail.then(async (): Promise<VerifyResult> => {
    if (s.settled) return s.settled.ok ? scoped(tokens, s.settled.token, check) : s.settled;
    const result = await verify();
    if (result.ok || result.error.code !== 'insufficient_scope') s.settled = result;
    return result;
  });
  s.tail = run.catch(() => undefined);
  return run;
}

/** The kept token under this call's scope requirement (checked here: the use is already counted). */
function scoped(tokens: TokenAccess, token: TokenInfo, check: Omit<ServerTokenOptions, 'tokens'>): VerifyResult {
  if (!check.scopes || check.scopes.length === 0) return { ok: true, token };
  const required = validateScopes(check.scopes, '[tokenaccess] [next] scopes');
  if (hasScopes(token, required, check.mode ?? 'all')) return { ok: true, token };
  return { ok: false, error: verifyError('insufficient_scope', { realm: tokens.realm, scopes: required }) };
}
