import { storeTestSuite } from '@tokenaccess/test-suite';
import { describe, expect, it } from 'vitest';
import { casStore, memoryKv, type KvClient } from '../examples/custom-store';
import { main as gettingStarted } from '../examples/getting-started';
import { main as pepper } from '../examples/pepper-rotation';
import { main as tiki } from '../examples/tiki-batch';
import * as migrating from '../examples/migrating';

describe('docs examples run and say what the docs say', () => {
  it('getting started', async () => {
    const lines: string[] = [];
    const out = await gettingStarted((...a) => void lines.push(a.join(' ')));
    expect(out).toEqual({ first: true, second: 'exhausted', status: 200, revoked: true });
    expect(lines.join('\n')).toMatch(/share link: https:\/\/example\.com\/files\?id=7&token=tka_/);
  });

  it('pepper rotation', async () => {
    expect(await pepper()).toEqual({ oldStillValid: true, newHashPrefix: 'k2:' });
  });

  it('the Tiki batch URL', async () => {
    const out = await tiki();
    expect(out).toMatchObject({ ok: true, refused: 'url_mismatch' });
    expect(out.shareUrl).toContain('&recordsMax=-1&TOKEN=tka_');
  });

  it('migrating: Shield, Sanctum and Tiki counterparts', async () => {
    expect(await migrating.shield()).toEqual({ checks: true, request: 'GET' });
    expect(await migrating.sanctum()).toEqual({ both: false, either: true, pruned: 0 });
    expect(await migrating.tiki()).toBe(true);
  });

  it('the README examples', async () => {
    const api = await import('../examples/readme-api');
    const ok = await api.handler(new Request('https://api.test/users', { headers: { authorization: `Bearer ${api.token}` } }));
    expect([ok.status, await ok.json()]).toEqual([200, { hello: 'user-1' }]);
    const none = await api.handler(new Request('https://api.test/users'));
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="api"']);
    const share = await import('../examples/readme-share');
    expect(share.share.url).toMatch(/^https:\/\/example\.com\/reports\/q3\.pdf\?format=pdf&token=tka_\w{36}$/);
    expect(share.first.ok).toBe(true);
    const second = share.second;
    expect(second.ok ? 'ok' : second.error.code).toBe('exhausted');
  });
});

// The store written in docs/writing-a-store.md passes the same suite as the shipped stores,
// read back through a second instance over the same service.
const services = new WeakMap<object, KvClient>();
storeTestSuite({
  name: 'docs/examples/custom-store (casStore)',
  createStore: () => {
    const client = memoryKv();
    const store = casStore({ client });
    services.set(store, client);
    return store;
  },
  reopen: (store) => casStore({ client: services.get(store)! }),
});
