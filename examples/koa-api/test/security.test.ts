// Share-link security of the example over raw HTTP (http.request sends `path` and Host as given;
// fetch would resolve dot segments and refuse a bad Host before sending).
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { rejectionLine } from '../src/log';

const lines: string[] = [];
const tokens = createTokenAccess({ store: memoryStore(), onRejected: (e) => void lines.push(rejectionLine(e)) });
let dir: string;
let server: Server;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'koa-api-security-'));
  await writeFile(join(dir, 'small.txt'), 'hello');
  server = createApp({ tokens, files: dir }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: 'api.test', connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function personalToken(): Promise<string> {
  const res = await send('POST', '/auth/tokens', { 'x-demo-user': 'alice', 'content-type': 'application/json' }, JSON.stringify({ name: 'security test', scopes: ['files:share'] }));
  expect(res.status).toBe(201);
  return (JSON.parse(res.body) as { token: string }).token;
}

describe('share links of the example', () => {
  it('refusals are logged by code, reason and id: no log line quotes the link’s token or the API token', async () => {
    const api = await personalToken();
    const shared = await send('POST', '/api/files/small.txt/share', { authorization: `Bearer ${api}` }, '');
    expect(shared.status).toBe(201);
    const url = new URL((JSON.parse(shared.body) as { url: string }).url);
    expect(url.origin).toBe('http://api.test');
    const link = url.searchParams.get('token')!;

    const attempts: [string, string, Record<string, string>?][] = [
      ['dot segment', `/files/%2e%2e?token=${link}`],
      ['encoded slash walk', `/files/small.txt%2F..%2Fsmall.txt?token=${link}`],
      ['an extra parameter', `/files/small.txt?token=${link}&x=1`],
      ['two token parameters', `/files/small.txt?token=${link}&token=${link}`],
      ['a Bearer token and a URL token', `/files/small.txt?token=${link}`, { authorization: `Bearer ${api}` }],
      ['the link as a Bearer token', '/api/me', { authorization: `Bearer ${link}` }],
      ['a Host carrying a path', '/batch?action=export', { host: `api.test/files/small.txt?token=${link}#` }],
      ['a Host that is not a host', `/files/small.txt?token=${link}`, { host: '[bad' }],
      ['the API token in a URL', `/files/small.txt?token=${api}`],
    ];
    for (const [what, path, headers] of attempts) {
      const res = await send('GET', path, headers);
      expect([what, res.status]).toEqual([what, expect.toBeOneOf([400, 401])]);
    }
    // the walked paths and the bad Hosts are refused by shareLink before core is asked (a Fetch
    // Request cannot carry a raw path): no token was checked, so there is no refusal to log
    expect(lines.length).toBeGreaterThanOrEqual(attempts.length - 3);
    for (const secret of [link.slice(8), api.slice(8)]) expect(lines.join('\n')).not.toContain(secret);
    // the link was live all along: its one use is still there
    const ok = await send('GET', `/files/small.txt?token=${link}`);
    expect(ok.status).toBe(303);
  });

  it('a link is never issued for a Host that is not a host (it would bind another path)', async () => {
    const api = await personalToken();
    for (const host of ['api.test/x?', 'api.test#', '[bad', 'a b']) {
      const res = await send('POST', '/api/files/small.txt/share', { authorization: `Bearer ${api}`, host }, '');
      expect([host, res.status, JSON.parse(res.body)]).toEqual([host, 400, { error: 'bad_request', message: 'The Host header is not a valid host.' }]);
    }
  });
});
