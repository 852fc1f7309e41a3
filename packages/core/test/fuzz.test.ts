// Fuzzing of the request-facing API with a fixed seed (so a failure reproduces): 105,000
// generated headers, tokens and URLs against authenticate, verifyUrl and issueUrl. The property
// is the contract of docs/security.md: verification never throws for any input (it answers a
// typed refusal), issuing throws only TokenAccessError, no answer is a 500, and no reason, error
// or event ever quotes a live token.
import { TokenAccessError, type RejectionEvent, type VerifyErrorCode, createTokenAccess, memoryStore } from '@tokenaccess/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

const SEED = 20261202;
const CODES = new Set<VerifyErrorCode>(['missing', 'invalid_request', 'malformed', 'not_found', 'expired', 'exhausted', 'url_mismatch', 'insufficient_scope', 'unavailable']);

const events: RejectionEvent[] = [];
const tokens = createTokenAccess({ store: memoryStore(), onRejected: (e) => void events.push(e), ignoreParams: ['utm_source'] });
const live: string[] = [];
const secrets: string[] = [];

beforeAll(async () => {
  for (const url of ['/files?id=7', 'https://app.test/files?id=7&ids[]=1&ids[]=2', '/tiki-index.php?page=Home&TOKEN=']) {
    const s = await tokens.issueUrl({ url: url.replace('&TOKEN=', ''), maxUses: null, scopes: ['files:read'] });
    live.push(s.token);
  }
  live.push((await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:*'] })).token);
  secrets.push(...live.map((t) => t.slice(4)));
});

/** A live token, a live token with one character changed, or noise. */
const token = fc.oneof(
  fc.constantFrom(...Array.from({ length: 4 }, (_, i) => i)).map((i) => live[i]!),
  fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 39 }), fc.string({ minLength: 1, maxLength: 1 })).map(([i, at, c]) => {
    const t = live[i]!;
    return `${t.slice(0, at)}${c}${t.slice(at + 1)}`;
  }),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', 'tka_', 'tka_'.padEnd(40, '0'), 'TKA_abc', 'tka_' + 'a'.repeat(5000)),
);

/** Pieces attackers and odd clients put in URLs: dot segments, backslashes, escapes, brackets. */
const piece = fc.oneof(
  fc.constantFrom('..', '.', '%2e', '%2E%2e', '%5c', '\\', '%', '%zz', '%C3', '%00', '%2F', '//', ';', '[', ']', '@', ':', ' ', '\t', '\n', 'é', '😀', '\uD800', '#', '?', '&', '=', '+', 'files', 'admin', 'id', '7'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const text = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
const pair = fc.oneof(
  fc.tuple(fc.constantFrom('token', 'TOKEN', 't%6Fken', 'id', 'ids[]', 'ids%5B%5D', 'utm_source'), fc.oneof(token, text)).map(([k, v]) => `${k}=${v}`),
  text,
);
const query = fc.tuple(fc.array(pair, { maxLength: 5 }), fc.constantFrom('&', '&&', ';')).map(([pairs, sep]) => pairs.join(sep));
const url = fc
  .tuple(
    fc.constantFrom('', 'http://', 'https://', 'HTTP://', 'ftp://', 'javascript:', 'http:', 'http:\\\\', '//'),
    fc.oneof(fc.constantFrom('app.test', 'APP.test:443', '[::1]:80', '[bad', 'a:b:c', 'a b', '%zz', 'user:pw@app.test', 'xn--nxasmq6b', ''), text),
    fc.array(text, { maxLength: 5 }).map((segs) => `/${segs.join('/')}`),
    query,
    fc.oneof(fc.constant(''), text.map((t) => `#${t}`)),
  )
  .map(([scheme, host, path, q, frag]) => `${scheme}${scheme ? host : ''}${path}${q ? `?${q}` : ''}${frag}`);

const header = fc.oneof(
  token.map((t) => `Bearer ${t}`),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', ''), fc.string({ unit: 'binary', maxLength: 30 }), token).map(([s, sep, t]) => `${s}${sep}${t}`),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(`Bearer${' '.repeat(20_000)}\n`, 'Bearer a, Bearer b', 'Bearer =', 'Bearer ==='),
);

function assertRefusalShape(r: Awaited<ReturnType<typeof tokens.authenticate>>): void {
  if (r.ok) return;
  expect(CODES.has(r.error.code)).toBe(true);
  expect(r.error.status).toBeLessThan(500);
  const body = JSON.stringify(r);
  for (const s of secrets) expect(body).not.toContain(s);
}

function assertNoLeakInEvents(): void {
  const all = JSON.stringify(events.map((e) => ({ ...e, cause: undefined })));
  events.length = 0;
  for (const s of secrets) expect(all).not.toContain(s);
}

describe(`fuzz (seed ${SEED})`, () => {
  it('authenticate: 40,000 generated headers (Authorization, a custom header, repeated values) never throw', async () => {
    await fc.assert(
      fc.asyncProperty(header, fc.option(header), fc.boolean(), fc.option(url), async (h, second, custom, u) => {
        const headers: Record<string, string | string[]> = custom ? { 'x-api-key': h } : { authorization: second === null ? h : [h, second] };
        const r = await tokens.authenticate({ headers, method: 'GET', ...(u === null ? {} : { url: u }) }, custom ? { header: 'X-Api-Key' } : {});
        assertRefusalShape(r);
      }),
      { seed: SEED, numRuns: 40_000 },
    );
    assertNoLeakInEvents();
  });

  it('verifyUrl and authenticate: 40,000 generated URLs never throw', async () => {
    await fc.assert(
      fc.asyncProperty(url, fc.constantFrom('GET', 'get', 'HEAD', 'POST', 'BREW', ''), fc.option(fc.constantFrom('files:read', 'users:read')), async (u, method, scope) => {
        const check = scope === null ? {} : { scopes: [scope] };
        assertRefusalShape(await tokens.verifyUrl(u, { method, ...check }));
        assertRefusalShape(await tokens.authenticate({ headers: {}, method, url: u }, check));
      }),
      { seed: SEED + 1, numRuns: 40_000 },
    );
    assertNoLeakInEvents();
  });

  it('issueUrl: 25,000 generated URLs and options throw only TokenAccessError, and never quote a token', async () => {
    const options = fc.record(
      {
        methods: fc.array(fc.oneof(fc.constantFrom('GET', 'head', 'POST', 'TRACE', 'BREW', ''), fc.string({ maxLength: 6 })), { maxLength: 3 }),
        scopes: fc.array(fc.oneof(fc.constantFrom('*', 'users:*', 'users*', 'a b', 'files/*', 'x:*:y'), fc.string({ maxLength: 10 })), { maxLength: 3 }),
        maxUses: fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 3 }), fc.double()),
        expiresIn: fc.oneof(fc.constant(null), fc.constantFrom('1d', '-5d', '0s', 'soon', '90d'), fc.integer({ min: -10, max: 1e9 })),
        metadata: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.anything({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(url, options, async (u, opts) => {
        try {
          const s = await tokens.issueUrl({ url: u, ...(opts as object) });
          expect(s.url).toContain(s.token);
        } catch (e) {
          expect(e).toBeInstanceOf(TokenAccessError);
          for (const t of live) expect((e as Error).message).not.toContain(t.slice(4));
        }
      }),
      { seed: SEED + 2, numRuns: 25_000 },
    );
  });
});
