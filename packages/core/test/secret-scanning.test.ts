import { type KeyObject, createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type GitHubPublicKey,
  type LeakEvent,
  type SecretScanningRefusal,
  type TokenStore,
  createTokenAccess,
  derToRawSignature,
  generateToken,
  githubPublicKeys,
  legacyFormats,
  memoryStore,
  newId,
  secretScanningHandler,
  secretScanningPattern,
} from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clock, countingStore } from './helpers';

const ENDPOINT = 'https://tokens.example/github/secret-scanning';

function keyPair(id: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { id, privateKey, publicKey, entry: { key_identifier: id, key: pem, is_current: true } satisfies GitHubPublicKey };
}

/** A delivery as GitHub sends it: the raw body signed (DER, base64) under `key`, named by `keyId`. */
function delivery(body: string | Uint8Array, key: KeyObject, keyId: string, init: { sign?: string | Uint8Array; headers?: Record<string, string> } = {}) {
  const signature = sign('sha256', Buffer.from(init.sign ?? body), key).toString('base64');
  return new Request(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'github-public-key-identifier': keyId, 'github-public-key-signature': signature, ...init.headers },
    body: body as BodyInit,
  });
}

const report = (...tokens: string[]) => JSON.stringify(tokens.map((token) => ({ token, type: 'tokenaccess_api_token', url: 'https://github.com/o/r/blob/abc/.env', source: 'content' })));

const gh = keyPair('a1b2c3');
const other = keyPair('d4e5f6');

function setup(o: { action?: 'revoke' | 'report'; store?: TokenStore; keys?: () => GitHubPublicKey[] | Promise<GitHubPublicKey[]> } = {}) {
  const store = o.store ?? memoryStore();
  const tokens = createTokenAccess({ store, legacy: [legacyFormats.sanctum] });
  const leaks: LeakEvent[] = [];
  const refusals: SecretScanningRefusal[] = [];
  const handler = secretScanningHandler({
    tokens,
    action: o.action ?? 'revoke',
    publicKeys: o.keys ?? (() => [gh.entry]),
    onLeak: (e) => void leaks.push(e),
    onRefused: (r) => void refusals.push(r),
  });
  return { store, tokens, handler, leaks, refusals };
}

