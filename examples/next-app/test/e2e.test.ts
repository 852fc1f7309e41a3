/**
 * End to end: `next build` of this app (which type-checks the wrapped route handlers against
 * Next's generated route types), `next start` on a free loopback port, then real HTTP requests.
 * The server is seeded at startup (instrumentation.ts, DEMO_SEED_FILE) with known tokens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../lib/seed';
import { raw } from './raw';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' } as NodeJS.ProcessEnv;

let server: ChildProcess | undefined;
let tmp = '';
let base = '';
let port = 0;
let seed: Seed;
let serverLog = '';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, ...args], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`next ${args.join(' ')} exited with ${code}:\n${out}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    if (server?.exitCode !== null && server?.exitCode !== undefined) throw new Error(`next start exited (${server.exitCode}) while waiting for ${what}:\n${serverLog}`);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stop(): void {
  if (server?.pid && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGKILL'); // the whole process group: next start and its workers
    } catch {
      server.kill('SIGKILL');
    }
  }
}
process.once('exit', stop);

beforeAll(async () => {
  for (const pkg of ['core', 'next']) {
    if (!existsSync(join(appDir, '..', '..', 'packages', pkg, 'dist', 'index.js'))) {
      throw new Error(`@tokenaccess/${pkg} is not built: run \`npx tsup\` in packages/${pkg} (turbo's test task builds it first)`);
    }
  }
  await run(['build']);

  tmp = await mkdtemp(join(tmpdir(), 'tokenaccess-next-e2e-'));
  const seedFile = join(tmp, 'seed.json');
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: appDir,
    env: { ...env, DEMO_SEED_FILE: seedFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  server.stdout!.on('data', (d) => (serverLog += d));
  server.stderr!.on('data', (d) => (serverLog += d));

  await waitFor('the server', async () => ((await fetch(`${base}/api/health`)).ok ? true : undefined));
  seed = await waitFor('the seed file', async () => JSON.parse(await readFile(seedFile, 'utf8')) as Seed);
}, 240_000);

afterAll(async () => {
  stop();
  if (server && server.exitCode === null && server.signalCode === null) await new Promise((r) => server!.once('exit', r));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${base}${path}`, { method, headers, redirect: 'manual' });
const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

describe('route handler guarded by a scope (withToken, behind proxy.ts)', () => {
  it('no token → 401 with WWW-Authenticate and no error code', async () => {
    const res = await get('/api/reports');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="next-app"');
    expect(await res.json()).toEqual({ error: 'unauthorized', message: 'Authentication is required.' });
  });

  it('bad token → 401 invalid_token', async () => {
    const res = await get('/api/reports', bearer('tka_thisisnotatoken'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await res.json()).error).toBe('invalid_token');
  });

  it('wrong scope → 403 insufficient_scope', async () => {
    const res = await get('/api/reports', bearer(seed.billing));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('www-authenticate')).toContain('scope="reports:read"');
  });

  it('good token → 200, and a dynamic route gets its typed params', async () => {
    const res = await get('/api/reports', bearer(seed.reader));
    expect(res.status).toBe(200);
    expect((await res.json()).owner).toBe('reader@example.com');
    const one = await get('/api/reports/q3', bearer(seed.reader));
    expect(await one.json()).toEqual({ id: 'q3', owner: 'reader@example.com' });
  });
});

describe('proxy.ts', () => {
  it('answers refusals itself (no handler exists at this path)', async () => {
    const none = await get('/api/admin/nowhere');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="next-app"');
    const scope = await get('/api/admin/nowhere', bearer(seed.reader));
    expect(scope.status).toBe(403);
    expect((await get('/api/admin/nowhere', bearer(seed.admin))).status).toBe(404);
    expect((await get('/api/admin/stats', bearer(seed.admin))).status).toBe(200);
  });

  it('ignores forged forwarded-claims headers from the client', async () => {
    const forged = { 'x-tokenaccess-subject': 'root', 'x-tokenaccess-scopes': '*', 'x-tokenaccess-id': 'forged' };
    const verified = await get('/api/reports', bearer(seed.reader, forged));
    expect(verified.status).toBe(200);
    const body = await verified.json();
    expect(body.forwarded.subject).toBe('reader@example.com');
    expect(body.forwarded.scopes).toEqual(['reports:read', 'account:read']);
    expect(body.forwarded.id).not.toBe('forged');

    // a path without a token rule: the headers are stripped all the same
    const echo = await get('/api/public/echo', forged);
    expect(echo.status).toBe(200);
    expect(await echo.json()).toEqual({ claims: null, subject: null });

    // and a forged header alone opens nothing
    expect((await get('/api/admin/stats', forged)).status).toBe(401);
  });

  it('does not spend limited tokens: the proxy checks them (scopes too) without counting, the handler spends the one use', async () => {
    const first = await get('/api/jobs/run', bearer(seed.limited), 'POST');
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ran: true, uses: 1, maxUses: 1 });
    const again = await get('/api/jobs/run', bearer(seed.limited), 'POST');
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('a rate-limited token: the handler counts it and sends RateLimit; once the window is full the proxy answers 429', async () => {
    for (const remaining of [1, 0]) {
      const res = await get('/api/reports', bearer(seed.metered));
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"token";q=2;w=3600');
      expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"token";r=${remaining};t=\\d+$`));
    }
    const refused = await get('/api/reports', bearer(seed.metered));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"token";q=2;w=3600');
    const reset = Number(/^"token";r=0;t=(\d+)$/.exec(refused.headers.get('ratelimit') ?? '')?.[1]);
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(3600);
    expect(refused.headers.get('retry-after')).toBe(String(reset));
    expect(refused.headers.get('www-authenticate')).toBeNull();
    expect(await refused.json()).toEqual({ error: 'rate_limited', message: expect.any(String) });
  });
});

describe('share links', () => {
  it('a one-time link opens the page once, then is refused', async () => {
    const first = await get(seed.sharePage);
    expect(first.status).toBe(200);
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await first.text()).toContain('Shared report: <!-- -->q3-report');
    const again = await get(seed.sharePage);
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('401: not signed in, or the link is no longer valid');
  });

  it('a one-time link downloads a file once through the proxy, then is refused', async () => {
    const tampered = seed.shareFile.replace('q3.pdf', 'q4.pdf');
    expect((await get(tampered)).status).toBe(401); // bound to another URL: refused, nothing spent
    const first = await get(seed.shareFile);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-disposition')).toBe('attachment; filename="q3.pdf"');
    expect(await first.text()).toContain('demo contents of q3.pdf');
    const again = await get(seed.shareFile);
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('Server Component (requireToken)', () => {
  it('a layout and its page both calling requireToken verify once per render: a maxUses: 2 token gives two page views', async () => {
    const headers = bearer(seed.limitedPage);
    for (const use of [1, 2]) {
      const res = await get('/limited', headers);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain(`layout sees use <!-- -->${use}`);
      expect(html).toContain(`page sees use <!-- -->${use}<!-- --> of <!-- -->2`);
    }
    const third = await get('/limited', headers);
    expect(third.status).toBe(401);
    // the layout needs no scope, the page needs account:read: one verification, each call's scopes
    const scope = await get('/limited', bearer(seed.billing));
    expect(scope.status).toBe(403);
  });

  it('renders for a token with the scope, 401 without one, 403 with the wrong scope', async () => {
    const ok = await get('/account', bearer(seed.reader));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Signed in as <!-- -->reader@example.com');
    const none = await get('/account');
    expect(none.status).toBe(401);
    expect(await none.text()).toContain('401: not signed in');
    const scope = await get('/account', bearer(seed.billing));
    expect(scope.status).toBe(403);
    expect(await scope.text()).toContain('403: your token does not allow this page');
  });
});

// Security cases, sent with raw request targets (test/raw.ts): fetch would normalise them away.
// What Next 16 does before any of our code runs is part of what is pinned here.
describe('odd spellings of a path (raw request targets)', () => {
  it('Next redirects `//`, `\\` and a trailing slash before the proxy; the redirect target is guarded', async () => {
    for (const target of ['/api//admin/stats', '/api/admin\\stats', '/api/admin/stats/']) {
      const res = await raw(port, target);
      expect(res.status, target).toBe(308);
      expect(res.headers.location, target).toBe('/api/admin/stats');
    }
    expect((await raw(port, '/api/admin/stats')).status).toBe(401);
  });

  it('Next routes paths case-sensitively and an encoded slash as a character: no other spelling reaches a guarded handler', async () => {
    const admin = bearer(seed.admin);
    expect((await raw(port, '/api/admin/stats', admin)).status).toBe(200);
    for (const target of ['/API/admin/stats', '/api/ADMIN/stats', '/api/admin/STATS', '/api/admin%2Fstats', '/api/%61dmin/stats']) {
      expect((await raw(port, target, admin)).status, target).toBe(404);
    }
    // the proxy matches decoded segments, so the %61 spelling is still held to the admin rule
    expect((await raw(port, '/api/%61dmin/stats', bearer(seed.reader))).status).toBe(403);
  });

  it('the proxy refuses spellings a handler could walk: ..%2F, %5C, double-encoded dots', async () => {
    for (const target of ['/api/public/..%2Fadmin%2Fstats', '/api/public/..%5Cadmin', '/api/public/%252e%252e/admin/stats', '/share/..%2Fapi%2Ffiles%2Fq3.pdf']) {
      const res = await raw(port, target);
      expect(res.status, target).toBe(400);
      expect(res.headers['www-authenticate'], target).toContain('error="invalid_request"');
    }
  });
});

describe('a share link opens its own resource only (raw request targets)', () => {
  const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token')!;

  it('walked and encoded spellings of a download link: refused, unspent; Next resolves dot segments before routing', async () => {
    const t = tokenOf(seed.walkFile); // bound to /api/files/walk.pdf, one use
    for (const target of [`/api/admin/..%5Cfiles/walk.pdf?token=${t}`, `/api/files/x%2F..%2Fwalk.pdf?token=${t}`, `/api/files/walk.pdf%5C?token=${t}`]) {
      expect((await raw(port, target)).status, target).toBe(400); // the proxy
    }
    // resolved by Next to /api/files/other.pdf: another resource, refused by the handler
    const other = await raw(port, `/api/files/walk.pdf/../other.pdf?token=${t}`);
    expect(other.status).toBe(401);
    expect(other.headers['www-authenticate']).toContain('error="invalid_token"');
    // Next resolves /api/admin/%2e%2e/files/walk.pdf to /api/files/walk.pdf before routing: the
    // admin route never runs, and the handler, the page and the proxy see only the resolved path
    // (the raw target is not available to them). The link opens what it was issued for.
    const own = await raw(port, `/api/admin/%2e%2e/files/walk.pdf?token=${t}`);
    expect(own.status).toBe(200);
    expect(own.headers['content-disposition']).toBe('attachment; filename="walk.pdf"');
    expect((await raw(port, `/./api/files/walk.pdf?token=${t}`)).status).toBe(401); // spent
  });

  it('share pages: params arrive percent-encoded; a link for /share/a%252Fb never opens /share/a%2Fb', async () => {
    const literal = tokenOf(seed.sharePageLiteral); // bound to /share/a%252Fb (the id "a%2Fb")
    const wrong = await raw(port, `/share/a%2Fb?lang=en&token=${literal}`); // the id "a/b"
    expect(wrong.status).toBe(401);
    const right = await raw(port, seed.sharePageLiteral);
    expect(right.status).toBe(200);
    expect(right.headers['referrer-policy']).toBe('no-referrer');

    const cafe = await raw(port, seed.sharePageCafe); // /share/caf%C3%A9
    expect(cafe.status).toBe(200);
    expect(cafe.body).toContain('Shared report: <!-- -->caf%C3%A9');
  });

  it('share pages whose id needs encoding (a space, a slash, non-ASCII) open with the documented recipe', async () => {
    const space = await raw(port, seed.sharePageSpace); // /share/a%20b%2Fc: one segment, "a b/c"
    expect(space.status).toBe(200);
    expect(space.body).toContain('Shared report: <!-- -->a%20b%2Fc');
    expect((await raw(port, seed.sharePageSpace)).status).toBe(401); // one use

    const resume = await raw(port, seed.sharePageResume); // /share/r%C3%A9sum%C3%A9
    expect(resume.status).toBe(200);
    expect(resume.body).toContain('Shared report: <!-- -->r%C3%A9sum%C3%A9');

    // issued with the raw characters: a browser sends them UTF-8 percent-encoded, in either hex case
    const resumeRaw = new URL(seed.sharePageResumeRaw, 'http://x');
    const target = `${resumeRaw.pathname}${resumeRaw.search}`;
    expect(target.startsWith('/share/r%C3%A9sum%C3%A9?')).toBe(true);
    expect((await raw(port, target)).status).toBe(200);
    expect((await raw(port, target.replace(/%C3%A9/g, '%c3%a9'))).status).toBe(200);
    // another page's id with the same letters is another page
    expect((await raw(port, target.replace('r%C3%A9sum%C3%A9', 'resume'))).status).toBe(401);
  });

  it('getToken / requireToken never take a share link from the URL', async () => {
    const t = tokenOf(seed.shareFile);
    for (const target of [`/account?token=${t}`, `/x/../account?token=${t}`]) {
      const res = await raw(port, target);
      expect(res.status, target).toBe(401);
      expect(res.body).toContain('401: not signed in');
    }
  });
});

describe('share-link sessions (exchange)', () => {
  const sessionCookie = (res: { headers: Record<string, string | string[] | undefined> }, name: string) =>
    ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));

  it('proxy.ts exchanges a page link: 303 without the token, a session cookie, and the page renders for the guest', async () => {
    const res = await raw(port, seed.sharedPage);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/shared/s1');
    const cookie = sessionCookie(res, 'share_session')!;
    expect(cookie).toMatch(/; Path=\/shared\/s1; Max-Age=\d+; HttpOnly; SameSite=Lax/);
    const page = await raw(port, '/shared/s1', { cookie: cookie.split(';')[0]! });
    expect(page.status).toBe(200);
    expect(page.body).toContain('A <!-- -->session<!-- --> holding <!-- -->reports:read');
    // the session opens its own page only, and the link was spent by the exchange
    expect((await raw(port, '/shared/s2', { cookie: cookie.split(';')[0]! })).status).toBe(401);
    expect((await raw(port, seed.sharedPage)).status).toBe(401);
    expect((await raw(port, '/shared/s1')).status).toBe(401);
  });

  it('exchangeRoute: a confirm page first (nothing spent), its POST exchanges, the session downloads', async () => {
    for (let i = 0; i < 2; i++) {
      const preview = await raw(port, seed.sharedFile);
      expect(preview.status).toBe(200);
      expect(preview.body).toContain('<form method="post"');
    }
    const posted = await raw(port, seed.sharedFile, { 'content-length': '0' }, 'POST');
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe('/api/shared-files/notes.txt');
    const cookie = sessionCookie(posted, 'file_session')!.split(';')[0]!;
    const file = await raw(port, '/api/shared-files/notes.txt', { cookie });
    expect([file.status, file.body]).toEqual([200, 'demo contents of notes.txt']);
    expect((await raw(port, '/api/shared-files/other.txt', { cookie })).status).toBe(401);
    expect((await raw(port, seed.sharedFile, { 'content-length': '0' }, 'POST')).status).toBe(401);
  });
});

describe('origin (checkOrigin) over raw HTTP', () => {
  const path = (url: string) => url.slice(url.indexOf('/', 'http://'.length));

  it('a link bound to tenant-a.test opens on that Host only; an absolute-form target never decides the origin', async () => {
    const onA = path(seed.tenantFile); // /api/files/tenant.pdf?token=…
    expect((await raw(port, onA, { host: 'tenant-b.test' })).status).toBe(401);
    expect((await raw(port, onA, { host: 'tenant-b.test', 'x-forwarded-host': 'tenant-a.test' })).status).toBe(401);
    // GET http://tenant-a.test/… HTTP/1.1 to tenant-b.test: Next 16 redirects absolute-form
    // targets (their `//`) before routing, so no handler sees it; nothing is spent
    const absolute = await raw(port, seed.tenantFile, { host: 'tenant-b.test' });
    expect(absolute.status).toBe(308);
    expect(absolute.headers.location).toBe(seed.tenantFile);

    const ok = await raw(port, onA, { host: 'tenant-a.test' });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-disposition']).toBe('attachment; filename="tenant.pdf"');
    expect((await raw(port, onA, { host: 'tenant-a.test' })).status).toBe(401); // one use
  });
});
