import { appendTokenParam, canonicalizeUrl, createTokenAccess, memoryStore } from '@tokenaccess/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const canon = (url: string, exclude: string[] = []) => canonicalizeUrl(url, { tokenParam: 'token', exclude: new Set(exclude) }).canonical;

describe('canonicalizeUrl', () => {
  it.each([
    ['%2C and , are the same value', '/a?sep=%2C', '/a?sep=,'],
    ['+ and %20 are the same space in a query', '/a?q=a+b', '/a?q=a%20b'],
    ['parameter order does not matter', '/a?x=1&y=2', '/a?y=2&x=1'],
    ['lower and upper percent hex', '/a?q=%c3%a9', '/a?q=%C3%A9'],
    ['raw UTF-8 and percent-encoded', '/a?q=é', '/a?q=%C3%A9'],
    ['encoded array brackets', '/a?ids[]=1&ids[]=2', '/a?ids%5B%5D=2&ids%5b%5d=1'],
    ['path: raw UTF-8 and its escapes, in either hex case', '/caf%c3%a9/x', '/café/x'],
    ['a key with no = is a key with an empty value', '/a?flag', '/a?flag='],
    ['empty pairs are nothing', '/a?x=1&&y=2&', '/a?y=2&x=1'],
    ['the fragment never reaches a server', '/a?x=1#top', '/a?x=1'],
    ['the host and default port do not enter the canonical form', 'https://EXAMPLE.com:443/a?x=1', 'http://other.test/a?x=1'],
  ])('%s', (_, a, b) => {
    expect(canon(a)).toBe(canon(b));
  });

  it.each([
    ['%2B is a plus, not a space', '/a?q=a%2Bb', '/a?q=a+b'],
    ['a differing value', '/a?id=7', '/a?id=8'],
    ['an extra parameter', '/a?id=7', '/a?id=7&x=1'],
    ['a missing parameter', '/a?id=7&x=1', '/a?id=7'],
    ['"" and "0" are different values', '/a?v=', '/a?v=0'],
    ['a repeated parameter is kept as a list', '/a?ids[]=1', '/a?ids[]=1&ids[]=1'],
    ['ids[] and ids are different keys', '/a?ids[]=1', '/a?ids=1'],
    ['%2F inside a segment is not a separator', '/a%2Fb', '/a/b'],
    ['an escaped letter in the path is another path (a raw-path router routes it elsewhere)', '/%64ocs/x', '/docs/x'],
    ['an escaped unreserved character in the path', '/%7Euser', '/~user'],
    ['another path', '/files/7', '/files/8'],
    ['trailing slash', '/files/7', '/files/7/'],
    ['keys are case-sensitive', '/a?ID=7', '/a?id=7'],
  ])('%s', (_, a, b) => {
    expect(canon(a)).not.toBe(canon(b));
  });

  it('excludes the token parameter and reports its values', () => {
    const c = canonicalizeUrl('https://x.test:8443/f?id=7&token=abc#frag', { tokenParam: 'token' });
    expect(c).toEqual({ origin: 'https://x.test:8443', canonical: '/f?id=7', tokens: ['abc'] });
    expect(canonicalizeUrl('/f?token=a&token=b', { tokenParam: 'token' }).tokens).toEqual(['a', 'b']);
    expect(canonicalizeUrl('/f?TOKEN=a&token=b', { tokenParam: 'TOKEN' })).toEqual({ canonical: '/f?token=b', tokens: ['a'] });
  });

  it('leaves ignored parameters out', () => {
    expect(canon('/a?id=7&utm_source=mail', ['utm_source'])).toBe(canon('/a?id=7', ['utm_source']));
  });

  it('keeps malformed percent sequences rather than failing', () => {
    expect(canon('/a?q=%zz')).toBe('/a?q=%25zz');
    expect(canon('/a?q=%C3')).toBe(canon('/a?q=%c3'));
  });

  it('refuses what is not an http(s) URL or a path, and paths a router would read another way', () => {
    for (const bad of ['', 'files?id=7', 'javascript:alert(1)', 'ftp://x.test/a', 'http://', `/${'a'.repeat(9000)}`, '//evil.test/a', '/a/b/../c', '/a\tb', '/a\nb']) {
      expect(() => canon(bad), bad).toThrow(/\[tokenaccess\]/);
    }
  });

  const pair = fc.tuple(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
  const pairs = fc.array(pair, { maxLength: 6 }).map((ps) => ps.filter(([k]) => k !== 'token' && k !== ''));
  // segments a router reads one way only: no backslash, no dot segment (also around a '/')
  const routable = (s: string) => !s.includes('\\') && !s.split('/').some((p) => p === '.' || p === '..');
  const segments = fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter(routable), { maxLength: 4 });

  /** Builds a URL from decoded parts with a chosen encoding style. */
  const build = (segs: string[], ps: [string, string][], style: 'component' | 'form' | 'upper' | 'lower') => {
    const enc = (s: string) => {
      let e = encodeURIComponent(s);
      if (style === 'form') e = e.replace(/%20/g, '+');
      if (style === 'lower') e = e.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
      return e;
    };
    const path = `/${segs.map((s) => encodeURIComponent(s)).join('/')}`;
    const q = ps.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    return q ? `${path}?${q}` : path;
  };

  it('property: canonicalisation is idempotent', () => {
    fc.assert(
      fc.property(segments, pairs, (segs, ps) => {
        const once = canon(build(segs, ps, 'component'));
        expect(canon(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: equivalent encodings and any parameter order give the same canonical form', () => {
    fc.assert(
      fc.property(segments, pairs, fc.func(fc.integer()), (segs, ps, rank) => {
        const shuffled = [...ps].sort((a, b) => rank(a) - rank(b));
        const forms = (['component', 'form', 'upper', 'lower'] as const).map((style) => canon(build(segs, shuffled, style)));
        forms.push(canon(build(segs, ps, 'component')));
        expect(new Set(forms).size).toBe(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: changing one value changes the canonical form', () => {
    fc.assert(
      fc.property(pairs.filter((p) => p.length > 0), fc.string({ maxLength: 4 }), (ps, extra) => {
        const changed = ps.map(([k, v], i) => [k, i === 0 ? `${v}${extra}x` : v] as [string, string]);
        expect(canon(build([], changed, 'component'))).not.toBe(canon(build([], ps, 'component')));
      }),
      { numRuns: 500 },
    );
  });
});

describe('appendTokenParam', () => {
  it('keeps the caller’s encoding, order, port and fragment', () => {
    expect(appendTokenParam('https://x.test:8443/f?b=%2C&a=1#frag', 'token', 'tka_x')).toBe('https://x.test:8443/f?b=%2C&a=1&token=tka_x#frag');
    expect(appendTokenParam('/f', 'TOKEN', 't')).toBe('/f?TOKEN=t');
    expect(appendTokenParam('/f?', 'token', 't')).toBe('/f?token=t');
    expect(appendTokenParam('/f?a=1&', 'token', 't')).toBe('/f?a=1&token=t');
  });
});

describe('URL tokens end to end', () => {
  const setup = (opts: Parameters<typeof createTokenAccess>[0] extends infer O ? Partial<O> : never = {}) =>
    createTokenAccess({ store: memoryStore(), ...opts });

  it('a one-time link opens once; the fragment and port are kept in the share URL', async () => {
    const tokens = setup();
    const share = await tokens.issueUrl({ url: 'https://example.com:8443/files?id=7#download' });
    expect(share.url).toMatch(/^https:\/\/example\.com:8443\/files\?id=7&token=tka_[0-9A-Za-z]{36}#download$/);
    expect(share.info).toMatchObject({ kind: 'url', maxUses: 1, uses: 0, scopes: [] });
    expect(share.info.expiresAt!.getTime() - share.info.createdAt.getTime()).toBe(7 * 86_400_000);
    expect((await tokens.verifyUrl(share.url)).ok).toBe(true);
    const again = await tokens.verifyUrl(share.url);
    expect(!again.ok && again.error.code).toBe('exhausted');
  });

  it('Tiki’s batch URL: matches its exact query in any order and encoding, and nothing else', async () => {
    const tokens = setup();
    const share = await tokens.issueUrl({ url: '/tiki-tracker?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&fields[]=b', maxUses: 100 });
    const t = share.token;
    const ok = [
      `/tiki-tracker?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&fields[]=b&token=${t}`,
      `/tiki-tracker?token=${t}&recordsMax=-1&separator=%2C&trackerId=3&fields%5B%5D=b&fields%5B%5D=a&action=export`,
    ];
    for (const u of ok) expect((await tokens.verifyUrl(u)).ok, u).toBe(true);
    const bad = [
      `/tiki-tracker?action=export&trackerId=4&separator=,&recordsMax=-1&fields[]=a&fields[]=b&token=${t}`,
      `/tiki-tracker?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&token=${t}`,
      `/tiki-tracker?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&fields[]=b&fields[]=c&token=${t}`,
      `/tiki-tracker?action=export&trackerId=3&separator=;&recordsMax=-1&fields[]=a&fields[]=b&token=${t}`,
      `/tiki-tracker?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&fields[]=b&debug=1&token=${t}`,
      `/tiki-other?action=export&trackerId=3&separator=,&recordsMax=-1&fields[]=a&fields[]=b&token=${t}`,
    ];
    for (const u of bad) {
      const r = await tokens.verifyUrl(u);
      expect(!r.ok && r.error.code, u).toBe('url_mismatch');
    }
    expect((await tokens.get(share.info.id))!.uses).toBe(ok.length);
  });

  it('values "" and "0" bind exactly', async () => {
    const tokens = setup();
    const s = await tokens.issueUrl({ url: '/r?a=&b=0', maxUses: null });
    expect((await tokens.verifyUrl(`/r?b=0&a=&token=${s.token}`)).ok).toBe(true);
    expect((await tokens.verifyUrl(`/r?a=0&b=0&token=${s.token}`)).ok).toBe(false);
    expect((await tokens.verifyUrl(`/r?a=&b=&token=${s.token}`)).ok).toBe(false);
  });

  it('checks methods (GET only by default: link previews send HEAD)', async () => {
    const tokens = setup();
    const s = await tokens.issueUrl({ url: '/x', maxUses: null });
    expect((await tokens.verifyUrl(s.url, { method: 'get' })).ok).toBe(true);
    const head = await tokens.verifyUrl(s.url, { method: 'HEAD' });
    expect(!head.ok && head.error.code).toBe('url_mismatch');
    const withHead = await tokens.issueUrl({ url: '/x', methods: ['GET', 'HEAD'], maxUses: null });
    expect((await tokens.verifyUrl(withHead.url, { method: 'HEAD' })).ok).toBe(true);
    const post = await tokens.verifyUrl(s.url, { method: 'POST' });
    expect(!post.ok && post.error.code).toBe('url_mismatch');
    const p = await tokens.issueUrl({ url: '/hook', methods: ['post'], maxUses: null });
    expect((await tokens.verifyUrl(p.url, { method: 'POST' })).ok).toBe(true);
    expect((await tokens.verifyUrl(p.url, { method: 'GET' })).ok).toBe(false);
  });

  it('ignoreParams drops tracking parameters on both sides', async () => {
    const tokens = setup({ ignoreParams: ['utm_source', 'fbclid'] });
    const s = await tokens.issueUrl({ url: '/doc?id=1', maxUses: null });
    expect((await tokens.verifyUrl(`/doc?id=1&utm_source=newsletter&fbclid=xyz&token=${s.token}`)).ok).toBe(true);
    expect((await tokens.verifyUrl(`/doc?id=1&other=1&token=${s.token}`)).ok).toBe(false);
  });

  it('checks the origin only when asked and the binding has one', async () => {
    const loose = setup();
    const a = await loose.issueUrl({ url: 'https://app.test/p', maxUses: null });
    expect((await loose.verifyUrl(a.url.replace('app.test', 'mirror.test'))).ok).toBe(true);
    const strict = setup({ checkOrigin: true });
    const b = await strict.issueUrl({ url: 'https://app.test/p', maxUses: null });
    expect((await strict.verifyUrl(b.url)).ok).toBe(true);
    expect((await strict.verifyUrl(b.url.replace('app.test', 'evil.test'))).ok).toBe(false);
    expect((await strict.verifyUrl(b.url.replace('https://app.test', ''))).ok).toBe(false);
  });

  it('uses a custom parameter name (Tiki’s TOKEN)', async () => {
    const tokens = setup({ urlParam: 'TOKEN' });
    const s = await tokens.issueUrl({ url: '/p?id=1' });
    expect(s.url).toContain('&TOKEN=tka_');
    expect((await tokens.verifyUrl(s.url)).ok).toBe(true);
  });

  it('refuses a URL that already carries the token parameter, and two tokens in one URL', async () => {
    const tokens = setup();
    await expect(tokens.issueUrl({ url: '/p?token=x' })).rejects.toThrow(/already has a 'token' parameter/);
    const s = await tokens.issueUrl({ url: '/p' });
    const r = await tokens.verifyUrl(`${s.url}&token=${s.token}`);
    expect(!r.ok && r.error.code).toBe('invalid_request');
  });

  it('a share link cannot be replayed as a Bearer token, nor an API token put in a URL', async () => {
    const tokens = setup();
    const s = await tokens.issueUrl({ url: '/p' });
    const asBearer = await tokens.verify(s.token);
    expect(!asBearer.ok && asBearer.error.code).toBe('url_mismatch');
    expect((await tokens.get(s.info.id))!.uses).toBe(0);
    const api = await tokens.issue({ subject: 'u', name: 'n' });
    const inUrl = await tokens.verifyUrl(`/p?token=${api.token}`);
    expect(!inUrl.ok && inUrl.error.code).toBe('url_mismatch');
  });

  it('a URL token requiring a scope it lacks is refused without spending its use', async () => {
    const tokens = setup();
    const s = await tokens.issueUrl({ url: '/p', scopes: ['files:read'] });
    const r = await tokens.verifyUrl(s.url, { scopes: ['files:write'] });
    expect(!r.ok && r.error.code).toBe('insufficient_scope');
    expect((await tokens.verifyUrl(s.url, { scopes: ['files:read'] })).ok).toBe(true);
  });

  it('200 concurrent opens of a 10-use link: exactly 10 succeed', async () => {
    const tokens = setup();
    const s = await tokens.issueUrl({ url: '/batch?id=1', maxUses: 10 });
    const results = await Promise.all(Array.from({ length: 200 }, () => tokens.verifyUrl(s.url)));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
  });
});
