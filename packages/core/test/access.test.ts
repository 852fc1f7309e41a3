import { TokenAccessError, can, cant, createTokenAccess, hasScopes, memoryStore, parseDuration, type RejectionEvent, type TokenInfo, type VerifyResult } from '@tokenaccess/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokenStore, clock, countingStore, hangingStore } from './helpers';

describe('issue', () => {
  it('returns the raw token once and stores only its hash, with the record of DESIGN.md', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store });
    const { token, info } = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read'], metadata: { ip: '10.0.0.1' } });
    expect(info).toMatchObject({ kind: 'access', subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read'], uses: 0, metadata: { ip: '10.0.0.1' } });
    expect(info.hint).toBe(token.slice(0, 8));
    expect(info).not.toHaveProperty('expiresAt');
    expect(info).not.toHaveProperty('maxUses');
    const stored = await tokens.get(info.id);
    expect(stored).toEqual(info);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(JSON.stringify(await tokens.list())).not.toContain(token);
  });

  it('defaults scopes to * (all) and dedupes scopes', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    expect((await tokens.issue({ subject: 'u', name: 'n' })).info.scopes).toEqual(['*']);
    expect((await tokens.issue({ subject: 'u', name: 'n', scopes: ['a', 'a', 'b'] })).info.scopes).toEqual(['a', 'b']);
    expect((await tokens.issue({ subject: 'u', name: 'n', scopes: [] })).info.scopes).toEqual([]);
  });

  it('applies expiry from expiresIn, expiresAt, and defaults', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now, defaults: { access: { expiresIn: '90d' } } });
    const a = await tokens.issue({ subject: 'u', name: 'n' });
    expect(a.info.expiresAt!.getTime()).toBe(c.now() + 90 * 86_400_000);
    const b = await tokens.issue({ subject: 'u', name: 'n', expiresIn: '12h' });
    expect(b.info.expiresAt!.getTime()).toBe(c.now() + 12 * 3_600_000);
    const never = await tokens.issue({ subject: 'u', name: 'n', expiresIn: null });
    expect(never.info).not.toHaveProperty('expiresAt');
    const at = new Date(c.now() + 5000);
    expect((await tokens.issue({ subject: 'u', name: 'n', expiresAt: at })).info.expiresAt).toEqual(at);
  });

  it.each([
    [{ subject: '', name: 'n' }, /subject/],
    [{ subject: 'u', name: '' }, /name/],
    [{ subject: 'u', name: 'n', scopes: ['has space'] }, /not a valid scope/],
    [{ subject: 'u', name: 'n', scopes: ['a*b'] }, /not a valid scope/],
    [{ subject: 'u', name: 'n', scopes: 'users:read' }, /array/],
    [{ subject: 'u', name: 'n', expiresIn: 'soon' }, /expiresIn/],
    [{ subject: 'u', name: 'n', expiresIn: -5 }, /expiresIn/],
    [{ subject: 'u', name: 'n', maxUses: 0 }, /maxUses/],
    [{ subject: 'u', name: 'n', maxUses: 1.5 }, /maxUses/],
    [{ subject: 'u', name: 'n', expiresAt: new Date(0) }, /past/],
    [{ subject: 'u', name: 'n', metadata: [] }, /metadata/],
    [{ subject: 'u', name: 'n', metadata: { big: 'x'.repeat(70_000) } }, /metadata/],
  ])('refuses bad input (%#) with a typed error', async (input, message) => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const err = await tokens.issue(input as never).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TokenAccessError);
    expect((err as TokenAccessError).code).toBe('invalid_argument');
    expect((err as Error).message).toMatch(/^\[tokenaccess\] /);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses bad options at construction', () => {
    const store = memoryStore();
    expect(() => createTokenAccess({} as never)).toThrow(/store/);
    expect(() => createTokenAccess({ store, prefix: 'Bad_' })).toThrow(/prefix/);
    expect(() => createTokenAccess({ store, urlParam: 'a b' })).toThrow(/urlParam/);
    expect(() => createTokenAccess({ store, lastUsedResolution: '1 minute' as never })).toThrow(/lastUsedResolution/);
  });

  it('uses a custom prefix', async () => {
    const tokens = createTokenAccess({ store: memoryStore(), prefix: 'acme' });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    expect(token).toMatch(/^acme_/);
    expect((await tokens.verify(token)).ok).toBe(true);
    const other = createTokenAccess({ store: memoryStore() });
    const r = await other.verify(token);
    expect(!r.ok && r.error.code).toBe('malformed');
  });
});

