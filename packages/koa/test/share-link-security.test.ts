// Runs the code of the "Share links: security" section of docs/frameworks/koa.md over raw HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { proxiedApp, redactToken, shareLinkApp } from './snippets/share-link-security';
import { type Running, listen, rawRequest } from './helpers';

const tokens = createTokenAccess({ store: memoryStore() });
const lines: string[] = [];
let srv: Running;
beforeAll(async () => (srv = await listen(shareLinkApp(tokens, (line) => void lines.push(line)))));
afterAll(() => srv.close());
beforeEach(() => void (lines.length = 0));

const open = (target: string) => rawRequest(srv, `GET ${target} HTTP/1.1`, { Host: 'files.example.com' });

describe('Referrer-Policy', () => {
  it('is no-referrer on the page a link opens and on its refusal', async () => {
    const share = await tokens.issueUrl({ url: 'https://files.example.com/reports/q3', scopes: ['reports:read'] });
    const page = await open(`/reports/q3?token=${share.token}`);
    expect([page.status, page.headers['referrer-policy']]).toEqual([200, 'no-referrer']);
    expect(page.body).toContain('https://stats.example.org/q3');
    const again = await open(`/reports/q3?token=${share.token}`);
    expect([again.status, again.headers['referrer-policy']]).toEqual([401, 'no-referrer']);
  });
});

describe('the access log', () => {
  it('records method, path, query and status, never the token, however the parameter is written', async () => {
    const share = await tokens.issueUrl({ url: 'https://files.example.com/reports/q3?format=pdf', scopes: ['reports:read'], maxUses: 3 });
    const targets = [`/reports/q3?format=pdf&token=${share.token}`, `/reports/q3?%74oken=${share.token}&format=pdf`, `/reports/q3?format=csv&token=${share.token}`];
    const statuses = [];
    for (const t of targets) statuses.push((await open(t)).status);
    expect(statuses).toEqual([200, 200, 401]);
    expect(lines.map((l) => l.replace(/ \d+$| -$/, ''))).toEqual([
      'GET /reports/q3?format=pdf&token=[redacted] 200',
      'GET /reports/q3?%74oken=[redacted]&format=pdf 200',
      'GET /reports/q3?format=csv&token=[redacted] 401',
    ]);
    expect(lines.join('\n')).not.toContain(share.token.slice(4));
  });

  it('redactToken leaves other parameters, and URLs without a token, as they were', () => {
    expect(redactToken('/a?tokens=1&my_token=2&token')).toBe('/a?tokens=1&my_token=2&token=[redacted]');
    expect(redactToken('/a?x=%zz&to%6Ben=t&t+oken=3')).toBe('/a?x=%zz&to%6Ben=[redacted]&t+oken=3');
    expect(redactToken('/a/b')).toBe('/a/b');
  });
});

describe('checkOrigin behind a proxy', () => {
  const checked = createTokenAccess({ store: memoryStore(), checkOrigin: true });
  let proxied: Running;
  beforeAll(async () => (proxied = await listen(proxiedApp(checked))));
  afterAll(() => proxied.close());

  it('compares the link’s origin with X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const share = await checked.issueUrl({ url: 'https://files.example.com/reports/q3', maxUses: 1 });
    const forwarded = (host: string) => ({ Host: '10.0.0.7:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': host });
    const other = await rawRequest(proxied, `GET /reports/q3?token=${share.token} HTTP/1.1`, forwarded('tenant-b.example.com'));
    expect(other.status).toBe(401);
    const ok = await rawRequest(proxied, `GET /reports/q3?token=${share.token} HTTP/1.1`, forwarded('files.example.com'));
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { servedOn: 'https://files.example.com' }]);
  });
});
