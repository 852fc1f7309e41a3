import { createTokenAccess, memoryStore, verifyError } from '@tokenaccess/core';
import { TokenRequiredError, getToken, interrupt, requireToken } from '@tokenaccess/next';
import { afterEach, describe, expect, it } from 'vitest';

// getToken / requireToken read `await headers()`, which only exists inside a Next request: the
// example app's e2e test (examples/next-app/test/e2e.test.ts) exercises them in a real server.
// Here: the parts that do not need a request scope.

const FLAG = '__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS';
afterEach(() => {
  delete process.env[FLAG];
});

describe('interrupt', () => {
  it('does nothing when experimental.authInterrupts is off', async () => {
    await expect(interrupt(verifyError('missing'))).resolves.toBeUndefined();
    await expect(interrupt(verifyError('insufficient_scope', { scopes: ['a'] }))).resolves.toBeUndefined();
  });

  it("throws Next's unauthorized() / forbidden() control-flow errors when it is on", async () => {
    process.env[FLAG] = 'true';
    const digest = (p: Promise<void>) => p.then(() => undefined, (e: { digest?: string }) => e.digest);
    expect(await digest(interrupt(verifyError('expired')))).toBe('NEXT_HTTP_ERROR_FALLBACK;401');
    expect(await digest(interrupt(verifyError('insufficient_scope')))).toBe('NEXT_HTTP_ERROR_FALLBACK;403');
    // 400 and 503 are not auth interrupts
    expect(await digest(interrupt(verifyError('unavailable')))).toBeUndefined();
    expect(await digest(interrupt(verifyError('invalid_request')))).toBeUndefined();
  });
});

describe('TokenRequiredError', () => {
  it('carries the verification error', () => {
    const e = new TokenRequiredError(verifyError('insufficient_scope', { scopes: ['reports:read'] }));
    expect(e).toBeInstanceOf(Error);
    expect(e.status).toBe(403);
    expect(e.error.scopes).toEqual(['reports:read']);
    expect(e.message).toMatch(/^\[tokenaccess\] \[next\] .*\(insufficient_scope\)$/);
    // http-errors' fields, as on TokenAccessError: a 4xx message is core's generic one
    expect(e.expose).toBe(true);
    expect(new TokenRequiredError(verifyError('unavailable')).expose).toBe(false);
  });
});

describe('getToken / requireToken outside a request', () => {
  it('refuses missing options and surfaces Next’s request-scope error', async () => {
    // @ts-expect-error tokens is required
    await expect(getToken({})).rejects.toThrow(/\[tokenaccess\] \[next\] getToken needs `tokens`/);
    const tokens = createTokenAccess({ store: memoryStore() });
    await expect(requireToken({ tokens })).rejects.toThrow(/headers/);
  });
});