describe('verify', () => {
  it('checks scopes with all / any and wildcards', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:*', 'posts:read'] });
    expect((await tokens.verify(token, { scopes: ['users:read', 'posts:read'] })).ok).toBe(true);
    const r = await tokens.verify(token, { scopes: ['users:read', 'posts:write'] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: 'insufficient_scope', status: 403, scopes: ['users:read', 'posts:write'] });
    expect(!r.ok && r.error.wwwAuthenticate).toContain('scope="users:read posts:write"');
    expect((await tokens.verify(token, { scopes: ['admin', 'posts:read'], mode: 'any' })).ok).toBe(true);
  });

  it("names '*' in the challenge when '*' itself is required", async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['a'] });
    const r = await tokens.verify(token, { scopes: ['*'] });
    expect(!r.ok && r.error.scopes).toEqual(['*']);
    expect(!r.ok && r.error.wwwAuthenticate).toContain('scope="*"');
  });

  it('refuses an expired token, and an idle one counted from creation when never used', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const abs = await tokens.issue({ subject: 'u', name: 'n', expiresIn: '1h' });
    const idle = await tokens.issue({ subject: 'u', name: 'n', idleTimeout: '30m' });
    const used = await tokens.issue({ subject: 'u', name: 'n', idleTimeout: '30m' });
    c.advance(20 * 60_000);
    expect((await tokens.verify(used.token)).ok).toBe(true);
    c.advance(20 * 60_000); // 40 min since creation, 20 since the use
    const i = await tokens.verify(idle.token);
    expect(!i.ok && i.error.code).toBe('expired');
    expect((await tokens.verify(used.token)).ok).toBe(true);
    c.advance(30 * 60_000);
    const a = await tokens.verify(abs.token);
    expect(!a.ok && a.error).toMatchObject({ code: 'expired', status: 401, error: 'invalid_token' });
  });

  it('applies the default idle timeout to access tokens', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now, idleTimeout: '1h' });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    expect(info.idleTimeout).toBe(3_600_000);
    c.advance(3_600_001);
    expect((await tokens.verify(token)).ok).toBe(false);
  });

  it('counts uses of a limited token and refuses past the limit', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', maxUses: 2 });
    expect((await tokens.verify(token)).ok).toBe(true);
    const second = await tokens.verify(token);
    expect(second.ok && second.token.uses).toBe(2);
    const third = await tokens.verify(token);
    expect(!third.ok && third.error.code).toBe('exhausted');
  });

  it('writes lastUsedAt at most once per resolution', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now, lastUsedResolution: '1m' });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    const first = c.now();
    await tokens.verify(token);
    for (let i = 0; i < 59; i++) {
      c.advance(1000);
      await tokens.verify(token);
    }
    expect((await tokens.get(info.id))!.lastUsedAt!.getTime()).toBe(first); // 59 verifies, no write
    for (let i = 0; i < 11; i++) {
      c.advance(1000);
      await tokens.verify(token);
    }
    expect((await tokens.get(info.id))!.lastUsedAt!.getTime()).toBe(first + 60_000); // written once, at the minute
  });

  it('makes exactly one store call per verification', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    for (let i = 0; i < 10; i++) await tokens.verify(token);
    expect(store.calls).toEqual({ insert: 1, consume: 10 });
    await tokens.verify('tka_garbage');
    expect(store.calls.consume).toBe(10);
  });

  it('answers not_found for a revoked token', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.revoke(token);
    const r = await tokens.verify(token);
    expect(!r.ok && r.error).toMatchObject({ code: 'not_found', status: 401, error: 'invalid_token', message: 'The access token is invalid.' });
  });

  it('refuses a bad mode or required scope as a programming error, before any store call', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['a'] });
    await expect(tokens.verify(token, { scopes: ['a'], mode: 'toString' as never })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(tokens.verify(token, { scopes: ['a b'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(tokens.verify(token, { scopes: ['a\u0000b'] })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await tokens.verify(token, { scopes: ['a', 'b'], mode: 'any' })).ok).toBe(true);
    expect(store.calls.consume).toBe(1);
  });

  it('answers missing for an empty token', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const r = await tokens.verify('');
    expect(!r.ok && r.error).toMatchObject({ code: 'missing', status: 401 });
  });
});

