import { type FeedState, type Invalidation, type TokenStore, createTokenAccess, generateToken, invalidationKey, memoryInvalidation, memoryStore } from '@tokenaccess/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clock, countingStore } from './helpers';

// The verify cache on the memory store: what is served without a store call, what always goes
// to the store, and what drops an entry (in this process at once; in others through the feed).

const calls = (s: { calls: Record<string, number> }) => (s.calls.consume ?? 0) + (s.calls.findByHash ?? 0);

function setup(cache: Parameters<typeof createTokenAccess>[0]['cache'] = {}, extra: Partial<Parameters<typeof createTokenAccess>[0]> = {}) {
  const c = clock();
  const inner = memoryStore();
  const store = countingStore(inner);
  const tokens = createTokenAccess({ store, clock: c.now, cache, ...extra });
  return { c, inner, store, tokens };
}

/** A feed the test drives: records what is published, and says up or down when told. */
function manualFeed(): Invalidation & { published: string[][]; set(state: FeedState): void; deliver(keys: string[]): void; fail?: Error } {
  const subs = new Set<{ keys: (k: string[]) => void; state: (s: FeedState) => void }>();
  const feed = {
    published: [] as string[][],
    fail: undefined as Error | undefined,
    async publish(keys: string[]) {
      if (feed.fail) throw feed.fail;
      feed.published.push(keys);
    },
    subscribe(keys: (k: string[]) => void, state: (s: FeedState) => void) {
      const s = { keys, state };
      subs.add(s);
      return () => void subs.delete(s);
    },
    set: (state: FeedState) => subs.forEach((s) => s.state(state)),
    deliver: (keys: string[]) => subs.forEach((s) => s.keys(keys)),
  };
  return feed;
}

afterEach(() => vi.restoreAllMocks());

