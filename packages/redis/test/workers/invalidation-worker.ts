/**
 * A separate process with the verify cache on, for the cross-process invalidation tests and
 * bench/cache: a redisStore on REDIS_URL (KEY_PREFIX) whose cache listens on redisInvalidation
 * (CHANNEL), its subscriber through SUB_PORT when given (a fault proxy the test cuts), with
 * TTL / DOWN_TTL / HEARTBEAT. Prints `ready` once the feed is up, then answers one JSON
 * command per stdin line with one JSON line:
 *
 * - `{ op: 'verify', token }` → `{ code, reads }` (reads: store calls it made; 0 when cached)
 * - `{ op: 'warm', token, max }` → verifies until one is served from the cache: `{ code, cached }`
 * - `{ op: 'burst', token, n }` → counts per code of n parallel verifies
 * - `{ op: 'until', token, code, max }` → verifies (yielding between) until `code` (or one of
 *   several) is answered or `max` ms pass: `{ code, at }` (`at`: epoch ms with µs, when it
 *   was first answered)
 * - `{ op: 'state' }` → `{ state }` of the feed
 *
 * Run with `node --import tsx` and TSX_TSCONFIG_PATH pointing at this folder's tsconfig.
 */
import { createInterface } from 'node:readline';
import { createTokenAccess } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Redis } from 'ioredis';
import { redisInvalidation } from '../../src/invalidation';

const env = process.env as Record<string, string | undefined>;
const client = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1, commandTimeout: 30_000, enableAutoPipelining: true });
const subscriber = env.SUB_PORT ? new Redis({ host: '127.0.0.1', port: Number(env.SUB_PORT), maxRetriesPerRequest: 1, retryStrategy: () => 100 }) : undefined;
const feed = redisInvalidation({ client, channel: env.CHANNEL!, heartbeat: Number(env.HEARTBEAT ?? 5000), ...(subscriber ? { subscriber } : {}) });
// store reads counted, so a test can see that a verify was answered by the cache
let reads = 0;
const inner = redisStore({ client, keyPrefix: env.KEY_PREFIX!, timeout: 30_000 });
const store: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
  consume: (...a: Parameters<typeof inner.consume>) => (reads++, inner.consume(...a)),
  findByHash: (h: string) => (reads++, inner.findByHash(h)),
});
const tokens = createTokenAccess({
  store,
  timeout: 30_000,
  cache: { ttl: Number(env.TTL ?? 3_600_000), downTtl: Number(env.DOWN_TTL ?? 1000), invalidation: feed },
});

const now = () => performance.timeOrigin + performance.now();
const code = async (token: string) => {
  const r = await tokens.verify(token);
  return r.ok ? 'ok' : r.error.code;
};

await new Promise<void>((resolve) => {
  const off = feed.subscribe(() => {}, (s) => s === 'up' && resolve());
  void off;
});
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; token: string; n?: number; code?: string | string[]; max?: number };
  let out: unknown;
  if (cmd.op === 'verify') {
    const before = reads;
    out = { code: await code(cmd.token), reads: reads - before };
  }
  else if (cmd.op === 'state') out = { state: feed.state };
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
subscriber?.disconnect();
await client.quit();
process.exit(0);
