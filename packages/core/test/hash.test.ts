import { createTokenAccess, cryptoProvider, memoryStore, webCryptoProvider } from '@tokenaccess/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenAccessWith } from '../src/access';
import { nodeCryptoProvider } from '../src/node-crypto';

describe('hashing', () => {
  it('uses node:crypto on Node', () => {
    expect(cryptoProvider.name).toBe('node:crypto');
  });

  it('stores SHA-256 hex of the raw token by default', async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    expect(info.hash).toBe(await webCryptoProvider.sha256Hex(token));
    expect(info.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(info)).not.toContain(token);
  });

  it('gives identical SHA-256 and HMAC on node:crypto and Web Crypto', async () => {
    expect(nodeCryptoProvider.sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ minLength: 16, maxLength: 64 }), async (data, key) => {
        expect(await webCryptoProvider.sha256Hex(data)).toBe(nodeCryptoProvider.sha256Hex(data));
        expect(await webCryptoProvider.hmacSha256Hex(key, data)).toBe(nodeCryptoProvider.hmacSha256Hex(key, data));
      }),
      { numRuns: 300 },
    );
  });

  it('verifies the same tokens whichever provider hashes (a node service and an edge proxy share a store)', async () => {
    const store = memoryStore();
    const pepper = { current: 'k1', keys: { k1: 'a-pepper-of-sixteen+chars' } };
    const node = createTokenAccessWith(nodeCryptoProvider, { store, pepper });
    const edge = createTokenAccessWith(webCryptoProvider, { store, pepper });
    const { token } = await node.issue({ subject: 'u', name: 'n' });
    expect((await edge.verify(token)).ok).toBe(true);
    const share = await edge.issueUrl({ url: '/f?id=1' });
    expect((await node.verifyUrl(share.url)).ok).toBe(true);
  });
});

describe('pepper', () => {
  const k1 = 'first-secret-0123456789abcdef';
  const k2 = 'second-secret-0123456789abcdef';

  it('stores HMAC-SHA256 under the current key id', async () => {
    const tokens = createTokenAccess({ store: memoryStore(), pepper: { current: 'k1', keys: { k1 } } });
    const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
    expect(info.hash).toBe(`k1:${nodeCryptoProvider.hmacSha256Hex(k1, token)}`);
  });

  it('keeps verifying k1 tokens after current moves to k2; new tokens use k2', async () => {
    const store = memoryStore();
    const before = createTokenAccess({ store, pepper: { current: 'k1', keys: { k1 } } });
    const old = await before.issue({ subject: 'u', name: 'old' });
    const after = createTokenAccess({ store, pepper: { current: 'k2', keys: { k1, k2 } } });
    const fresh = await after.issue({ subject: 'u', name: 'new' });
    expect(fresh.info.hash.startsWith('k2:')).toBe(true);
    expect((await after.verify(old.token)).ok).toBe(true);
    expect((await after.verify(fresh.token)).ok).toBe(true);
    expect((await after.revoke(old.token))?.id).toBe(old.info.id);
    // once k1 is retired, its tokens no longer verify
    const retired = createTokenAccess({ store, pepper: { current: 'k2', keys: { k2 } } });
    const again = await before.issue({ subject: 'u', name: 'old2' });
    expect((await retired.verify(again.token)).ok).toBe(false);
  });

  it('a peppered deployment does not accept tokens hashed without the pepper', async () => {
    const store = memoryStore();
    const plain = await createTokenAccess({ store }).issue({ subject: 'u', name: 'n' });
    const peppered = createTokenAccess({ store, pepper: k1 });
    const r = await peppered.verify(plain.token);
    expect(!r.ok && r.error.code).toBe('not_found');
  });

  it('refuses a weak or misnamed pepper', () => {
    expect(() => createTokenAccess({ store: memoryStore(), pepper: 'short' })).toThrow(/at least 16/);
    expect(() => createTokenAccess({ store: memoryStore(), pepper: { current: 'k3', keys: { k1 } } })).toThrow(/pepper.current/);
  });
});
