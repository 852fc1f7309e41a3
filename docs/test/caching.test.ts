import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis, service } from '../examples/caching';

const prefix = `tka-docs-cache-${randomBytes(4).toString('hex')}:`;
const clients: Redis[] = [];
const feeds: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const f of feeds) await f.close();
  const keys = await clients[0]!.keys(`${prefix}*`);
  if (keys.length) await clients[0]!.del(...keys);
  for (const c of clients) await c.quit();
});

describe('docs/examples/caching.ts: a revoke in one service reaches the other one\'s cache', () => {
  it('serves from the cache, and refuses once the other service revoked', async () => {
    const make = () => {
      const client = new Redis('redis://127.0.0.1:6379');
      clients.push(client);
      const s = service(client, prefix);
      feeds.push(s.feed);
      return s.tokens;
    };
    const a = make();
    const b = make();
    const { token, info } = await a.issue({ subject: 'u', name: 'cached' });
    expect((await b.verify(token)).ok).toBe(true); // now in b's cache
    await a.revokeById(info.id);
    // the feed delivers within milliseconds; poll instead of timing it
    let code = 'ok';
    for (let i = 0; i < 200 && code === 'ok'; i++) {
      const r = await b.verify(token);
      code = r.ok ? 'ok' : r.error.code;
      if (code === 'ok') await new Promise((r) => setTimeout(r, 25));
    }
    expect(code).toBe('not_found');
  });
});
