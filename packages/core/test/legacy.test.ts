import { createHash, randomBytes } from 'node:crypto';
import { type LegacyFormat, type RejectionEvent, type TokenInfo, type TokenStore, createTokenAccess, generateToken, legacyFormats, memoryStore, newId } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { createTokenAccess as createPortable } from '../src/index';
import { clock, countingStore } from './helpers';

// Records as an importer writes them: the source system's own hash, id, owner, scopes, expiry.
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const random40 = () => randomBytes(30).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 40);

function legacyRecord(hash: string, o: Partial<TokenInfo> = {}): TokenInfo {
  return { id: newId(Date.now()), kind: 'access', subject: '42', name: 'imported', scopes: ['*'], uses: 0, createdAt: new Date(), hint: 'legacy', hash, ...o };
}

/** A Sanctum row: `token` is SHA-256 of the plaintext; the user holds `<id>|<plaintext>`. */
async function sanctumToken(store: TokenStore, o: Partial<TokenInfo> = {}) {
  const plaintext = random40();
  const info = legacyRecord(sha256(plaintext), { hint: 'sanctum:7', ...o });
  await store.insert(info);
  return { raw: `7|${plaintext}`, plaintext, info };
}

/** A Shield row: `auth_identities.secret` is SHA-256 of the 64-hex raw token. */
async function shieldToken(store: TokenStore, o: Partial<TokenInfo> = {}) {
  const raw = randomBytes(32).toString('hex');
  const info = legacyRecord(sha256(raw), o);
  await store.insert(info);
  return { raw, info };
}

describe('legacy formats verify, inspect, list, revoke and expire like our own tokens', () => {
  it('sanctum: scopes, inspect, list, revoke(raw)', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.sanctum] });
    const { raw, info } = await sanctumToken(store, { scopes: ['orders:read'] });

    const ok = await tokens.verify(raw, { scopes: ['orders:read'] });
    expect(ok.ok && ok.token.id).toBe(info.id);
    const denied = await tokens.verify(raw, { scopes: ['orders:write'] });
    expect(!denied.ok && denied.error.code).toBe('insufficient_scope');
    // the id part is not compared: the plaintext alone carries the entropy (as in Sanctum's own lookup by hash)
    expect((await tokens.verify(`8${raw.slice(1)}`)).ok).toBe(true);
    expect((await tokens.inspect(raw))?.id).toBe(info.id);
    expect((await tokens.list({ subject: '42' })).items.map((t) => t.id)).toEqual([info.id]);
    expect((await tokens.revoke(raw))?.id).toBe(info.id);
    const gone = await tokens.verify(raw);
    expect(!gone.ok && gone.error.code).toBe('not_found');
    expect(await tokens.inspect(raw)).toBeNull();
  });

  it('shield: 64 lower-case hex; verify, inspect, revoke', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.shield] });
    const { raw, info } = await shieldToken(store);
    expect((await tokens.verify(raw)).ok).toBe(true);
    expect((await tokens.inspect(raw))?.id).toBe(info.id);
    // Shield issues lower-case hex (bin2hex): an upper-cased copy is no Shield token
    const upper = await tokens.verify(raw.toUpperCase());
    expect(!upper.ok && upper.error.code).toBe('malformed');
    expect((await tokens.revoke(raw))?.id).toBe(info.id);
    expect((await tokens.verify(raw)).ok).toBe(false);
  });

  it('sha256: an imported Tiki token is a URL token bound to its URL, counted and used up', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store, urlParam: 'TOKEN', legacy: [legacyFormats.sha256] });
    const raw = randomBytes(16).toString('hex');
    const bound = await tokens.issueUrl({ url: '/tiki-index.php?page=Home', maxUses: 2 });
    // the binding exactly as issueUrl canonicalises it, under the legacy hash
    const info = legacyRecord(sha256(raw), { kind: 'url', url: bound.info.url, maxUses: 2, scopes: [], subject: undefined });
    await store.insert(info);
    const url = `https://wiki.example/tiki-index.php?page=Home&TOKEN=${raw}`;
    expect((await tokens.verifyUrl(url)).ok).toBe(true);
    const other = await tokens.verifyUrl(`https://wiki.example/tiki-index.php?page=Other&TOKEN=${raw}`);
    expect(!other.ok && other.error.code).toBe('url_mismatch');
    // a bound token is not a Bearer token
    const bearer = await tokens.verify(raw);
    expect(!bearer.ok && bearer.error.code).toBe('url_mismatch');
    expect((await tokens.verifyUrl(url)).ok).toBe(true);
    const third = await tokens.verifyUrl(url);
    expect(!third.ok && third.error.code).toBe('exhausted');
    expect((await tokens.get(info.id))?.uses).toBe(2);
  });

  it('expiry and idle timeout apply; sweep removes an expired legacy record', async () => {
    const c = clock();
    const store = memoryStore();
    const tokens = createTokenAccess({ store, clock: c.now, legacy: [legacyFormats.sanctum, legacyFormats.shield] });
    const { raw: a } = await sanctumToken(store, { createdAt: new Date(c.now()), expiresAt: new Date(c.now() + 60_000) });
    const { raw: b } = await shieldToken(store, { createdAt: new Date(c.now()), idleTimeout: 30_000 });
    expect((await tokens.verify(a)).ok && (await tokens.verify(b)).ok).toBe(true);
    c.advance(45_000);
    expect((await tokens.verify(a)).ok).toBe(true);
    const idle = await tokens.verify(b);
    expect(!idle.ok && idle.error.code).toBe('expired');
    c.advance(30_000);
    const late = await tokens.verify(a);
    expect(!late.ok && late.error.code).toBe('expired');
    expect(await tokens.sweep()).toBe(2);
  });

  it('retired with rotate(id): the holder gets a token of our format, the legacy one stops', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.sanctum] });
    const { raw, info } = await sanctumToken(store, { scopes: ['orders:read'], name: 'CLI' });
    const next = await tokens.rotate(info.id);
    expect(next.info).toMatchObject({ subject: '42', name: 'CLI', scopes: ['orders:read'] });
    expect((await tokens.verify(next.token, { scopes: ['orders:read'] })).ok).toBe(true);
    const old = await tokens.verify(raw);
    expect(!old.ok && old.error.code).toBe('expired');
  });
});

