/**
 * bench/koa: requests per second of one Koa route behind `tokenAuth()` (memory store, one
 * unlimited token: the steady state, where verifying writes nothing) against the same route
 * unprotected, in the same run.
 *
 * 1. Over HTTP: the server runs in a child process so the load generator (autocannon) does not
 *    share its event loop; the cases run in alternation (A B C A B C …), the median round of each
 *    is reported, and the server's user-mode CPU time per request is measured alongside.
 * 2. In process, no network: the cost of the middleware per request against core's
 *    `tokens.verify` alone, so what the adapter adds is visible apart from what core costs.
 *
 *   npx tsx bench/koa/index.ts            # 3 rounds × 5 s per case, 50 connections
 *   ROUNDS=5 SECONDS=10 CONNECTIONS=100 npx tsx bench/koa/index.ts
 *
 * Imports the built packages: run `npx turbo run build --filter=@tokenaccess/koa...` first.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Context } from 'koa';
import { compare, header, ratio, table } from '../lib';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const TARGET = 0.85;

interface Ready {
  port: number;
  token: string;
}

/** One app, the token service and the handler every case shares. */
async function build() {
  const { default: Koa } = await import('koa');
  const { createTokenAccess, memoryStore } = await import('@tokenaccess/core');
  const { requireScopes, tokenAuth } = await import('@tokenaccess/koa');
  const tokens = createTokenAccess({ store: memoryStore() });
  const { token } = await tokens.issue({ subject: 'bench', name: 'bench', scopes: ['users:read'] });
  const auth = tokenAuth({ tokens });
  const scoped = requireScopes('users:read');
  const handler = (ctx: Context) => {
    ctx.body = { users: [{ id: 'alice' }, { id: 'bob' }] };
  };
  const app = new Koa();
  // A plain path switch, so routing costs the same for every case and the difference is auth.
  app.use(async (ctx, next) => {
    if (ctx.path === '/open') return handler(ctx);
    // Node builds `req.headers` lazily: the bare route never does, any route that reads a header does.
    if (ctx.path === '/open-header') return ctx.get('authorization') ? handler(ctx) : ctx.throw(400);
    if (ctx.path === '/protected') return auth(ctx, async () => handler(ctx));
    if (ctx.path === '/scoped') return auth(ctx, () => scoped(ctx, async () => handler(ctx)));
    return next();
  });
  return { app, tokens, token, auth };
}

if (process.env.KOA_BENCH_SERVER) {
  const { app, token } = await build();
  const server = app.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as AddressInfo).port, token } satisfies Ready);
  });
  process.on('message', () => process.send!(process.cpuUsage()));
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
} else {
  header(`bench/koa — a route behind tokenAuth vs the same route unprotected`);
  await overHttp();
  await inProcess();
}

async function overHttp(): Promise<void> {
  type Result = { requests: { average: number }; non2xx: number; errors: number; latency: { p99: number } };
  // autocannon ships no types (and @types/autocannon is not installed): import it untyped.
  const name = 'autocannon';
  const { default: autocannon } = (await import(name)) as { default: (o: object) => Promise<Result> };
  console.log(`### over HTTP: ${ROUNDS} rounds × ${SECONDS} s per case, alternating, ${CONNECTIONS} connections, medians\n`);
  const child = fork(process.argv[1]!, [], { env: { ...process.env, KOA_BENCH_SERVER: '1' }, stdio: 'inherit' });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${ready.port}`;
  const auth = { authorization: `Bearer ${ready.token}` };
  const cases = [
    { name: 'unprotected', path: '/open', headers: {} },
    { name: 'unprotected, reads the header', path: '/open-header', headers: auth },
    { name: 'tokenAuth', path: '/protected', headers: auth },
    { name: 'tokenAuth + requireScopes', path: '/scoped', headers: auth },
  ];
  // The server's user-mode CPU per request: what the middleware adds, less skewed than req/s by
  // whatever else the machine runs (kernel time, i.e. socket writes, is left out).
  const cpu = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve((m as NodeJS.CpuUsage).user));
      child.send('cpu');
    });
  const run = async (c: (typeof cases)[number], seconds: number) => {
    const before = await cpu();
    const r = await autocannon({ url: base + c.path, connections: CONNECTIONS, duration: seconds, headers: c.headers });
    const used = (await cpu()) - before;
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${c.name}: ${r.non2xx} non-2xx responses, ${r.errors} errors`);
    return { rps: r.requests.average, p99: r.latency.p99, cpu: used / (r.requests.average * seconds) };
  };
  try {
    for (const c of cases) await run(c, 2); // warm-up: JIT, and lastUsedAt written once
    const samples = new Map(cases.map((c) => [c.name, [] as { rps: number; p99: number; cpu: number }[]]));
    for (let round = 0; round < ROUNDS; round++) for (const c of cases) samples.get(c.name)!.push(await run(c, SECONDS));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const med = new Map([...samples].map(([k, v]) => [k, { rps: median(v.map((s) => s.rps)), p99: median(v.map((s) => s.p99)), cpu: median(v.map((s) => s.cpu)), all: v.map((s) => Math.round(s.rps)) }]));
    const open = med.get('unprotected')!;
    table([
      ['route', 'req/s (median)', 'rounds (req/s)', 'p99 ms', 'server user CPU µs/req', 'ratio req/s (target)', 'ratio by CPU/req'],
      ...cases.map((c) => {
        const m = med.get(c.name)!;
        const isAuth = c.name.startsWith('tokenAuth');
        const r = m.rps / open.rps;
        return [c.name, m.rps, m.all.join(' / '), m.p99, m.cpu, isAuth ? ratio(r, TARGET) : r.toFixed(2), (open.cpu / m.cpu).toFixed(2)];
      }),
    ]);
  } finally {
    child.disconnect();
  }
}

async function inProcess(): Promise<void> {
  console.log('\n### in process, no network: cost per request of the auth step alone (interleaved rounds, medians)\n');
  const { app, tokens, token, auth } = await build();
  // Real Koa contexts on real (unconnected) Node request/response objects, reused round-robin.
  const contexts = Array.from({ length: 1000 }, () => {
    const req = new http.IncomingMessage(new net.Socket());
    req.headers = { host: '127.0.0.1:3000', authorization: `Bearer ${token}`, 'user-agent': 'bench', accept: '*/*' };
    req.url = '/protected';
    req.method = 'GET';
    return app.createContext(req, new http.ServerResponse(req));
  });
  const ctxAt = (i: number) => {
    const ctx = contexts[i % contexts.length]!;
    ctx.state = {};
    return ctx;
  };
  const next = async () => {};
  const results = await compare(
    [
      { name: 'core verify', run: async (i) => void (await tokens.verify(ctxAt(i).get('authorization').slice(7))) },
      { name: 'tokenAuth', run: (i) => auth(ctxAt(i), next) },
    ],
    { concurrency: 1, ms: 1000, rounds: 5 },
  );
  const verify = results.get('core verify')!;
  const mw = results.get('tokenAuth')!;
  table([
    ['step', 'ops/s', 'µs/request', 'added over core verify'],
    ['core `tokens.verify(raw)`', verify, 1e6 / verify, '—'],
    ['`tokenAuth()` middleware', mw, 1e6 / mw, `${(1e6 / mw - 1e6 / verify).toFixed(2)} µs`],
  ]);
}