describe('served from the cache', () => {
  it('a cache hit asks the store nothing; the record handed out is a copy', async () => {
    const { store, tokens } = setup();
    const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:read'], metadata: { team: 'a' } });
    expect((await tokens.verify(token)).ok).toBe(true);
    const before = calls(store);
    expect(before).toBe(1);
    for (let i = 0; i < 100; i++) {
      const r = await tokens.verify(token, { scopes: ['users:read'] });
      if (!r.ok) throw new Error(r.error.code);
      r.token.scopes.push('admin');
      (r.token.metadata as { team: string }).team = 'changed';
    }
    expect(calls(store)).toBe(before);
    const r = await tokens.verify(token);
    expect(r.ok && r.token.scopes).toEqual(['users:read']);
    expect(r.ok && r.token.metadata).toEqual({ team: 'a' });
  });

  it('counted tokens (maxUses, refill) always go to the store, and count exactly', async () => {
    const { store, tokens } = setup();
    const { token } = await tokens.issue({ subject: 'u', name: 'n', maxUses: 10 });
    const results = await Promise.all(Array.from({ length: 30 }, () => tokens.verify(token)));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.error.code === 'exhausted')).toHaveLength(20);
    expect(store.calls.consume).toBe(30);
    const refilling = await tokens.issue({ subject: 'u', name: 'r', maxUses: 1000, refill: { every: '1h' } });
    for (let i = 0; i < 5; i++) expect((await tokens.verify(refilling.token)).ok).toBe(true);
    expect(store.calls.consume).toBe(35);
  });

  it('every rule applies to a cached record: scopes, URL binding, Bearer use of a URL token, expiry', async () => {
    const { c, store, tokens } = setup({ ttl: '1h' });
    const api = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:read'], expiresIn: '10m' });
    const link = await tokens.issueUrl({ url: 'https://example.com/files?id=7', maxUses: null });
    expect((await tokens.verify(api.token)).ok).toBe(true);
    expect((await tokens.verifyUrl(link.url)).ok).toBe(true);
    const n = calls(store);
    const denied = await tokens.verify(api.token, { scopes: ['users:write'] });
    expect(denied.ok || denied.error).toMatchObject({ code: 'insufficient_scope', status: 403 });
    expect(await tokens.verify(api.token, { scopes: ['users:write', 'users:read'], mode: 'any' })).toMatchObject({ ok: true });
    expect(await tokens.verifyUrl(link.url.replace('id=7', 'id=8'))).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
    expect(await tokens.verifyUrl(link.url, { method: 'POST' })).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
    expect(await tokens.verify(link.token)).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
    expect(await tokens.verifyUrl(`https://example.com/files?id=7&token=${api.token}`)).toMatchObject({ ok: false, error: { code: 'url_mismatch' } });
    expect(calls(store)).toBe(n);
    // expiry is checked on the cached record; the refusal comes from the store, which decides it
    c.advance(10 * 60_000);
    expect(await tokens.verify(api.token)).toMatchObject({ ok: false, error: { code: 'expired' } });
    expect(calls(store)).toBe(n + 1);
  });

  it('count: false peeks are served from the cache too, and never touch lastUsedAt', async () => {
    const { c, inner, store, tokens } = setup({ ttl: '1h' }, { lastUsedResolution: '1m' });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    expect((await tokens.verify(token, { count: false })).ok).toBe(true);
    expect(store.calls.findByHash).toBe(1);
    c.advance(5 * 60_000);
    for (let i = 0; i < 10; i++) expect((await tokens.verify(token, { count: false })).ok).toBe(true);
    expect(store.calls.findByHash).toBe(1);
    expect(store.calls.consume ?? 0).toBe(0);
    expect((await inner.findById(info.id))?.lastUsedAt).toBeUndefined();
  });

  it('lastUsedAt is refreshed off the hot path, at most once per lastUsedResolution', async () => {
    const { c, inner, store, tokens } = setup({ ttl: '1h' }, { lastUsedResolution: '1m' });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token); // the store's consume writes lastUsedAt
    const first = c.now();
    expect((await inner.findById(info.id))?.lastUsedAt?.getTime()).toBe(first);
    c.advance(30_000);
    for (let i = 0; i < 5; i++) await tokens.verify(token);
    expect(store.calls.consume).toBe(1);
    c.advance(31_000);
    const served = await Promise.all(Array.from({ length: 20 }, () => tokens.verify(token)));
    expect(served.every((r) => r.ok)).toBe(true);
    expect(store.calls.consume).toBe(2); // one write for 20 verifies
    await vi.waitFor(async () => expect((await inner.findById(info.id))?.lastUsedAt?.getTime()).toBe(first + 61_000));
  });

  it('a failing background touch is swallowed (no unhandled rejection) and the verify still answers', async () => {
    const c = clock();
    const inner = memoryStore();
    let fail = false;
    const store: TokenStore = { ...inner, consume: (...a) => (fail ? Promise.reject(new Error('down')) : inner.consume(...a)) };
    const tokens = createTokenAccess({ store, clock: c.now, cache: { ttl: '1h' }, lastUsedResolution: '1m' });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    fail = true;
    c.advance(120_000);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      expect((await tokens.verify(token)).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('an idle token is cached; an idle refusal is left to the store, which saw the uses of other processes', async () => {
    const { c, inner, store, tokens } = setup({ ttl: '1h' }, { lastUsedResolution: '10m' });
    const { token } = await tokens.issue({ subject: 'u', name: 'n', idleTimeout: '5m' });
    expect((await tokens.verify(token)).ok).toBe(true);
    // another process (no cache) uses it 4 minutes later
    c.advance(4 * 60_000);
    expect((await createTokenAccess({ store: inner, clock: c.now, lastUsedResolution: 0 }).verify(token)).ok).toBe(true);
    const n = calls(store);
    // 6 minutes after our last use: our cached copy says idle; the store says it was used 2 minutes ago
    c.advance(2 * 60_000);
    expect((await tokens.verify(token)).ok).toBe(true);
    expect(calls(store)).toBe(n + 1);
    // unused for 5 minutes anywhere: refused
    c.advance(5 * 60_000);
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'expired' } });
  });

  it('a disabled token is never served as ok, and is not cached', async () => {
    const { store, tokens } = setup();
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    await tokens.disable(info.id);
    const n = calls(store);
    for (let i = 0; i < 3; i++) expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
    expect(calls(store)).toBe(n + 3);
    await tokens.enable(info.id);
    expect((await tokens.verify(token)).ok).toBe(true);
  });
});