describe('cost: garbage never reaches the store, each candidate is one round trip', () => {
  it('input no format takes is malformed with no store call (verify, inspect, revoke)', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.sanctum, legacyFormats.shield] });
    for (const garbage of ['nope', 'x|abc', '7|', '7|has space', 'g'.repeat(64), 'A'.repeat(64), 'a'.repeat(63), `7|${'a'.repeat(256)}`, '\u0000'.repeat(10)]) {
      const r = await tokens.verify(garbage);
      expect(!r.ok && r.error.code, garbage).toBe('malformed');
      await expect(tokens.inspect(garbage)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(tokens.revoke(garbage)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    expect(store.calls).toEqual({});
  });

  it('the catch-all sha256 format is still bounded: over 512 characters, or not visible ASCII, asks nothing', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.sha256] });
    for (const garbage of ['x'.repeat(513), 'héllo', 'two words', 'tab\there']) {
      const r = await tokens.verify(garbage);
      expect(!r.ok && r.error.code).toBe('malformed');
    }
    expect(store.calls).toEqual({});
    const unknown = await tokens.verify('x'.repeat(512));
    expect(!unknown.ok && unknown.error.code).toBe('not_found');
    expect(store.calls).toEqual({ consume: 1 });
  });

  it('a well-formed token of ours is never tried as a legacy one; no legacy option changes nothing', async () => {
    const store = countingStore();
    const tokens = createTokenAccess({ store, legacy: [legacyFormats.sha256] });
    const r = await tokens.verify(generateToken('tka'));
    expect(!r.ok && r.error.code).toBe('not_found');
    expect(store.calls).toEqual({ consume: 1 });
    const plain = countingStore();
    for (const legacy of [undefined, []]) {
      const none = createTokenAccess({ store: plain, legacy });
      const m = await none.verify('7|abcdef');
      expect(!m.ok && m.error.code).toBe('malformed');
    }
    expect(plain.calls).toEqual({});
  });

  it('formats are tried in order, one consume each; the same hash is asked once', async () => {
    const store = countingStore();
    const seen: string[] = [];
    const spy: TokenStore = { ...store, consume: (hash, now, policy) => (seen.push(hash), store.consume(hash, now, policy)) };
    // a format of your own: tokens hashed by the source system with a salt of its own
    const salted: LegacyFormat = { name: 'salted', secret: (raw) => (/^[0-9a-f]{64}$/.test(raw) ? raw : null), hash: async (s) => sha256(`salt:${s}`) };
    const { raw, info } = await shieldToken(store);

    const saltedFirst = createTokenAccess({ store: spy, legacy: [salted, legacyFormats.shield, legacyFormats.sha256] });
    const r = await saltedFirst.verify(raw);
    expect(r.ok && r.token.id).toBe(info.id);
    // salted (miss), then shield (hit); sha256 would ask the same hash as shield and is never reached
    expect(seen).toEqual([sha256(`salt:${raw}`), sha256(raw)]);

    seen.length = 0;
    const unknown = randomBytes(32).toString('hex');
    expect((await saltedFirst.verify(unknown)).ok).toBe(false);
    // shield and sha256 give one hash: asked once
    expect(seen).toEqual([sha256(`salt:${unknown}`), sha256(unknown)]);

    seen.length = 0;
    const shieldFirst = createTokenAccess({ store: spy, legacy: [legacyFormats.shield, salted] });
    expect((await shieldFirst.verify(raw)).ok).toBe(true);
    expect(seen).toEqual([sha256(raw)]);
  });
});