describe('fail closed', () => {
  let unhandled: unknown[];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('a failing store gives unavailable (503), tells onRejected why, and leaks nothing', async () => {
    const events: RejectionEvent[] = [];
    const ok = createTokenAccess({ store: memoryStore() });
    const { token } = await ok.issue({ subject: 'u', name: 'n' });
    const tokens = createTokenAccess({ store: brokenStore(), onRejected: (e) => void events.push(e) });
    const r = await tokens.verify(token);
    expect(!r.ok && r.error).toEqual({ code: 'unavailable', status: 503, error: 'temporarily_unavailable', message: 'Authentication is temporarily unavailable.' });
    expect(JSON.stringify(r)).not.toMatch(/ECONNREFUSED|6379/);
    expect(events[0]).toMatchObject({ code: 'unavailable', reason: expect.stringContaining('ECONNREFUSED') });
    const a = await tokens.authenticate(new Request('https://x.test/', { headers: { authorization: `Bearer ${token}` } }));
    expect(!a.ok && a.error.status).toBe(503);
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  it('a hanging store gives unavailable at the default deadline of 2 s (on a fake clock), with no unhandled rejection', async () => {
    const { token } = await createTokenAccess({ store: memoryStore() }).issue({ subject: 'u', name: 'n' });
    // let the deadline watcher of earlier tests' calls drain and stop its real interval
    await new Promise((r) => setTimeout(r, 300));
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    try {
      const tokens = createTokenAccess({ store: hangingStore() });
      let result: VerifyResult | undefined;
      void tokens.verify(token).then((r) => (result = r));
      await vi.advanceTimersByTimeAsync(1900);
      expect(result).toBeUndefined();
      await vi.advanceTimersByTimeAsync(200);
      expect(result && !result.ok && result.error.code).toBe('unavailable');
    } finally {
      vi.useRealTimers();
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  it('still guards a store whose own call timeout is longer than core timeout', async () => {
    const tokens = createTokenAccess({ store: { ...hangingStore(), callTimeout: 60_000 }, timeout: 200 });
    const { token } = await createTokenAccess({ store: memoryStore() }).issue({ subject: 'u', name: 'n' });
    const r = await tokens.verify(token);
    expect(!r.ok && r.error.code).toBe('unavailable');
  });

  it('administrative calls throw TokenAccessError unavailable with the cause', async () => {
    const tokens = createTokenAccess({ store: brokenStore() });
    const err = await tokens.issue({ subject: 'u', name: 'n' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TokenAccessError);
    expect((err as TokenAccessError).code).toBe('unavailable');
    expect((err as TokenAccessError).cause).toBeInstanceOf(Error);
    await expect(tokens.list()).rejects.toMatchObject({ code: 'unavailable' });
    await expect(tokens.revokeAll('u')).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('hooks', () => {
  it('never receive the raw token, and onRejected gets the precise reason', async () => {
    const seen: unknown[] = [];
    const c = clock();
    const tokens = createTokenAccess({
      store: memoryStore(),
      clock: c.now,
      onIssued: (t) => void seen.push(t),
      onVerified: (t) => void seen.push(t),
      onRejected: (e) => void seen.push(e),
      onRevoked: (t) => void seen.push(t),
    });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['a'], expiresIn: '1h' });
    await tokens.verify(token);
    await tokens.verify(token, { scopes: ['x'] });
    c.advance(3_600_000);
    await tokens.verify(token);
    await tokens.verify('tka_nope');
    await tokens.revokeById(info.id);
    expect(JSON.stringify(seen)).not.toContain(token);
    const rejected = seen.filter((e): e is RejectionEvent => typeof e === 'object' && e !== null && 'reason' in e);
    expect(rejected.map((e) => e.code)).toEqual(['insufficient_scope', 'expired', 'malformed']);
    expect(rejected[1]).toMatchObject({ tokenId: info.id, subject: 'u', hint: info.hint, reason: expect.stringMatching(/^expired at \d{4}-/) });
    expect(rejected[0]!.reason).toBe('required all of [x], token holds [a]');
    expect((seen.at(-1) as TokenInfo[])[0]!.id).toBe(info.id);
  });

  it('a throwing hook does not break verification', async () => {
    const onHookError = vi.fn();
    const tokens = createTokenAccess({
      store: memoryStore(),
      onVerified: () => {
        throw new Error('logger down');
      },
      onRejected: async () => {
        throw new Error('async logger down');
      },
      onHookError,
    });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    expect((await tokens.verify(token)).ok).toBe(true);
    expect((await tokens.verify('tka_x')).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(onHookError.mock.calls.map((c) => c[1])).toEqual(['onVerified', 'onRejected']);
  });
});

describe('list, get, revoke, sweep', () => {
  it('lists by subject and kind in creation order with a cursor', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await tokens.issue({ subject: 'u', name: `t${i}` })).info.id);
    await tokens.issue({ subject: 'other', name: 'x' });
    const share = await tokens.issueUrl({ url: '/p', subject: 'u' });
    const p1 = await tokens.list({ subject: 'u', kind: 'access', limit: 3 });
    const p2 = await tokens.list({ subject: 'u', kind: 'access', limit: 3, cursor: p1.cursor! });
    expect([...p1.items, ...p2.items].map((t) => t.id)).toEqual(made);
    expect(p2.cursor).toBeUndefined();
    expect((await tokens.list({ kind: 'url' })).items.map((t) => t.id)).toEqual([share.info.id]);
    expect(() => tokens.list({ limit: 0 })).toThrow(/limit/);
  });

  it('inspects a raw token without spending a use or calling hooks, under any pepper key', async () => {
    const store = memoryStore();
    const k1 = 'first-secret-0123456789abcdef';
    const old = await createTokenAccess({ store, pepper: { current: 'k1', keys: { k1 } } }).issueUrl({ url: '/once' });
    const verified: unknown[] = [];
    const tokens = createTokenAccess({ store, pepper: { current: 'k2', keys: { k1, k2: 'second-secret-0123456789abcdef' } }, onVerified: (t) => void verified.push(t) });
    expect((await tokens.inspect(old.token))?.id).toBe(old.info.id);
    expect((await tokens.inspect(old.token))?.uses).toBe(0);
    expect(verified).toEqual([]);
    await expect(tokens.inspect('tka_nope')).rejects.toThrow(/well-formed/);
    expect((await tokens.verifyUrl(old.url)).ok).toBe(true);
  });

  it('revokes by token, id, hash, and all of a subject', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map((i) => tokens.issue({ subject: i < 4 ? 'u' : 'v', name: `t${i}` })));
    expect((await tokens.revoke(a!.token))?.id).toBe(a!.info.id);
    expect(await tokens.revoke(a!.token)).toBeNull();
    expect((await tokens.revokeById(b!.info.id))?.id).toBe(b!.info.id);
    expect((await tokens.revokeByHash(c!.info.hash))?.id).toBe(c!.info.id);
    expect(await tokens.revokeAll('v')).toBe(1);
    for (const t of [a, b, c, d]) expect((await tokens.verify(t!.token)).ok).toBe(false);
    await expect(tokens.revoke('not-a-token')).rejects.toThrow(/well-formed/);
  });

  it('sweeps expired and used-up tokens', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const live = await tokens.issue({ subject: 'u', name: 'live' });
    await tokens.issue({ subject: 'u', name: 'old', expiresIn: '1h' });
    const once = await tokens.issueUrl({ url: '/once' });
    await tokens.verifyUrl(once.url);
    c.advance(2 * 3_600_000);
    const progress: number[] = [];
    expect(await tokens.sweep({ onProgress: (n) => progress.push(n) })).toBe(2);
    expect(progress.at(-1)).toBe(2);
    expect((await tokens.list()).items.map((t) => t.id)).toEqual([live.info.id]);
  });
});

describe('scopes', () => {
  it('can / cant / hasScopes follow DESIGN.md', () => {
    expect(can({ scopes: ['*'] }, 'anything')).toBe(true);
    expect(can({ scopes: ['users:*'] }, 'users:read')).toBe(true);
    expect(can({ scopes: ['users:*'] }, 'users')).toBe(false);
    expect(can({ scopes: ['users.read'] }, 'users:read')).toBe(false);
    expect(can({ scopes: [] }, 'a')).toBe(false);
    expect(cant(['a'], 'b')).toBe(true);
    expect(hasScopes(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(hasScopes(['a'], ['a', 'b'])).toBe(false);
    expect(hasScopes(['a'], ['a', 'b'], 'any')).toBe(true);
    expect(hasScopes([], [])).toBe(true);
  });
});

describe('parseDuration', () => {
  it('parses numbers and unit strings and refuses the rest', () => {
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration(1000)).toBe(1000);
    for (const bad of ['', '10', '10y', '-1d', 'abc', Number.NaN, Infinity, 0, -1]) expect(() => parseDuration(bad as never)).toThrow(TokenAccessError);
  });
});
