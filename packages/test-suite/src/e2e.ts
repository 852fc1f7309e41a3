import { type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { randomSubject } from './fixtures';

/** The store behind `createTokenAccess`: the paths users take. */
export function serviceTests(store: () => TokenStore): void {
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

    it('serves a one-time share link once, to its URL only', async () => {
      const tokens = createTokenAccess({ store: store() });
      const share = await tokens.issueUrl({ url: 'https://example.com/files?id=7&sep=%2C' });
      const wrong = await tokens.verifyUrl(share.url.replace('id=7', 'id=8'));
      expect(!wrong.ok && wrong.error.code).toBe('url_mismatch');
      expect((await tokens.verifyUrl(share.url.replace('%2C', ','))).ok).toBe(true);
      const again = await tokens.verifyUrl(share.url);
      expect(!again.ok && ['exhausted', 'not_found']).toContain(!again.ok && again.error.code);
    });

    it('revokeAll removes every token of a subject', async () => {
      const tokens = createTokenAccess({ store: store() });
      const subject = randomSubject();
      const issued = await Promise.all([1, 2, 3].map((i) => tokens.issue({ subject, name: `t${i}` })));
      expect(await tokens.revokeAll(subject)).toBe(3);
      for (const { token } of issued) expect((await tokens.verify(token)).ok).toBe(false);
    });
  });
}