describe('secretScanningHandler: signatures', () => {
  it("accepts GitHub's own published test delivery (a real GitHub signature, DER, base64)", async () => {
    // the sample request and test key of GitHub's partner-program documentation
    const body = '[{"token":"some_token","type":"some_type","url":"some_url","source":"some_source"}]';
    const key = ['-----BEGIN PUBLIC KEY-----', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP', 'HzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==', '-----END PUBLIC KEY-----'].join('\n');
    const id = 'f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d';
    const { handler } = setup({ keys: () => [{ key_identifier: id, key, is_current: true }] });
    const headers = { 'github-public-key-identifier': id, 'github-public-key-signature': 'MEUCIFLZzeK++IhS+y276SRk2Pe5LfDrfvTXu6iwKKcFGCrvAiEAhHN2kDOhy2I6eGkOFmxNkOJ+L2y8oQ9A2T9GGJo6WJY=' };
    const res = await handler(new Request(ENDPOINT, { method: 'POST', headers, body }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ token_raw: 'some_token', token_type: 'some_type', label: 'false_positive' }]);
    // the same signature over a body one byte longer fails
    const changed = await handler(new Request(ENDPOINT, { method: 'POST', headers, body: `${body} ` }));
    expect(changed.status).toBe(401);
  });

  it('refuses forged, re-keyed, altered and unsigned deliveries, and touches nothing', async () => {
    const store = countingStore();
    const { tokens, handler, leaks, refusals } = setup({ store });
    const { token } = await tokens.issue({ subject: 'u1', name: 'laptop' });
    const calls = { ...store.calls };
    const body = report(token);

    const forged = await handler(delivery(body, other.privateKey, gh.id)); // signed by someone else, claiming GitHub's key
    const wrongId = await handler(delivery(body, gh.privateKey, 'no-such-key'));
    const altered = body.replace('"content"', '"contenT"');
    const replayed = await handler(delivery(altered, gh.privateKey, gh.id, { sign: body }));
    const noSig = await handler(new Request(ENDPOINT, { method: 'POST', headers: { 'github-public-key-identifier': gh.id }, body }));
    const noId = await handler(new Request(ENDPOINT, { method: 'POST', headers: { 'github-public-key-signature': 'MEUCIQ==' }, body }));
    const garbageSig = await handler(delivery(body, gh.privateKey, gh.id, { headers: { 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' } }));
    const get = await handler(new Request(ENDPOINT));

    expect([forged.status, wrongId.status, replayed.status, noSig.status, noId.status, garbageSig.status, get.status]).toEqual([401, 401, 401, 400, 400, 401, 405]);
    expect(get.headers.get('allow')).toBe('POST');
    expect(refusals.map((r) => r.reason)).toEqual([
      'the signature does not match the body',
      'unknown key identifier',
      'the signature does not match the body',
      'missing Github-Public-Key-Identifier or Github-Public-Key-Signature',
      'missing Github-Public-Key-Identifier or Github-Public-Key-Signature',
      'the signature is not a base64 DER ECDSA signature',
      'POST only',
    ]);
    expect(store.calls).toEqual(calls); // no store call at all
    expect(leaks).toEqual([]);
    expect((await tokens.verify(token)).ok).toBe(true);
  });

  it('bounds the body (413 by Content-Length or while streaming) and refuses bad JSON after the signature', async () => {
    const { handler, tokens } = setup();
    const { token } = await tokens.issue({ subject: 'u1', name: 'n' });
    const big = `[${' '.repeat(1_048_576)}]`;
    expect((await handler(delivery(big, gh.privateKey, gh.id))).status).toBe(413);
    // no Content-Length: a stream that keeps going is cut at the cap
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const sig = sign('sha256', Buffer.from('[]'), gh.privateKey).toString('base64');
    const streamed = new Request(ENDPOINT, { method: 'POST', headers: { 'github-public-key-identifier': gh.id, 'github-public-key-signature': sig }, body: stream, duplex: 'half' } as RequestInit);
    expect((await handler(streamed)).status).toBe(413);
    expect((await handler(delivery('[{"token":', gh.privateKey, gh.id))).status).toBe(400);
    expect((await handler(delivery('{"token":"x"}', gh.privateKey, gh.id))).status).toBe(400);
    expect((await handler(delivery('[{"type":"t"}]', gh.privateKey, gh.id))).status).toBe(400);
    expect((await handler(delivery(new Uint8Array([0x5b, 0xff, 0x5d]), gh.privateKey, gh.id))).status).toBe(400);
    expect((await tokens.verify(token)).ok).toBe(true);
  });
});

describe('secretScanningHandler: labels and actions', () => {
  it('revokes a live token, labels unknown and garbage tokens false_positive, in order', async () => {
    const { tokens, handler, leaks } = setup();
    const live = await tokens.issue({ subject: 'u1', name: 'laptop', scopes: ['repo:read'] });
    const unknown = generateToken('tka');
    const res = await handler(delivery(report(unknown, live.token, 'garbage'), gh.privateKey, gh.id));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual([
      { token_raw: unknown, token_type: 'tokenaccess_api_token', label: 'false_positive' },
      { token_raw: live.token, token_type: 'tokenaccess_api_token', label: 'true_positive' },
      { token_raw: 'garbage', token_type: 'tokenaccess_api_token', label: 'false_positive' },
    ]);
    const after = await tokens.verify(live.token);
    expect(!after.ok && after.error.code).toBe('not_found');
    expect(leaks).toEqual([
      { id: live.info.id, subject: 'u1', name: 'laptop', kind: 'access', hint: live.info.hint, url: 'https://github.com/o/r/blob/abc/.env', source: 'content', type: 'tokenaccess_api_token', action: 'revoked' },
    ]);
    expect(JSON.stringify(leaks)).not.toContain(live.token);
  });

  it("'report' leaves the token live and calls onLeak", async () => {
    const { tokens, handler, leaks } = setup({ action: 'report' });
    const live = await tokens.issue({ subject: 'u2', name: 'ci' });
    const res = await handler(delivery(report(live.token), gh.privateKey, gh.id));
    expect((await res.json())[0].label).toBe('true_positive');
    expect(leaks.map((e) => [e.id, e.action])).toEqual([[live.info.id, 'reported']]);
    expect((await tokens.verify(live.token)).ok).toBe(true);
  });

  it('a token reported twice is looked up, revoked and reported once, and labelled the same', async () => {
    const { tokens, handler, leaks } = setup();
    const live = await tokens.issue({ subject: 'u1', name: 'n' });
    const res = await handler(delivery(report(live.token, live.token), gh.privateKey, gh.id));
    expect((await res.json()).map((r: { label: string }) => r.label)).toEqual(['true_positive', 'true_positive']);
    expect(leaks).toHaveLength(1);
  });

  it('an expired or used-up token is false_positive and left alone; a disabled one is live (it could be enabled)', async () => {
    const c = clock();
    const store = memoryStore();
    const tokens = createTokenAccess({ store, clock: c.now });
    const leaks: LeakEvent[] = [];
    const handler = secretScanningHandler({ tokens, publicKeys: () => [gh.entry], clock: c.now, onLeak: (e) => void leaks.push(e) });
    const expired = await tokens.issue({ subject: 'u', name: 'old', expiresIn: '1h' });
    const used = await tokens.issue({ subject: 'u', name: 'once', maxUses: 1 });
    const disabled = await tokens.issue({ subject: 'u', name: 'off' });
    await tokens.verify(used.token);
    await tokens.disable(disabled.info.id);
    c.advance(2 * 3_600_000);
    const res = await handler(delivery(report(expired.token, used.token, disabled.token), gh.privateKey, gh.id));
    expect((await res.json()).map((r: { label: string }) => r.label)).toEqual(['false_positive', 'false_positive', 'true_positive']);
    expect(leaks.map((e) => e.id)).toEqual([disabled.info.id]);
    expect(await tokens.get(expired.info.id)).not.toBeNull();
    expect(await tokens.get(disabled.info.id)).toBeNull();
  });

  it('finds tokens under every pepper key and legacy format', async () => {
    const store = memoryStore();
    const k1 = 'k1-secret-at-least-16-chars';
    const before = createTokenAccess({ store, pepper: { current: 'k1', keys: { k1 } } });
    const old = await before.issue({ subject: 'u', name: 'k1 token' });
    const tokens = createTokenAccess({ store, pepper: { current: 'k2', keys: { k1, k2: 'k2-secret-at-least-16-chars' } }, legacy: [legacyFormats.sanctum] });
    const plaintext = randomBytes(20).toString('hex');
    const sanctum = { id: newId(Date.now()), kind: 'access' as const, subject: '9', name: 'imported', scopes: ['*'], uses: 0, createdAt: new Date(), hint: 'sanctum:3', hash: createHash('sha256').update(plaintext).digest('hex') };
    await store.insert(sanctum);
    const handler = secretScanningHandler({ tokens, publicKeys: () => [gh.entry] });
    const res = await handler(delivery(report(old.token, `3|${plaintext}`), gh.privateKey, gh.id));
    expect((await res.json()).map((r: { label: string }) => r.label)).toEqual(['true_positive', 'true_positive']);
    expect(await store.findById(old.info.id)).toBeNull();
    expect(await store.findById(sanctum.id)).toBeNull();
  });

  it("feedback: 'token_hash' answers SHA-256 hex instead of the raw token", async () => {
    const tokens = createTokenAccess({ store: memoryStore() });
    const live = await tokens.issue({ subject: 'u', name: 'n' });
    const handler = secretScanningHandler({ tokens, publicKeys: () => [gh.entry], feedback: 'token_hash' });
    const body = await (await handler(delivery(report(live.token), gh.privateKey, gh.id))).json();
    expect(body).toEqual([{ token_hash: createHash('sha256').update(live.token).digest('hex'), token_type: 'tokenaccess_api_token', label: 'true_positive' }]);
  });

  it('a failing store is 503 (GitHub retries); a failing onLeak is 500', async () => {
    const store = memoryStore();
    const tokens = createTokenAccess({ store });
    const live = await tokens.issue({ subject: 'u', name: 'n' });
    const down = createTokenAccess({ store: { ...store, findByHash: async () => Promise.reject(new Error('ECONNRESET')) } });
    const res = await secretScanningHandler({ tokens: down, publicKeys: () => [gh.entry] })(delivery(report(live.token), gh.privateKey, gh.id));
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '5']);
    const throwing = secretScanningHandler({ tokens, action: 'report', publicKeys: () => [gh.entry], onLeak: () => { throw new Error('mailer down'); } });
    expect((await throwing(delivery(report(live.token), gh.privateKey, gh.id))).status).toBe(500);
  });
});

describe('secretScanningHandler: keys', () => {
  it('caches keys for the TTL, refetches for an unknown id at most once per interval, picks up a new key', async () => {
    const c = clock();
    let served = [gh.entry];
    let asked = 0;
    const tokens = createTokenAccess({ store: memoryStore() });
    const handler = secretScanningHandler({ tokens, clock: c.now, keysTtl: '1h', keysRefetchInterval: '1m', publicKeys: () => (asked++, served) });
    const ok = () => handler(delivery('[]', gh.privateKey, gh.id));
    expect((await ok()).status).toBe(200);
    expect((await ok()).status).toBe(200);
    expect(asked).toBe(1);
    // GitHub rotates: the new key id is unknown until refetched
    served = [gh.entry, other.entry];
    c.advance(61_000);
    expect((await handler(delivery('[]', other.privateKey, other.id))).status).toBe(200);
    expect(asked).toBe(2);
    // a flood of unknown ids asks at most once per interval
    for (let i = 0; i < 5; i++) expect((await handler(delivery('[]', gh.privateKey, `bogus-${i}`))).status).toBe(401);
    expect(asked).toBe(2);
    c.advance(61_000);
    expect((await handler(delivery('[]', gh.privateKey, 'bogus-again'))).status).toBe(401);
    expect(asked).toBe(3);
    // TTL: asked again after an hour; a failing source then keeps the stale keys
    served = undefined as never;
    c.advance(3_600_000);
    expect((await ok()).status).toBe(200);
    expect(asked).toBe(4);
  });

  it('no keys at all is 503', async () => {
    const handler = secretScanningHandler({ tokens: createTokenAccess({ store: memoryStore() }), publicKeys: async () => Promise.reject(new Error('github down')) });
    expect((await handler(delivery('[]', gh.privateKey, gh.id))).status).toBe(503);
  });

  describe('githubPublicKeys fetches the meta endpoint (a local server standing in for api.github.com)', () => {
    let server: http.Server;
    let url: string;
    const seen: http.IncomingHttpHeaders[] = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        seen.push(req.headers);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ public_keys: [gh.entry, { ...other.entry, is_current: false }] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('sends the token, returns public_keys, and the handler verifies with them', async () => {
      const keys = await githubPublicKeys({ url, token: 'ghp_test' })();
      expect(keys.map((k) => k.key_identifier)).toEqual([gh.id, other.id]);
      expect(seen[0]!.authorization).toBe('Bearer ghp_test');
      const handler = secretScanningHandler({ tokens: createTokenAccess({ store: memoryStore() }), publicKeys: githubPublicKeys({ url }) });
      expect((await handler(delivery('[]', other.privateKey, other.id))).status).toBe(200);
      await expect(githubPublicKeys({ url: `${url.replace(/\d+\/meta.*/, '1')}/` })()).rejects.toThrow();
    });
  });
});

describe('derToRawSignature', () => {
  const body = Buffer.from('payload');
  it('matches what node verifies as IEEE P1363, over many signatures (33-byte and short integers included)', () => {
    const shapes = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const der = sign('sha256', body, gh.privateKey);
      shapes.add(der[3]!); // the length of r: 33 (sign byte), 32, or shorter
      const raw = derToRawSignature(der)!;
      expect(raw).toHaveLength(64);
      expect(verify('sha256', body, { key: gh.publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    }
    expect(shapes.has(33) && shapes.has(32)).toBe(true);
  });

  it('strips the sign byte, left-pads short integers, refuses what is not strict DER', () => {
    const int = (bytes: number[]) => [0x02, bytes.length, ...bytes];
    const seq = (...parts: number[][]) => new Uint8Array([0x30, parts.flat().length, ...parts.flat()]);
    const r33 = [0x00, 0x80, ...Array(31).fill(0x11)]; // high bit set: a leading zero in DER
    const s31 = Array(31).fill(0x22); // a short integer: padded with one zero byte
    const raw = derToRawSignature(seq(int(r33), int(s31)))!;
    expect(Buffer.from(raw).toString('hex')).toBe(`80${'11'.repeat(31)}00${'22'.repeat(31)}`);
    const s1 = derToRawSignature(seq(int([0x01]), int([0x7f])))!;
    expect(Buffer.from(s1).toString('hex')).toBe(`${'00'.repeat(31)}01${'00'.repeat(31)}7f`);

    expect(derToRawSignature(seq(int([0x00, 0x01]), int([0x01])))).toBeNull(); // non-minimal zero
    expect(derToRawSignature(seq(int([0x81]), int([0x01])))).toBeNull(); // negative
    expect(derToRawSignature(seq(int([0x00, 0x80, ...Array(32).fill(1)]), int([1])))).toBeNull(); // 33 bytes of value
    const trailing = seq(int([1, 2]), int([3, 4]));
    expect(derToRawSignature(new Uint8Array([...trailing, 0]))).toBeNull(); // length mismatch
    expect(derToRawSignature(new Uint8Array([0x31, ...trailing.slice(1)]))).toBeNull(); // not a SEQUENCE
    expect(derToRawSignature(seq(int([1, 2]), [0x02, 9, 1]))).toBeNull(); // integer runs past the end
    expect(derToRawSignature(new Uint8Array(0))).toBeNull();
  });
});

it('secretScanningPattern is the regex GitHub gets: it matches our tokens and nothing else', () => {
  const re = new RegExp(secretScanningPattern('tka'));
  for (let i = 0; i < 50; i++) expect(re.test(`API_KEY=${generateToken('tka')}\n`)).toBe(true);
  expect(re.test(generateToken('tkb'))).toBe(false);
  expect(re.test(`tka_${'a'.repeat(35)}`)).toBe(false);
  expect(re.test(`tka_${'a'.repeat(37)}`)).toBe(false);
  expect(secretScanningPattern('acme')).toBe('\\bacme_[0-9A-Za-z]{36}\\b');
  expect(() => secretScanningPattern('Bad')).toThrow(/prefix/);
});
