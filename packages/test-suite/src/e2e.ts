import { type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { randomSubject } from './fixtures';

/** The store behind `createTokenAccess`: the paths users take. */
export function serviceTests(store: () => TokenStore, reader: () => TokenStore): void {
  describe('behind createTokenAccess', () => {
    it('issues, verifies, lists, revokes', async () => {
      const tokens = createTokenAccess({ store: store() });
      const subject = randomSubject();
      const { token, info } = await tokens.issue({ subject, name: 'laptop', scopes: ['users:read'] });
      const ok = await tokens.verify(token, { scopes: ['users:read'] });
      expect(ok.ok && ok.token.id).toBe(info.id);
      const denied = await tokens.verify(token, { scopes: ['users:write'] });
      expect(!denied.ok && denied.error.code).toBe('insufficient_scope');
      expect((await tokens.list({ subject })).items.map((t) => t.id)).toEqual([info.id]);
      expect(JSON.stringify(await tokens.list({ subject }))).not.toContain(token);
      expect((await tokens.revoke(token))?.id).toBe(info.id);
      const gone = await tokens.verify(token);
      expect(!gone.ok && gone.error.code).toBe('not_found');
    });

    it('serves a one-time share link once, to its URL only, then answers exhausted until it is revoked', async () => {
      const tokens = createTokenAccess({ store: store() });
      const share = await tokens.issueUrl({ url: 'https://example.com/files?id=7&sep=%2C' });
      const wrong = await tokens.verifyUrl(share.url.replace('id=7', 'id=8'));
      expect(!wrong.ok && wrong.error.code).toBe('url_mismatch');
      expect((await tokens.verifyUrl(share.url.replace('%2C', ','))).ok).toBe(true);
      // the same answer from every store, and from another instance of it
      const again = await tokens.verifyUrl(share.url);
      expect(again.ok ? 'ok' : again.error).toMatchObject({ code: 'exhausted', status: 401 });
      const elsewhere = createTokenAccess({ store: reader() });
      const fromReader = await elsewhere.verifyUrl(share.url);
      expect(fromReader.ok ? 'ok' : fromReader.error.code).toBe('exhausted');
      expect((await elsewhere.inspect(share.token))?.uses).toBe(1);
      expect((await elsewhere.revokeById(share.info.id))?.id).toBe(share.info.id);
      const revoked = await tokens.verifyUrl(share.url);
      expect(revoked.ok ? 'ok' : revoked.error.code).toBe('not_found');
    });

    it('revokeAll removes every token of a subject', async () => {
      const tokens = createTokenAccess({ store: store() });
      const subject = randomSubject();
      const issued = await Promise.all([1, 2, 3].map((i) => tokens.issue({ subject, name: `t${i}` })));
      expect(await tokens.revokeAll(subject)).toBe(3);
      for (const { token } of issued) {
        const r = await tokens.verify(token);
        expect(r.ok ? 'ok' : r.error.code).toBe('not_found');
      }
    });
  });
}
