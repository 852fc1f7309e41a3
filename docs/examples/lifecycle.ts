// The lifecycle of a token, one operation per function, on the embedded store (every store
// behaves the same: the conformance suite pins it). docs/concepts/lifecycle.md quotes these.
import { createTokenAccess, memoryStore, type TokenAccess } from '@tokenaccess/core';

/** A service whose clock the example can move (in an app, leave `clock` out). */
export function service(start = Date.now()) {
  let now = start;
  const tokens = createTokenAccess({ store: memoryStore(), clock: () => now });
  return { tokens, advance: (ms: number) => void (now += ms) };
}

export async function update(tokens: TokenAccess) {
  const { token, info } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['repo:read'] });
  // rename, widen the scopes, add a limit and an expiry: the raw token stays the same
  const updated = await tokens.update(info.id, { name: 'CI (main)', scopes: ['repo:*'], maxUses: 1000, expiresIn: '90d' });
  // null clears a field
  await tokens.update(info.id, { expiresAt: null });
  const r = await tokens.verify(token, { scopes: ['repo:write'] });
  return { name: updated.name, ok: r.ok };
}

export async function disableEnable(tokens: TokenAccess) {
  const { token, info } = await tokens.issue({ subject: 'user-1', name: 'laptop' });
  await tokens.disable(info.id);
  const refused = await tokens.verify(token); // { ok: false, error: { code: 'disabled', status: 401 } }
  await tokens.enable(info.id);
  const again = await tokens.verify(token);
  return { refused: refused.ok ? 'ok' : refused.error.code, again: again.ok };
}

export async function rotate(tokens: TokenAccess, advance: (ms: number) => void) {
  const { token: oldToken, info } = await tokens.issue({ subject: 'user-1', name: 'deploy key', expiresIn: '90d' });
  // a new token with the same owner, name, scopes, metadata and limits; the old one works for an hour
  const { token: newToken, previous } = await tokens.rotate(info.id, { grace: '1h' });
  const during = [(await tokens.verify(oldToken)).ok, (await tokens.verify(newToken)).ok];
  advance(60 * 60 * 1000);
  const after = await tokens.verify(oldToken); // expired
  return { during, after: after.ok ? 'ok' : after.error.code, oldExpires: previous.expiresAt };
}

export async function refill(tokens: TokenAccess, advance: (ms: number) => void) {
  // 100 calls per day, renewed every 24 hours counted from creation
  const { token } = await tokens.issue({ subject: 'user-1', name: 'free tier', maxUses: 100, refill: { every: '1d' } });
  for (let i = 0; i < 100; i++) await tokens.verify(token);
  const spent = await tokens.verify(token); // exhausted until the next period
  advance(24 * 60 * 60 * 1000);
  const renewed = await tokens.verify(token);
  return { spent: spent.ok ? 'ok' : spent.error.code, renewed: renewed.ok };
}

export async function derive(tokens: TokenAccess) {
  const parent = await tokens.issue({ subject: 'user-1', name: 'org admin', scopes: ['repo:*', 'billing:read'], expiresIn: '30d' });
  // a child for a CI job: fewer scopes, a shorter life, a use limit
  const child = await tokens.derive(parent.info.id, { scopes: ['repo:read'], expiresIn: '1h', maxUses: 50, name: 'job 4411' });
  const widened = await tokens.derive(parent.info.id, { scopes: ['admin'] }).catch((e: { code: string }) => e.code); // 'invalid_argument'
  await tokens.revokeById(parent.info.id); // revokes the child too
  const after = await tokens.verify(child.token);
  return { parentId: child.info.parentId === parent.info.id, widened, after: after.ok ? 'ok' : after.error.code };
}

export async function expiringSoon(tokens: TokenAccess, now: number) {
  await tokens.issue({ subject: 'user-1', name: 'soon', expiresIn: '3d' });
  await tokens.issue({ subject: 'user-1', name: 'later', expiresIn: '60d' });
  // a daily cron job: warn the owners of tokens that expire within a week
  const week = new Date(now + 7 * 24 * 60 * 60 * 1000);
  const warned: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await tokens.list({ expiringBefore: week, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const t of page.items) warned.push(`${t.subject}: "${t.name}" expires ${t.expiresAt?.toISOString()}`);
    cursor = page.cursor;
  } while (cursor);
  return warned;
}
