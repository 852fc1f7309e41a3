import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenAuth, type TokenState } from '@tokenaccess/koa';
import { type Running, listen, setup } from './helpers';

const { tokens } = setup();
let srv: Running;
let dir: string;
const SIZE = 8 * 1024 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenaccess-koa-'));
  const big = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4096) big.write(`block ${i / 4096}\n`, i);
  await writeFile(join(dir, 'big.bin'), big);
  await writeFile(join(dir, 'small.txt'), 'hello');

  const router = new Router<TokenState>();
  // a share link opens exactly this URL; scopes are checked inside consume, so a wrong link spends nothing
  router.get('/files/:name', tokenAuth({ tokens, urlTokens: true, scopes: ['files:read'] }), async (ctx) => {
    const name = ctx.params.name!;
    if (!/^[\w][\w.-]*$/.test(name)) return ctx.throw(404);
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return ctx.throw(404);
    ctx.type = 'application/octet-stream';
    ctx.length = info.size;
    ctx.body = createReadStream(path);
  });
  const batch = tokenAuth({ tokens, urlTokens: true, scopes: ['batch:run'] });
  router.get('/batch', batch, (ctx) => {
    ctx.body = { ran: ctx.query, uses: ctx.state.token.uses, of: ctx.state.token.maxUses };
  });
  router.post('/batch', batch, (ctx) => (ctx.body = 'posted'));
  const app = new Koa<TokenState>();
  app.use(router.routes());
  srv = await listen(app);
});
afterAll(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

describe('one-time share link', () => {
  it('streams the file once; the second download is refused with 401 invalid_token', async () => {
    const share = await tokens.issueUrl({ url: `${srv.url}/files/big.bin`, scopes: ['files:read'], expiresIn: '1h' });
    expect(share.info.maxUses).toBe(1);
    const first = await fetch(share.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-length')).toBe(String(SIZE));
    const body = Buffer.from(await first.arrayBuffer());
    expect(body.length).toBe(SIZE);
    expect(body.subarray(4096, 4096 + 8).toString()).toBe('block 1\n');

    const second = await fetch(share.url);
    expect(second.status).toBe(401);
    expect(second.headers.get('www-authenticate')).toContain('error_description="The access token has been used up."');
    expect(await second.json()).toEqual({ error: 'invalid_token', message: 'The access token has been used up.' });
  });

  it('a link opens only its own file, and the refused attempt spends no use', async () => {
    const share = await tokens.issueUrl({ url: `${srv.url}/files/small.txt`, scopes: ['files:read'] });
    const other = share.url.replace('/files/small.txt', '/files/big.bin');
    expect((await fetch(other)).status).toBe(401);
    const ok = await fetch(share.url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello');
  });

  it('a link without the route scope is refused with 403 and spends no use', async () => {
    const share = await tokens.issueUrl({ url: `${srv.url}/files/small.txt`, scopes: ['something:else'] });
    const res = await fetch(share.url);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="files:read"');
    expect((await tokens.get(share.info.id))?.uses).toBe(0);
  });

  it('200 concurrent downloads of a maxUses: 10 link → exactly 10 × 200 OK, 190 × 401', async () => {
    const share = await tokens.issueUrl({ url: `${srv.url}/files/small.txt`, scopes: ['files:read'], maxUses: 10 });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(share.url);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 401)).toHaveLength(190);
    expect((await tokens.get(share.info.id))?.uses).toBe(10);
  });
});

describe('cron batch URL: several uses, bound to its exact query', () => {
  const path = '/batch?action=export&trackerId=3&separator=,&recordsMax=-1';

  it('runs with the exact URL (parameter order and %2C encoding do not matter) and counts its uses', async () => {
    const link = await tokens.issueUrl({ url: `${srv.url}${path}`, scopes: ['batch:run'], maxUses: 3, expiresIn: '30d', name: 'nightly export' });
    const a = await fetch(link.url);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ ran: { action: 'export', trackerId: '3', separator: ',', recordsMax: '-1', token: link.token }, uses: 1, of: 3 });
    const reordered = `${srv.url}/batch?recordsMax=-1&separator=%2C&trackerId=3&action=export&token=${link.token}`;
    expect((await fetch(reordered)).status).toBe(200);
    expect((await fetch(link.url)).status).toBe(200);
    expect((await fetch(link.url)).status).toBe(401); // 3 uses spent
  });

  it('fails when any parameter is changed, added or removed (or the method differs), without spending a use', async () => {
    const link = await tokens.issueUrl({ url: `${srv.url}${path}`, scopes: ['batch:run'], maxUses: 2 });
    const variants = [
      link.url.replace('trackerId=3', 'trackerId=4'),
      link.url.replace('action=export', 'action=delete'),
      link.url.replace('recordsMax=-1', 'recordsMax=10'),
      link.url.replace('separator=,', 'separator=%3B'),
      link.url.replace('&recordsMax=-1', ''),
      `${link.url}&extra=1`,
      link.url.replace('/batch', '/files/small.txt'),
    ];
    for (const v of variants) {
      const res = await fetch(v);
      expect(res.status, v).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token', message: 'The access token is not valid for this URL.' });
    }
    // the link was issued for GET (the default): another method is another request
    expect((await fetch(link.url, { method: 'POST' })).status).toBe(401);
    expect((await tokens.get(link.info.id))?.uses).toBe(0);
    expect((await fetch(link.url)).status).toBe(200);
  });
});
