import { createInterface } from 'node:readline';
import { type Invalidation, type TokenStore, createTokenAccess } from '@tokenaccess/core';

/**
 * The body of a child process with the verify cache on, for the cross-process invalidation tests
 * and bench/cache (the Redis and Postgres workers differ only in their store and feed). Prints
 * `ready` once the feed is up, then answers one JSON command per stdin line with one JSON line:
 *
 * - `{ op: 'verify', token }` → `{ code, reads }` (reads: store calls it made; 0 when cached)
 * - `{ op: 'warm', token, max }` → verifies until one is served from the cache: `{ code, cached }`
 * - `{ op: 'burst', token, n }` → counts per code of n parallel verifies
 * - `{ op: 'until', token, code, max }` → verifies (yielding between) until `code` (or one of
 *   several) is answered or `max` ms pass: `{ code, at }` (`at`: epoch ms with µs, when it
 *   was first answered)
 * - `{ op: 'state' }` → `{ state }` of the feed
 * - `{ op: 'exit' }` → closes the feed, then `close()`, then exits
 */
export async function serveCacheWorker(options: {
  store: TokenStore;
  feed: Invalidation & { state: string; close(): Promise<void> };
  ttl: number;
  downTtl: number;
  close: () => Promise<void>;
}): Promise<never> {
  const { feed, store: inner } = options;
  // store reads counted, so a test can see that a verify was answered by the cache
  let reads = 0;
  const store: TokenStore = Object.assign(Object.create(inner) as TokenStore, {
    consume: (...a: Parameters<TokenStore['consume']>) => (reads++, inner.consume(...a)),
    findByHash: (h: string) => (reads++, inner.findByHash(h)),
  });
  const tokens = createTokenAccess({ store, timeout: 30_000, cache: { ttl: options.ttl, downTtl: options.downTtl, invalidation: feed } });
  const now = () => performance.timeOrigin + performance.now();
  const code = async (token: string) => {
    const r = await tokens.verify(token);
    return r.ok ? 'ok' : r.error.code;
  };

  await new Promise<void>((resolve) => {
    feed.subscribe(() => {}, (s) => s === 'up' && resolve());
  });
  process.stdout.write('ready\n');

  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { op: string; token: string; n?: number; code?: string | string[]; max?: number };
    let out: unknown;
    if (cmd.op === 'verify') {
      const before = reads;
      out = { code: await code(cmd.token), reads: reads - before };
    } else if (cmd.op === 'state') out = { state: feed.state };
    else if (cmd.op === 'burst') {
      const counts: Record<string, number> = {};
      for (const c of await Promise.all(Array.from({ length: cmd.n! }, () => code(cmd.token)))) counts[c] = (counts[c] ?? 0) + 1;
      out = counts;
    } else if (cmd.op === 'warm') {
      // until a verify is answered by the cache (the token's own issue message may still be on
      // its way, and drops what was read before it arrived)
      const end = now() + (cmd.max ?? 10_000);
      let before: number;
      let c: string;
      do {
        before = reads;
        c = await code(cmd.token);
        if (reads === before) break;
        await new Promise((r) => setTimeout(r, 5));
      } while (now() < end);
      out = { code: c, cached: reads === before };
    } else if (cmd.op === 'until') {
      const end = now() + cmd.max!;
      const want = Array.isArray(cmd.code) ? cmd.code : [cmd.code];
      let c = await code(cmd.token);
      while (!want.includes(c) && now() < end) {
        await new Promise((r) => setImmediate(r));
        c = await code(cmd.token);
      }
      out = { code: c, at: now() };
    } else if (cmd.op === 'exit') break;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
  await feed.close();
  await options.close();
  process.exit(0);
}

/**
 * Starts a worker file that calls {@link serveCacheWorker} (run by `node --import tsx` with the
 * given tsconfig) and waits for its `ready`; `send` writes one command and reads its answer.
 */
export async function startCacheWorker(options: { file: string; tsconfig: string; cwd?: string; env: Record<string, string | undefined> }) {
  const { spawn } = await import('node:child_process');
  const proc = spawn(process.execPath, ['--import', 'tsx', options.file], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, TSX_TSCONFIG_PATH: options.tsconfig, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout });
  const queue: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift()!.resolve(l) : queue.push(l)));
  // one exit listener for the worker's life (one per command piled up past the emitter's limit)
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`worker exited with ${code}: ${stderr}`));
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      if (queue.length) return resolve(queue.shift()!);
      if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`worker exited with ${proc.exitCode ?? proc.signalCode}: ${stderr}`));
      waiting.push({ resolve, reject });
    });
  const first = await next();
  if (first !== 'ready') throw new Error(`worker said ${JSON.stringify(first)} instead of ready: ${stderr}`);
  const send = async <T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T> => {
    proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    return JSON.parse(await next()) as T;
  };
  return { send, kill: () => proc.kill('SIGKILL') };
}
