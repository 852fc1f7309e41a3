import { TokenAccessError, createTokenAccess, memoryStore, type TokenInfo } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { brokenStore, clock, countingStore } from './helpers';

// The store-side lifecycle is pinned by @tokenaccess/test-suite on every store; these are the
// rules that live in core alone: validation, hooks, cascades, and what is never leaked.

describe('update', () => {
  it('refuses a patch that refill cannot hold, unknown fields, and both expiry forms', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { info } = await tokens.issue({ subject: 'u', name: 'n' });
    await expect(tokens.update(info.id, { refill: { every: '1h' } })).rejects.toThrow(/refill needs maxUses/);
    await expect(tokens.update(info.id, { refill: { every: '10ms' }, maxUses: 3 })).rejects.toThrow(/at least 1s/);
    await expect(tokens.update(info.id, { expiresIn: '1d', expiresAt: new Date(Date.now() + 1000) })).rejects.toThrow(/not both/);
    await expect(tokens.update(info.id, { expiresAt: new Date(Date.now() - 1000) })).rejects.toThrow(/in the past/);
    await expect(tokens.update(info.id, { kind: 'url' } as never)).rejects.toThrow(/unknown field/);
    await expect(tokens.update(info.id, null as never)).rejects.toMatchObject({ code: 'invalid_argument' });
    const refilling = await tokens.update(info.id, { maxUses: 3, refill: { every: '1h' } });
    expect(refilling.refill).toEqual({ every: 3_600_000 });
    await expect(tokens.update(info.id, { maxUses: null })).rejects.toThrow(/refill: null/);
    expect(await tokens.update(info.id, { maxUses: null, refill: null })).not.toHaveProperty('refill');
  });

  it('an empty patch answers the record; a store without update is refused clearly', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { info } = await tokens.issue({ subject: 'u', name: 'n' });
    expect(await tokens.update(info.id, {})).toEqual(info);
    const { update: _u, ...rest } = memoryStore();
    const plain = createTokenAccess({ store: rest });
    const { info: other } = await plain.issue({ subject: 'u', name: 'n' });
    await expect(plain.disable(other.id)).rejects.toThrow(/needs a store with update/);
  });

  it('a failing store is unavailable, not a crash', async () => {
    const tokens = createTokenAccess({ store: brokenStore() });
    await expect(tokens.update('x', { name: 'y' })).rejects.toMatchObject({ code: 'unavailable' });
    await expect(tokens.rotate('x')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it("narrowing a parent narrows its children's scopes and expiry; a child cannot be widened past it", async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const parent = await tokens.issue({ subject: 'u', name: 'p', scopes: ['a:*', 'b'] });
    const child = await tokens.derive(parent.info.id, { scopes: ['a:read', 'b'] });
    await tokens.update(parent.info.id, { scopes: ['a:*'], expiresIn: '1h' });
    expect(await tokens.get(child.info.id)).toMatchObject({ scopes: ['a:read'], expiresAt: new Date(c.now() + 3_600_000) });
    await expect(tokens.update(child.info.id, { scopes: ['c'] })).rejects.toThrow(/not covered/);
    expect((await tokens.update(child.info.id, { expiresIn: '30d' })).expiresAt).toEqual(new Date(c.now() + 3_600_000));
  });
});

describe('hooks', () => {
  it('onUpdated and onRotated carry records, never a raw token', async () => {
    const events: unknown[] = [];
    const tokens = createTokenAccess({
      store: memoryStore(),
      onUpdated: (t) => void events.push(['updated', t]),
      onRotated: (e) => void events.push(['rotated', e]),
    });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.update(info.id, { name: 'm' });
    await tokens.disable(info.id);
    await tokens.enable(info.id);
    const next = await tokens.rotate(info.id, { grace: '1m' });
    expect(events.map((e) => (e as [string])[0])).toEqual(['updated', 'updated', 'updated', 'rotated']);
    const rotated = (events[3] as [string, { info: TokenInfo; previous: TokenInfo }])[1];
    expect(rotated.info.id).toBe(next.info.id);
    expect(rotated.previous.id).toBe(info.id);
    const all = JSON.stringify(events);
    expect(all).not.toContain(token);
    expect(all).not.toContain(next.token);
  });
});

