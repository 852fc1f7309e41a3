import { createTokenAccess, errorBody, memoryStore, toResponse, verifyError, type VerifyErrorCode } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';

const setup = async () => {
  const tokens = createTokenAccess({ store: memoryStore(), realm: 'example' });
  const { token } = await tokens.issue({ subject: 'u', name: 'n', scopes: ['users:read'] });
  return { tokens, token };
};
const req = (headers: Record<string, string> = {}, url = 'https://api.test/users', method = 'GET') => new Request(url, { headers, method });

describe('authenticate', () => {
  it('reads a Bearer token, scheme case-insensitive', async () => {
    const { tokens, token } = await setup();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const r = await tokens.authenticate(req({ authorization: `${scheme} ${token}` }), { scopes: ['users:read'] });
      expect(r.ok, scheme).toBe(true);
    }
  });

  it('accepts a Node-style { headers, url, method } object', async () => {
    const { tokens, token } = await setup();
    const r = await tokens.authenticate({ headers: { authorization: `Bearer ${token}`, host: 'api.test' }, url: '/users', method: 'GET' });
    expect(r.ok).toBe(true);
    const mixedCase = await tokens.authenticate({ headers: { Authorization: `Bearer ${token}` } });
    expect(mixedCase.ok).toBe(true);
  });

  it('without credentials: 401 missing with a bare challenge (no error code)', async () => {
    const { tokens } = await setup();
    for (const h of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: '' }] as Record<string, string>[]) {
      const r = await tokens.authenticate(req(h));
      expect(!r.ok && r.error).toEqual({ code: 'missing', status: 401, error: 'unauthorized', message: 'Authentication is required.', wwwAuthenticate: 'Bearer realm="example"' });
    }
  });

  it.each([['Bearer'], ['Bearer a b'], ['Bearer a,b'], ['Bearer tka_x, Bearer tka_y']])('malformed header %j: 400 invalid_request', async (value) => {
    const { tokens } = await setup();
    const r = await tokens.authenticate(req({ authorization: value }));
    expect(!r.ok && r.error).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('a Bearer token and a URL token at once: 400 invalid_request', async () => {
    const { tokens, token } = await setup();
    const share = await tokens.issueUrl({ url: 'https://api.test/files?id=1' });
    const r = await tokens.authenticate(req({ authorization: `Bearer ${token}` }, share.url));
    expect(!r.ok && r.error.code).toBe('invalid_request');
  });

  it('falls back to a URL token bound to the request URL and method', async () => {
    const { tokens } = await setup();
    const share = await tokens.issueUrl({ url: 'https://api.test/files?id=1', maxUses: 2 });
    expect((await tokens.authenticate(req({}, share.url))).ok).toBe(true);
    const post = await tokens.authenticate(req({}, share.url, 'POST'));
    expect(!post.ok && post.error.code).toBe('url_mismatch');
    const off = await tokens.authenticate(req({}, share.url), { urlTokens: false });
    expect(!off.ok && off.error.code).toBe('missing');
  });

  it('a custom header may carry the token with or without the scheme', async () => {
    const { tokens, token } = await setup();
    expect((await tokens.authenticate(req({ 'x-api-key': token }), { header: 'X-API-Key' })).ok).toBe(true);
    expect((await tokens.authenticate(req({ 'x-api-key': `Bearer ${token}` }), { header: 'x-api-key' })).ok).toBe(true);
    const r = await tokens.authenticate(req({ authorization: `Bearer ${token}` }), { header: 'x-api-key' });
    expect(!r.ok && r.error.code).toBe('missing');
  });

  it('getToken replaces extraction entirely', async () => {
    const { tokens, token } = await setup();
    const fromCookie = (r: Parameters<typeof tokens.authenticate>[0]) => /tk=([^;]+)/.exec((r as Request).headers.get('cookie') ?? '')?.[1];
    expect((await tokens.authenticate(req({ cookie: `a=1; tk=${token}` }), { getToken: fromCookie })).ok).toBe(true);
    const none = await tokens.authenticate(req({ authorization: `Bearer ${token}` }), { getToken: () => null });
    expect(!none.ok && none.error.code).toBe('missing');
    const boom = await tokens.authenticate(req(), {
      getToken: () => {
        throw new Error('bad cookie');
      },
    });
    expect(!boom.ok && boom.error.code).toBe('invalid_request');
  });

  it('maps every failure to its RFC 6750 status', async () => {
    const { tokens, token } = await setup();
    const cases: [Request, VerifyErrorCode, number][] = [
      [req({ authorization: 'Bearer tka_short' }), 'malformed', 401],
      [req({ authorization: `Bearer ${token.slice(0, -6)}${'A'.repeat(6)}` }), 'malformed', 401],
      [req({ authorization: `Bearer ${token}` }), 'insufficient_scope', 403],
    ];
    for (const [r, code, status] of cases) {
      const out = await tokens.authenticate(r, { scopes: ['users:write'] });
      expect(!out.ok && [out.error.code, out.error.status]).toEqual([code, status]);
    }
  });
});

describe('toResponse', () => {
  it('builds the RFC 6750 response with a JSON body and no caching', async () => {
    const res = toResponse(verifyError('insufficient_scope', { realm: 'api', scopes: ['users:write', 'a"b'] }));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="users:write a\\"b"',
    );
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'insufficient_scope', message: 'The access token does not grant the required scope.' });
  });

  it.each([
    ['missing', 401, 'Bearer realm="api"'],
    ['invalid_request', 400, 'Bearer realm="api", error="invalid_request", error_description="The request is malformed."'],
    ['expired', 401, 'Bearer realm="api", error="invalid_token", error_description="The access token expired."'],
    ['exhausted', 401, 'Bearer realm="api", error="invalid_token", error_description="The access token has been used up."'],
    ['url_mismatch', 401, 'Bearer realm="api", error="invalid_token", error_description="The access token is not valid for this URL."'],
    ['unavailable', 503, null],
  ] as const)('%s → %i', async (code, status, header) => {
    const e = verifyError(code);
    const res = toResponse(e);
    expect(res.status).toBe(status);
    expect(res.headers.get('www-authenticate')).toBe(header);
    expect(await res.json()).toEqual(errorBody(e));
    if (status === 503) expect(res.headers.get('retry-after')).toBe('5');
  });
});