describe('pepper and legacy', () => {
  it('legacy hashes stay plain SHA-256 while our own tokens are peppered', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store, pepper: { current: 'k2', keys: { k1: 'k1-secret-at-least-16-chars', k2: 'k2-secret-at-least-16-chars' } }, legacy: [legacyFormats.sanctum] });
    const { raw, info } = await sanctumToken(store);
    const ours = await tokens.issue({ subject: '42', name: 'new' });
    expect(ours.info.hash.startsWith('k2:')).toBe(true);
    expect((await tokens.verify(ours.token)).ok).toBe(true);
    const r = await tokens.verify(raw);
    expect(r.ok && r.token.id).toBe(info.id);
    expect((await tokens.inspect(raw))?.hash).toBe(info.hash);
    expect((await tokens.revoke(raw))?.id).toBe(info.id);
  });

  it('the portable entry (Web Crypto, async hashing) verifies legacy tokens too', async () => {
    const store = memoryStore();
    const tokens = createPortable({ store, legacy: [legacyFormats.shield, legacyFormats.sanctum] });
    const a = await shieldToken(store);
    const b = await sanctumToken(store);
    expect((await tokens.verify(a.raw)).ok).toBe(true);
    expect((await tokens.verify(b.raw)).ok).toBe(true);
    expect((await tokens.revoke(b.raw))?.id).toBe(b.info.id);
  });
});

describe('what is logged', () => {
  it('onRejected never carries a legacy secret; Sanctum gives its public id as the hint', async () => {
    const events: RejectionEvent[] = [];
    const store = memoryStore();
    const c = clock();
    const tokens = createTokenAccess({ store, clock: c.now, legacy: [legacyFormats.sanctum, legacyFormats.shield, legacyFormats.sha256], onRejected: (e) => void events.push(e) });
    const s = await sanctumToken(store, { createdAt: new Date(c.now()), expiresAt: new Date(c.now() + 1000) });
    const h = await shieldToken(store, { scopes: ['a'] });
    c.advance(2000);
    const plain = `tiki-${random40()}`;
    await tokens.verify(s.raw);
    await tokens.verify(h.raw, { scopes: ['b'] });
    await tokens.verify(plain);
    await tokens.verify(`9|${random40()}`);
    expect(events.map((e) => [e.code, e.hint])).toEqual([
      ['expired', 'sanctum:7'],
      ['insufficient_scope', undefined],
      ['not_found', undefined],
      ['not_found', 'sanctum:9'],
    ]);
    const logged = JSON.stringify(events);
    for (const secret of [s.plaintext, h.raw, plain, plain.slice(5, 25), h.raw.slice(0, 16)]) expect(logged).not.toContain(secret);
  });

  it('a store failure on a legacy token is unavailable, and its event carries no secret', async () => {
    const events: RejectionEvent[] = [];
    const store = memoryStore();
    const failing: TokenStore = { ...store, consume: async () => Promise.reject(new Error('connection reset')) };
    const tokens = createTokenAccess({ store: failing, legacy: [legacyFormats.shield], onRejected: (e) => void events.push(e) });
    const raw = randomBytes(32).toString('hex');
    const r = await tokens.verify(raw);
    expect(!r.ok && r.error.code).toBe('unavailable');
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0], (_k, v) => (v instanceof Error ? v.message : v))).not.toContain(raw);
  });

  it('refuses a malformed legacy option at construction', () => {
    const store = memoryStore();
    expect(() => createTokenAccess({ store, legacy: [{ name: 'Not OK', secret: () => null }] })).toThrow(/name matching/);
    expect(() => createTokenAccess({ store, legacy: [{ name: 'ok' } as LegacyFormat] })).toThrow(/secret\(raw\) must be a function/);
    expect(() => createTokenAccess({ store, legacy: legacyFormats.sanctum as unknown as LegacyFormat[] })).toThrow(/must be an array/);
  });
});