describe('disable and enable with derived tokens', () => {
  it('enable re-enables only the children its disable disabled', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const parent = await tokens.issue({ subject: 'u', name: 'p' });
    const own = await tokens.derive(parent.info.id);
    const cascaded = await tokens.derive(parent.info.id);
    await tokens.disable(own.info.id);
    c.advance(1000);
    await tokens.disable(parent.info.id);
    expect((await tokens.get(cascaded.info.id))?.disabledAt).toBeInstanceOf(Date);
    await tokens.enable(parent.info.id);
    expect(await tokens.get(cascaded.info.id)).not.toHaveProperty('disabledAt');
    expect((await tokens.get(own.info.id))?.disabledAt).toBeInstanceOf(Date);
  });

  it('a disabled, expired or URL parent cannot be derived from; nor a disabled token rotated', async () => {
    const c = clock();
    const tokens = createTokenAccess({ store: memoryStore(), clock: c.now });
    const parent = await tokens.issue({ subject: 'u', name: 'p', expiresIn: '1h' });
    await tokens.disable(parent.info.id);
    await expect(tokens.derive(parent.info.id)).rejects.toThrow(/disabled/);
    await expect(tokens.rotate(parent.info.id)).rejects.toThrow(/disabled/);
    await tokens.enable(parent.info.id);
    c.advance(3_600_000);
    await expect(tokens.derive(parent.info.id)).rejects.toThrow(/expired/);
    const share = await tokens.issueUrl({ url: '/f' });
    await expect(tokens.derive(share.info.id)).rejects.toThrow(/access token/);
    const missing = await tokens.derive('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TokenAccessError);
    expect(missing).toMatchObject({ code: 'not_found' });
  });
});

describe('a revoke cut off part-way', () => {
  it('repeating revokeById of the parent, already deleted, revokes the descendants it left (a derived token never outlives its revoked parent)', async () => {
    const inner = memoryStore();
    let failOn: string | undefined;
    // the store fails once on one grandchild, as a connection cut in the middle of the cascade would
    const store = {
      ...inner,
      deleteById: (id: string) => {
        if (id === failOn) {
          failOn = undefined;
          return Promise.reject(new Error('connection reset'));
        }
        return inner.deleteById(id);
      },
    };
    const revokedEvents: unknown[] = [];
    const tokens = createTokenAccess({ store, onRevoked: (e) => void revokedEvents.push(e) });
    const parent = await tokens.issue({ subject: 'u', name: 'parent' });
    const a = await tokens.derive(parent.info.id, { name: 'a' });
    const b = await tokens.derive(parent.info.id, { name: 'b' });
    const aa = await tokens.derive(a.info.id, { name: 'aa' });
    // deepest first: aa, then b, then a; cut at b
    failOn = b.info.id;
    await expect(tokens.revokeById(parent.info.id)).rejects.toMatchObject({ code: 'unavailable' });
    expect((await tokens.verify(parent.token)).ok).toBe(false);
    const alive = async () => (await Promise.all([a, b, aa].map(async (t) => ((await tokens.verify(t.token)).ok ? t.info.id : null)))).filter(Boolean);
    expect(await alive()).toEqual([a.info.id, b.info.id]); // left behind by the cut
    expect(await tokens.revokeById(parent.info.id)).toBeNull(); // the parent is gone
    expect(await alive()).toEqual([]);
    expect((revokedEvents.at(-1) as TokenInfo[]).map((t) => t.id).sort()).toEqual([a.info.id, b.info.id].sort());
    // an id that never had children costs one index read and reports nothing
    expect(await tokens.revokeById('01JD3V8Q4Z0000000000000000')).toBeNull();
    expect(revokedEvents).toHaveLength(1);
  });
});

describe('cost', () => {
  it('verifying an unlimited parentless token is one store call, as before; a revoke lists its children once', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    for (const k of Object.keys(store.calls)) delete store.calls[k];
    await tokens.verify(token);
    await tokens.verify(token);
    expect(store.calls).toEqual({ consume: 2 });
    await tokens.revokeById(info.id);
    expect(store.calls).toEqual({ consume: 2, deleteById: 1, list: 1 });
  });
});
