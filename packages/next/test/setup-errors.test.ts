import { TokenAccessError, createTokenAccess, memoryStore } from '@tokenaccess/core';
import { compilePattern, createNextAuth, exchangeRoute, getToken, readForwardedClaims, tokenProxy, verifyPageToken, withToken } from '@tokenaccess/next';
import { describe, expect, it } from 'vitest';

const tokens = createTokenAccess({ store: memoryStore() });
const handler = () => new Response('ok');

// Every mistake of setup is core's one error class, as core's own and every adapter's are, so
// `err instanceof TokenAccessError && err.code === 'invalid_argument'` is all a caller checks.
const mistakes: [string, () => unknown][] = [
  // @ts-expect-error the handler is required
  ['withToken without a handler', () => withToken(undefined, { tokens })],
  // @ts-expect-error tokens is required
  ['withToken without tokens', () => withToken(handler, {})],
  ['withToken with a bad scope', () => withToken(handler, { tokens, scopes: ['a b'] })],
  // @ts-expect-error tokens is required
  ['tokenProxy without tokens', () => tokenProxy({ rules: [] })],
  // @ts-expect-error rules is required
  ['tokenProxy without rules', () => tokenProxy({ tokens })],
  // @ts-expect-error a rule is an object
  ['tokenProxy with a null rule', () => tokenProxy({ tokens, rules: [null] })],
  // @ts-expect-error match is required
  ['a rule without match', () => tokenProxy({ tokens, rules: [{ scopes: ['x'] }] })],
  // @ts-expect-error check is 'verify' | 'format'
  ['a rule with an unknown check', () => tokenProxy({ tokens, rules: [{ match: '/a', check: 'peek' }] })],
  ['a format rule with scopes', () => tokenProxy({ tokens, rules: [{ match: '/a', check: 'format', scopes: ['x'] }] })],
  ['a rule with a bad scope', () => tokenProxy({ tokens, rules: [{ match: '/a', scopes: ['has space'] }] })],
  ['a rule with a regex-group pattern', () => tokenProxy({ tokens, rules: [{ match: '/api/:id(\\d+)' }] })],
  ['a bad forward header name', () => tokenProxy({ tokens, rules: [], forward: { subject: 'bad header' } })],
  ['compilePattern without a leading slash', () => compilePattern('api')],
  ['readForwardedClaims with a bad header name', () => readForwardedClaims(new Headers(), { id: 'x y' })],
  // @ts-expect-error tokens is required
  ['getToken without tokens', () => getToken({})],
  // @ts-expect-error tokens is required
  ['verifyPageToken without tokens', () => verifyPageToken({ pathname: '/p', searchParams: {} })],
  ['verifyPageToken with a relative pathname', () => verifyPageToken({ tokens, pathname: 'share?x', searchParams: {} })],
  // @ts-expect-error tokens is required
  ['createNextAuth without tokens', () => createNextAuth(undefined)],
  // @ts-expect-error tokens is required
  ['exchangeRoute without tokens', () => exchangeRoute(undefined)],
  ['exchangeRoute with a handler but no session cookie', () => exchangeRoute(tokens, { handler })],
  ['exchangeRoute with a bad scope', () => exchangeRoute(tokens, { scopes: ['a b'] })],
  ['an exchange rule that refuses URL tokens', () => tokenProxy({ tokens, rules: [{ match: '/s/:id', exchange: true, urlTokens: false }] })],
];

describe('setup errors', () => {
  it.each(mistakes)('%s: TokenAccessError invalid_argument, [tokenaccess] [next]', async (_, mistake) => {
    let thrown: unknown;
    try {
      await mistake();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TokenAccessError);
    const e = thrown as TokenAccessError;
    expect(e.code).toBe('invalid_argument');
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^\[tokenaccess\] \[next\] \S/);
  });
});
