import { type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { at, plain, record, scopes } from './fixtures';

/**
 * The audit's cases that a store takes part in (docs/security.md): each refusal is decided by
 * the store's own atomic step (Lua, SQL, a query document), so each store must show it.
 */
export function securityTests(store: () => TokenStore): void {
  describe('security: refusals the store decides', () => {
    it('a walked path (/admin/../files) opens no link and spends nothing', async () => {
      const tokens = createTokenAccess({ store: store() });
      const share = await tokens.issueUrl({ url: 'https://app.test/files?id=7' });
      for (const walk of ['/admin/../files', '/admin/%2e%2e/files', '/admin/..%5cfiles', '/./files']) {
        const r = await tokens.verifyUrl(`https://app.test${walk}?id=7&token=${share.token}`);
        expect(!r.ok && r.error.code, walk).toBe('url_mismatch');
      }
      expect((await store().findById(share.info.id))?.uses).toBe(0);
      expect((await tokens.verifyUrl(share.url)).ok).toBe(true);
    });

    it('a URL token issued without scopes is stored with none and passes no scope check', async () => {
      const tokens = createTokenAccess({ store: store() });
      const share = await tokens.issueUrl({ url: '/files?id=7', maxUses: 2 });
      expect((await store().findById(share.info.id))?.scopes).toEqual([]);
      const scoped = await tokens.verifyUrl(share.url, { scopes: ['files:read'] });
      expect(!scoped.ok && scoped.error.code).toBe('insufficient_scope');
      expect((await store().findById(share.info.id))?.uses).toBe(0);
      const open = await tokens.verifyUrl(share.url);
      expect(open.ok && open.token.scopes).toEqual([]);
    });

    it('a link preview (HEAD) neither opens nor spends a one-time link', async () => {
      const tokens = createTokenAccess({ store: store() });
      const share = await tokens.issueUrl({ url: '/files?id=7' });
      const preview = await tokens.verifyUrl(share.url, { method: 'HEAD' });
      expect(!preview.ok && preview.error.code).toBe('url_mismatch');
      expect((await store().findById(share.info.id))?.uses).toBe(0);
      expect((await tokens.verifyUrl(share.url, { method: 'GET' })).ok).toBe(true);
    });

    it('wildcards are whole segments: users:* never covers usersettings, nor does a stored users*', async () => {
      const tokens = createTokenAccess({ store: store() });
      const { token } = await tokens.issue({ subject: 's', name: 'n', scopes: ['users:*'] });
      expect((await tokens.verify(token, { scopes: ['users:read'] })).ok).toBe(true);
      const denied = await tokens.verify(token, { scopes: ['usersettings:write'] });
      expect(!denied.ok && denied.error.code).toBe('insufficient_scope');
      // a record written before the rule, straight into the store
      const legacy = record({ scopes: ['users*'] });
      await store().insert(legacy);
      const r = await store().consume(legacy.hash, at(), plain({ scopes: scopes('all', 'usersettings:write') }));
      expect(!r.ok && r.reason).toBe('insufficient_scope');
    });
  });
}