describe('dropped at once in this process', () => {
  it('revoke, revokeById, revokeByHash, revokeAll', async () => {
    const { tokens } = setup();
    const issue = () => tokens.issue({ subject: 'u', name: 'n' });
    const [a, b, c, d, e] = await Promise.all([issue(), issue(), issue(), issue(), tokens.issue({ subject: 'other', name: 'n' })]);
    for (const t of [a, b, c, d, e]) expect((await tokens.verify(t.token)).ok).toBe(true);
    await tokens.revoke(a.token);
    await tokens.revokeById(b.info.id);
    await tokens.revokeByHash(c.info.hash);
    for (const t of [a, b, c]) expect(await tokens.verify(t.token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await tokens.verify(d.token)).ok).toBe(true);
    await tokens.revokeAll('u');
    expect(await tokens.verify(d.token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await tokens.verify(e.token)).ok).toBe(true);
  });

  it('update, disable, rotate, and the cascades to derived tokens', async () => {
    const { tokens } = setup({ ttl: '1h' });
    const parent = await tokens.issue({ subject: 'u', name: 'p', scopes: ['users:*', 'files:read'] });
    const child = await tokens.derive(parent.info.id, { scopes: ['users:read', 'files:read'] });
    const grandchild = await tokens.derive(child.info.id, { scopes: ['files:read'] });
    for (const t of [parent, child, grandchild]) expect((await tokens.verify(t.token, { scopes: ['files:read'] })).ok).toBe(true);

    await tokens.update(parent.info.id, { scopes: ['users:*'] });
    for (const t of [parent, child, grandchild]) expect(await tokens.verify(t.token, { scopes: ['files:read'] })).toMatchObject({ ok: false, error: { code: 'insufficient_scope' } });
    expect((await tokens.verify(child.token, { scopes: ['users:read'] })).ok).toBe(true);

    await tokens.disable(parent.info.id);
    for (const t of [parent, child]) expect(await tokens.verify(t.token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
    await tokens.enable(parent.info.id);
    for (const t of [parent, child]) expect((await tokens.verify(t.token)).ok).toBe(true);

    const rotated = await tokens.rotate(parent.info.id);
    expect(await tokens.verify(parent.token)).toMatchObject({ ok: false, error: { code: 'expired' } });
    expect(await tokens.verify(child.token)).toMatchObject({ ok: false, error: { code: 'expired' } });
    expect((await tokens.verify(rotated.token)).ok).toBe(true);

    await tokens.revokeById(rotated.info.id);
    expect(await tokens.verify(rotated.token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('revoking a parent drops its cached children', async () => {
    const { tokens } = setup({ ttl: '1h' });
    const parent = await tokens.issue({ subject: 'u', name: 'p' });
    const child = await tokens.derive(parent.info.id, {});
    expect((await tokens.verify(child.token)).ok).toBe(true);
    await tokens.revokeById(parent.info.id);
    expect(await tokens.verify(child.token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a store read in flight during a revoke does not put the old record back', async () => {
    const inner = memoryStore();
    let hold: Promise<void> | undefined;
    const store: TokenStore = {
      ...inner,
      consume: async (...a) => {
        const r = await inner.consume(...a); // read before the revoke...
        if (hold) await hold; // ...answered after it
        return r;
      },
    };
    const tokens = createTokenAccess({ store, cache: { ttl: '1h' } });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const inFlight = tokens.verify(token);
    await new Promise((r) => setTimeout(r, 5));
    hold = undefined;
    await tokens.revokeById(info.id);
    release();
    expect((await inFlight).ok).toBe(true); // it was valid when read
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('negative cache', () => {
  it('a well-formed unknown token costs one store call per negativeTtl; malformed ones none', async () => {
    const { c, store, tokens } = setup({ negativeTtl: '5s' });
    const unknown = generateToken('tka');
    for (let i = 0; i < 50; i++) expect(await tokens.verify(unknown)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(calls(store)).toBe(1);
    c.advance(5000);
    expect(await tokens.verify(unknown)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(calls(store)).toBe(2);
    await tokens.verify('tka_notatoken');
    expect(calls(store)).toBe(2);
  });

  it('is bounded apart from the records: a flood of garbage does not push out a real token', async () => {
    const { store, tokens } = setup({ max: 10, negativeMax: 100 });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    const garbage = Array.from({ length: 300 }, () => generateToken('tka'));
    for (const g of garbage) await tokens.verify(g);
    const n = calls(store);
    expect((await tokens.verify(token)).ok).toBe(true);
    // the last 100 are remembered, the first ones forgotten
    for (const g of garbage.slice(-100)) await tokens.verify(g);
    expect(calls(store)).toBe(n);
    await tokens.verify(garbage[0]!);
    expect(calls(store)).toBe(n + 1);
  });

  it('issuing a token drops a stale "unknown" for its hash, here and in every process on the feed', async () => {
    const fixed = (buf: Uint8Array) => (buf.fill(7), buf);
    const next = () => {
      const spy = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(fixed as never);
      const t = generateToken('tka');
      spy.mockRestore();
      return t;
    };
    const raw = next();
    const feed = memoryInvalidation();
    const inner = memoryStore();
    const here = createTokenAccess({ store: inner, cache: { negativeTtl: '1h', invalidation: feed } });
    const there = createTokenAccess({ store: inner, cache: { negativeTtl: '1h', invalidation: feed } });
    expect(await here.verify(raw)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await there.verify(raw)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(fixed as never);
    const issued = await here.issue({ subject: 'u', name: 'n' });
    vi.restoreAllMocks();
    expect(issued.token).toBe(raw);
    expect((await here.verify(raw)).ok).toBe(true);
    expect((await there.verify(raw)).ok).toBe(true);
  });
});

describe('bounds', () => {
  it('an entry lives ttl: a change the feed never carried is seen once it expires', async () => {
    const { c, inner, store, tokens } = setup({ ttl: '30s' });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    // revoked by a process that publishes nothing
    await createTokenAccess({ store: inner }).revokeById(info.id);
    c.advance(29_999);
    expect((await tokens.verify(token)).ok).toBe(true);
    expect(calls(store)).toBe(1);
    c.advance(1);
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('max bounds the records, least recently used forgotten first', async () => {
    const { store, tokens } = setup({ max: 3 });
    const t = await Promise.all(Array.from({ length: 4 }, (_, i) => tokens.issue({ subject: 'u', name: `n${i}` })));
    for (const x of t.slice(0, 3)) await tokens.verify(x.token);
    await tokens.verify(t[0]!.token); // t0 is now the most recently used
    await tokens.verify(t[3]!.token); // forgets t1
    const n = calls(store);
    for (const i of [0, 2, 3]) await tokens.verify(t[i]!.token);
    expect(calls(store)).toBe(n);
    await tokens.verify(t[1]!.token);
    expect(calls(store)).toBe(n + 1);
  });

  it('max: 0 caches nothing but still publishes', async () => {
    const feed = manualFeed();
    const { store, tokens } = setup({ max: 0, negativeTtl: 0, invalidation: feed });
    feed.set('up');
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    for (let i = 0; i < 3; i++) await tokens.verify(token);
    for (let i = 0; i < 3; i++) await tokens.verify(generateToken('tka'));
    expect(calls(store)).toBe(6);
    await tokens.revokeById(info.id);
    expect(feed.published).toEqual([[info.hash], [info.hash]]);
  });
});

describe('the feed', () => {
  it('publishes the hashes every change touches (subject marker for revokeAll)', async () => {
    const feed = manualFeed();
    const { tokens } = setup({ invalidation: feed });
    const p = await tokens.issue({ subject: 'u', name: 'p' });
    const child = await tokens.derive(p.info.id, {});
    await tokens.update(p.info.id, { name: 'q' });
    await tokens.disable(p.info.id);
    await tokens.enable(p.info.id);
    const rotated = await tokens.rotate(p.info.id, { grace: '1m' });
    await tokens.revokeById(rotated.info.id);
    await tokens.revokeAll('u');
    const h = p.info.hash;
    const c = child.info.hash;
    const r = rotated.info.hash;
    expect(feed.published).toEqual([
      [h], // issue
      [c], // derive
      [h], // update (name: no cascade)
      [h], [c], // disable, cascade
      [h], [c], // enable, cascade
      [r], [h], [c], // rotate: the new token, the old one shortened, the child clamped
      [r], // revoke (no descendants: nothing more)
      [invalidationKey.subject('u')],
    ]);
  });

  it('a message from another process drops entries by hash, id and subject', async () => {
    const feed = manualFeed();
    const { store, tokens } = setup({ invalidation: feed, ttl: '1h' });
    feed.set('up');
    const t = await Promise.all(['a', 'b', 'c'].map((s) => tokens.issue({ subject: s, name: 'n' })));
    for (const x of t) await tokens.verify(x.token);
    const n = calls(store);
    feed.deliver([t[0]!.info.hash]);
    feed.deliver([invalidationKey.id(t[1]!.info.id)]);
    feed.deliver([invalidationKey.subject('c')]);
    for (const x of t) await tokens.verify(x.token);
    expect(calls(store)).toBe(n + 3);
  });

  it('while the feed is down (and before it is first up) entries live downTtl; when it comes back everything goes', async () => {
    const feed = manualFeed();
    const { c, store, tokens } = setup({ invalidation: feed, ttl: '1h', downTtl: '1s' }, { lastUsedResolution: '1h' });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    c.advance(1000);
    await tokens.verify(token);
    expect(calls(store)).toBe(2); // not up yet: 1 s
    feed.set('up');
    await tokens.verify(token);
    c.advance(10 * 60_000);
    await tokens.verify(token);
    expect(calls(store)).toBe(3); // up: 1 h
    feed.set('down');
    c.advance(999);
    await tokens.verify(token);
    expect(calls(store)).toBe(3); // the entry cut to 1 s from now...
    c.advance(1);
    await tokens.verify(token);
    expect(calls(store)).toBe(4); // ...and then gone
    feed.set('up');
    await tokens.verify(token);
    expect(calls(store)).toBe(5); // messages may have been lost while down: cleared
  });

  it('downTtl: 0 bypasses the cache while the feed is down', async () => {
    const feed = manualFeed();
    const { store, tokens } = setup({ invalidation: feed, downTtl: 0 });
    const { token } = await tokens.issue({ subject: 'u', name: 'n' });
    for (let i = 0; i < 3; i++) await tokens.verify(token);
    expect(calls(store)).toBe(3);
    feed.set('up');
    for (let i = 0; i < 3; i++) await tokens.verify(token);
    expect(calls(store)).toBe(4);
  });

  it('a feed that fails to publish is reported; the revoke itself succeeds and drops the entry here', async () => {
    const feed = manualFeed();
    const onHookError = vi.fn();
    const { tokens } = setup({ invalidation: feed }, { onHookError });
    feed.set('up');
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    await tokens.verify(token);
    feed.fail = new Error('feed gone');
    expect((await tokens.revokeById(info.id))?.id).toBe(info.id);
    expect(onHookError).toHaveBeenCalledWith(feed.fail, 'invalidation');
    expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('two services on one memory feed: a revoke in one is refused by the other at once', async () => {
    const feed = memoryInvalidation();
    const inner = memoryStore();
    const a = createTokenAccess({ store: inner, cache: { ttl: '1h', invalidation: feed } });
    const b = createTokenAccess({ store: inner, cache: { ttl: '1h', invalidation: feed } });
    const { token, info } = await a.issue({ subject: 'u', name: 'n' });
    expect((await b.verify(token)).ok).toBe(true);
    await a.revokeById(info.id);
    expect(await b.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('options are checked', () => {
    const store = memoryStore();
    expect(() => createTokenAccess({ store, cache: { ttl: -1 } })).toThrow(/cache.ttl/);
    expect(() => createTokenAccess({ store, cache: { max: 1.5 } })).toThrow(/cache.max/);
    expect(() => createTokenAccess({ store, cache: { invalidation: {} as Invalidation } })).toThrow(/cache.invalidation/);
    expect(() => createTokenAccess({ store, cache: null as never })).toThrow(/cache must be an object/);
  });
});

describe('the LRU', () => {
  it('matches a reference model under any sequence of get, set and delete', async () => {
    const fc = await import('fast-check');
    const { Lru } = await import('../src/lru');
    const op = fc.oneof(
      fc.record({ k: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ k: fc.constant('set' as const), key: fc.integer({ min: 0, max: 9 }), v: fc.integer() }),
      fc.record({ k: fc.constant('del' as const), key: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const evicted: string[] = [];
        const lru = new Lru<number>(max, (k) => evicted.push(k));
        // the model: an array, most recently used last
        let model: [string, number][] = [];
        const modelEvicted: string[] = [];
        for (const o of ops) {
          const key = String(o.key);
          const at = model.findIndex(([k]) => k === key);
          if (o.k === 'get') {
            expect(lru.get(key)).toBe(at === -1 ? undefined : model[at]![1]);
            if (at !== -1) model.push(model.splice(at, 1)[0]!);
          } else if (o.k === 'set') {
            lru.set(key, o.v);
            if (at !== -1) model.splice(at, 1);
            model.push([key, o.v]);
            while (model.length > max) modelEvicted.push(model.shift()![0]);
          } else {
            expect(lru.delete(key)).toBe(at === -1 ? undefined : model[at]![1]);
            if (at !== -1) model = model.filter(([k]) => k !== key);
          }
          expect(lru.size).toBe(model.length);
        }
        expect(evicted).toEqual(modelEvicted);
        expect(new Map(lru.entries())).toEqual(new Map(model));
      }),
    );
  });
});

it('with the cache on, a token of the right length with a bad checksum is still malformed (no store asked)', async () => {
  const { store, tokens } = setup();
  const good = generateToken('tka');
  const bad = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
  expect(await tokens.verify(bad)).toMatchObject({ ok: false, error: { code: 'malformed' } });
  expect(calls(store)).toBe(0);
});
